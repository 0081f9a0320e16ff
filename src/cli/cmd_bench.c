/* cmd_bench.c - `hashspace bench hashes|placement|peers|all`: speed of every
 * hash and placement method, comparisons with peers, and `all`, which runs
 * every experiment (with `balance` and `movement`) and writes one CSV per
 * table for the plots (bench/plots.sh). The measurements live in bench/. */
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

static void bench_usage(FILE *out)
{
    fprintf(out, "usage: hashspace bench WHAT [--quick] [--json|--csv] [--out DIR] [OPTIONS]\n\n"
                 "Measure, on this machine, every registered hash and placement method.\n\n"
                 "WHAT:\n"
                 "  hashes      ns per hash and GB/s for keys of 8 B, 64 B, 256 B, 1 KiB, 4 KiB,\n"
                 "              64 KiB\n"
                 "  placement   ns per lookup at 10 .. 10^6 members, time to build a view, to add\n"
                 "              and to remove a member, memory per member\n"
                 "  peers       ketama vs libmemcached, jump vs the paper's code, the claim vs\n"
                 "              the original Python scheme (runs python3)\n"
                 "  all         everything above plus `balance` (word list over 4 servers, and 1M\n"
                 "              synthetic keys over 10) and `movement`; use with --out DIR\n\n"
                 "Options:\n"
                 "  --quick             a tiny smoke run (seconds)\n"
                 "  --json, --csv       machine-readable output on stdout (default: text tables)\n"
                 "  --out DIR           also write every table to DIR/<table>.csv (created)\n"
                 "  --max-members N     placement: largest member count (default 1M)\n"
                 "  --budget SECONDS    placement: skip sizes whose build would take longer\n"
                 "                      (default 10)\n"
                 "  --keys N            peers: keys for the ketama comparison (default 1M)\n"
                 "  --messages N        peers: fedmsg-like messages for the claim (default 20k)\n"
                 "  --python PATH       peers: the Python to run (default /usr/bin/python3)\n"
                 "  -h, --help          this text\n\n"
                 "Progress goes to stderr when it is a terminal. Figures are medians of several\n"
                 "runs; on a busy machine, compare the ratios of one run rather than runs.\n\n"
                 "Examples:\n"
                 "  hashspace bench hashes\n"
                 "  hashspace bench placement --json > placement.json\n"
                 "  hashspace bench all --out bench-results\n");
}

static int count_opt(const char *name, const char *text, size_t *out)
{
    unsigned long long v;
    if (hs_cli_parse_count(name, text, &v) != 0)
        return -1;
    *out = (size_t)v;
    return 0;
}

int hs_cmd_bench(int argc, char **argv)
{
    static const struct option options[] = {
        HS_CLI_REPORT_OPTIONS,
        {"max-members", required_argument, NULL, 'M'},
        {"budget", required_argument, NULL, 'B'},
        {"keys", required_argument, NULL, 'k'},
        {"messages", required_argument, NULL, 'm'},
        {"python", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    hs_cli_report_opts report = {.format = BENCH_TEXT};
    bench_placement_opts place = {0};
    bench_peers_opts peers = {0};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (hs_cli_report_option(opt, optarg, &report))
            continue;
        switch (opt) {
        case 'M':
            if (count_opt("--max-members", optarg, &place.max_n) != 0)
                return 2;
            break;
        case 'B': {
            char *end;
            place.build_budget_s = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || !(place.build_budget_s > 0)) {
                hs_cli_error("--budget: '%s' is not a positive number of seconds", optarg);
                return 2;
            }
            break;
        }
        case 'k':
            if (count_opt("--keys", optarg, &peers.keys) != 0)
                return 2;
            break;
        case 'm':
            if (count_opt("--messages", optarg, &peers.messages) != 0)
                return 2;
            break;
        case 'p':
            peers.python = optarg;
            break;
        case 'h':
            bench_usage(stdout);
            return 0;
        default:
            bench_usage(stderr);
            return 2;
        }
    }
    if (optind + 1 != argc) {
        hs_cli_error(optind == argc ? "bench: say what to measure: hashes, placement, peers or all"
                                    : "bench: one thing to measure at a time (got '%s' after "
                                      "'%s')",
                     argv[optind + (optind < argc)], argv[optind]);
        return 2;
    }
    const char *what = argv[optind];
    bool quick = report.quick;
    bool all = strcmp(what, "all") == 0;
    if (!all && strcmp(what, "hashes") != 0 && strcmp(what, "placement") != 0 &&
        strcmp(what, "peers") != 0) {
        hs_cli_error("unknown benchmark '%s' (expected hashes, placement, peers or all)", what);
        return 2;
    }
    char command[64];
    snprintf(command, sizeof command, "bench %s%s", what, quick ? " --quick" : "");
    int open_status;
    bench_report *r = hs_cli_report_open(report.format, command, report.outdir, &open_status);
    if (r == NULL)
        return open_status;
    place.quick = peers.quick = quick;
    int status = 0;
    if (all || strcmp(what, "hashes") == 0) {
        bench_hashes_opts o = {.quick = quick};
        status |= bench_hashes_run(r, &o);
    }
    if (all || strcmp(what, "placement") == 0)
        status |= bench_placement_run(r, &place);
    if (all) {
        bench_balance_opts words = {.quick = quick, .servers = 4};
        status |= bench_balance_run(r, &words);
        bench_report_prefix(r, "synthetic_");
        bench_balance_opts synthetic = {.quick = quick, .servers = 10, .generate = 1000000};
        status |= bench_balance_run(r, &synthetic);
        bench_report_prefix(r, NULL);
        bench_movement_opts moves = {.quick = quick};
        status |= bench_movement_run(r, &moves);
    }
    if (all || strcmp(what, "peers") == 0)
        status |= bench_peers_run(r, &peers);
    return hs_cli_report_close(r, "bench", status);
}

#else

int hs_cmd_bench(int argc, char **argv)
{
    return hs_cli_without_bench("bench", argc, argv);
}

#endif
