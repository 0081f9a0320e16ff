/* cmd_movement.c - `hashspace movement`: for every placement method, how
 * many keys change owner when one member joins or leaves, against the ideal,
 * and whether any key moves between two members that stayed. The experiment
 * lives in bench/movement.c. */
#include "cli_report.h"
#include "cli_util.h"
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if HS_HAVE_BENCH
#include "bench.h"

static void movement_usage(FILE *out)
{
    fprintf(out,
            "usage: hashspace movement [--keys COUNT] [--member-counts N[,N...]] [--quick]\n"
            "                          [--json|--csv] [--out DIR]\n\n"
            "For every placement method with n members: the %% of random keys that change\n"
            "owner when a member is added, or when the first, a middle or the last member\n"
            "is removed, against the ideal 1/(n+1) (join) or 1/n (leave); and the %% of\n"
            "keys that moved between two members that both stayed (0 for minimal\n"
            "movement).\n\n"
            "  --keys COUNT       random keys (default 1M)\n"
            "  --member-counts N[,N...]\n"
            "                     member counts, up to 4 (default 10,1000); --members,\n"
            "                     its old name, is deprecated (it is a member list elsewhere)\n"
            "  --quick            20000 keys, 10 and 100 members: a smoke run\n"
            "  --json, --csv      machine-readable output (default: text tables)\n"
            "  --out DIR          also write every table to DIR/<table>.csv\n"
            "  -h, --help         this text\n\n"
            "Example:\n"
            "  hashspace movement --keys 1M --member-counts 10,1000\n");
}

static int parse_sizes(const char *text, size_t sizes[4])
{
    char *copy = strdup(text);
    if (copy == NULL)
        return -1;
    size_t n = 0;
    int rc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok != NULL && rc == 0;
         tok = strtok_r(NULL, ",", &save)) {
        unsigned long long v;
        if (n == 4) {
            hs_cli_error("--member-counts: at most 4 member counts");
            rc = -1;
        } else if (hs_cli_parse_count("--member-counts", tok, &v) != 0) {
            rc = -1;
        } else if (v < 1 || v > 10000000) {
            hs_cli_error("--member-counts: %llu is out of range (1 to 10M)", v);
            rc = -1;
        } else {
            sizes[n++] = (size_t)v;
        }
    }
    free(copy);
    if (rc == 0 && n == 0) {
        hs_cli_error("--member-counts: give at least one member count");
        rc = -1;
    }
    return rc;
}

int hs_cmd_movement(int argc, char **argv)
{
    static const struct option options[] = {
        {"keys", required_argument, NULL, 'k'},
        {"member-counts", required_argument, NULL, 'm'},
        /* The old name, an alias until the next release. */
        {"members", required_argument, NULL, 'M'},
        HS_CLI_REPORT_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bench_movement_opts o = {0};
    hs_cli_report_opts report = {.format = BENCH_TEXT};
    unsigned long long v;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (hs_cli_report_option(opt, optarg, &report))
            continue;
        switch (opt) {
        case 'k':
            if (hs_cli_parse_count("--keys", optarg, &v) != 0)
                return 2;
            if (v < 1) {
                hs_cli_error("--keys: give at least one key");
                return 2;
            }
            o.keys = (size_t)v;
            break;
        case 'M':
            hs_cli_deprecated("members", "member-counts");
            /* fall through */
        case 'm':
            if (parse_sizes(optarg, o.sizes) != 0)
                return 2;
            break;
        case 'h':
            movement_usage(stdout);
            return 0;
        default:
            movement_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        hs_cli_error("unexpected argument '%s'", argv[optind]);
        return 2;
    }
    int open_status;
    bench_report *r = hs_cli_report_open(report.format, "movement", report.outdir, &open_status);
    if (r == NULL)
        return open_status;
    o.quick = report.quick;
    int status = bench_movement_run(r, &o);
    return hs_cli_report_close(r, "movement", status);
}

#else

int hs_cmd_movement(int argc, char **argv)
{
    return hs_cli_without_bench("movement", argc, argv);
}

#endif
