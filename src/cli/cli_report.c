/* cli_report.c - the report of a measuring command: see cli_report.h. */
#include "cli_report.h"

#include "cli_util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int hs_cli_without_bench(const char *command, int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: hashspace %s [OPTIONS]\n\n"
                   "This hashspace was built without benchmarks (-DHS_BUILD_BENCH=OFF): rebuild\n"
                   "with -DHS_BUILD_BENCH=ON (the default) to use %s.\n",
                   command, command);
            return 0;
        }
    /* hs_cli_error's prefix names the command */
    hs_cli_error("this hashspace was built without benchmarks (-DHS_BUILD_BENCH=OFF)");
    return 2;
}

#if HS_HAVE_BENCH
bool hs_cli_report_option(int opt, const char *arg, hs_cli_report_opts *o)
{
    switch (opt) {
    case 'q':
        o->quick = true;
        return true;
    case 'j':
        o->format = BENCH_JSON;
        return true;
    case 'c':
        o->format = BENCH_CSV;
        return true;
    case 'o':
        o->outdir = arg;
        return true;
    default:
        return false;
    }
}

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
