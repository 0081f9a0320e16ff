/* cli_report.h - opening and closing the report of a measuring command
 * (bench, balance, movement): the --out directory, the errors, the exit
 * status. */
#ifndef HS_CLI_REPORT_H
#define HS_CLI_REPORT_H

#if HS_HAVE_BENCH
#include "bench.h"

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
