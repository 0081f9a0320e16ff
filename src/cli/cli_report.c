/* cli_report.c - the report of a measuring command: see cli_report.h. */
#include "cli_report.h"

#include "cli_util.h"

#include <errno.h>
#include <sys/stat.h>

#if HS_HAVE_BENCH
bench_report *hs_cli_report_open(bench_format format, const char *command, const char *outdir,
                                 int *exit_status)
{
    if (outdir != NULL && mkdir(outdir, 0777) != 0 && errno != EEXIST) {
        hs_cli_error("--out: cannot create directory %s", outdir);
        *exit_status = 2;
        return NULL;
    }
    bench_report *r = bench_report_new(format, command, outdir);
    if (r == NULL) {
        hs_cli_error("out of memory");
        *exit_status = 1;
    }
    return r;
}

int hs_cli_report_close(bench_report *r, const char *name, int status)
{
    if (bench_report_finish(r) != 0) {
        hs_cli_error("%s: writing the results failed", name);
        status = 1;
    }
    return status;
}
#endif
