/* cli_report.h - opening and closing the report of a measuring command
 * (bench, balance, movement): the --out directory, the errors, the exit
 * status. */
#ifndef HS_CLI_REPORT_H
#define HS_CLI_REPORT_H

/* What `bench`, `balance` and `movement` say when built without the
 * benchmarks (-DHS_BUILD_BENCH=OFF); returns the exit status. */
int hs_cli_without_bench(const char *command, int argc, char **argv);

#if HS_HAVE_BENCH
#include "bench.h"

#include <getopt.h>
#include <stdbool.h>

/* The options every measuring command takes: --quick, --json, --csv and
 * --out DIR. Put HS_CLI_REPORT_OPTIONS in the getopt_long table and hand
 * every option to hs_cli_report_option before the command's own. */
typedef struct hs_cli_report_opts {
    bench_format format; /* BENCH_TEXT unless --json or --csv */
    const char *outdir;  /* --out, or NULL */
    bool quick;
} hs_cli_report_opts;

/* clang-format off */
#define HS_CLI_REPORT_OPTIONS                                                                      \
    {"quick", no_argument, NULL, 'q'}, {"json", no_argument, NULL, 'j'},                           \
    {"csv", no_argument, NULL, 'c'}, {"out", required_argument, NULL, 'o'}
/* clang-format on */

/* True when opt (getopt_long's answer, arg its optarg) is one of those;
 * *o then records it. */
bool hs_cli_report_option(int opt, const char *arg, hs_cli_report_opts *o);

/* Create --out DIR when given and open the report. On failure print why, set
 * *exit_status (2: --out cannot be created, 1: out of memory) and return
 * NULL. */
bench_report *hs_cli_report_open(bench_format format, const char *command, const char *outdir,
                                 int *exit_status);
/* Finish the report: returns status, or 1 when writing failed (printed,
 * naming the command). */
int hs_cli_report_close(bench_report *r, const char *name, int status);
#endif

#endif
