/* cmd_balance.c - `hashspace balance`: how evenly keys (the English word
 * list by default) split over N servers by first letter, by each hash and by
 * each placement method, with peak-to-mean, standard deviation and a
 * chi-square test. The experiment lives in bench/balance.c. */
#include "cli_report.h"
#include "cli_util.h"
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#if HS_HAVE_BENCH
#include "bench.h"

static void balance_usage(FILE *out)
{
    fprintf(
        out,
        "usage: hashspace balance [--servers N] [--key-file FILE | --generate COUNT] [--quick]\n"
        "                         [--json|--csv] [--out DIR]\n\n"
        "Split a list of keys over N servers and show how even the split is: by first\n"
        "letter (contiguous alphabet ranges, and letter index mod N), by every hash mod N,\n"
        "and by every placement method on xxh3. For each: %% of keys per server, min,\n"
        "max, peak-to-mean (max / mean), standard deviation, and Pearson's chi-square\n"
        "against a uniform split with its exact p-value.\n\n"
        "  --servers N        number of servers (default 4)\n"
        "  --key-file FILE    one key per line (default /usr/share/dict/words); --keys,\n"
        "                     its old name, is deprecated (it is a count elsewhere)\n"
        "  --generate COUNT   use COUNT synthetic keys key-0, key-1, ... instead\n"
        "  --quick            at most 20000 keys: a smoke run\n"
        "  --json, --csv      machine-readable output (default: text tables)\n"
        "  --out DIR          also write every table to DIR/<table>.csv\n"
        "  -h, --help         this text\n\n"
        "Examples:\n"
        "  hashspace balance\n"
        "  hashspace balance --servers 10 --generate 1M\n");
}

int hs_cmd_balance(int argc, char **argv)
{
    static const struct option options[] = {
        {"servers", required_argument, NULL, 's'},
        {"key-file", required_argument, NULL, 'k'},
        {"generate", required_argument, NULL, 'g'},
        HS_CLI_REPORT_OPTIONS,
        /* The old name, an alias until the next release. */
        {"keys", required_argument, NULL, 'K'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bench_balance_opts o = {.servers = 4};
    hs_cli_report_opts report = {.format = BENCH_TEXT};
    unsigned long long v;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (hs_cli_report_option(opt, optarg, &report))
            continue;
        switch (opt) {
        case 's':
            if (hs_cli_parse_count("--servers", optarg, &v) != 0)
                return 2;
            if (v < 1 || v > 100000) {
                hs_cli_error("--servers: %llu is out of range (1 to 100000)", v);
                return 2;
            }
            o.servers = (size_t)v;
            break;
        case 'K':
            hs_cli_deprecated("keys", "key-file");
            /* fall through */
        case 'k':
            o.keys_file = optarg;
            break;
        case 'g':
            if (hs_cli_parse_count("--generate", optarg, &v) != 0)
                return 2;
            if (v < 1) {
                hs_cli_error("--generate: give at least one key");
                return 2;
            }
            o.generate = (size_t)v;
            break;
        case 'h':
            balance_usage(stdout);
            return 0;
        default:
            balance_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        hs_cli_error("unexpected argument '%s' (keys come from --key-file FILE)", argv[optind]);
        return 2;
    }
    if (o.keys_file != NULL && o.generate > 0) {
        hs_cli_error("--key-file and --generate exclude each other");
        return 2;
    }
    int open_status;
    bench_report *r = hs_cli_report_open(report.format, "balance", report.outdir, &open_status);
    if (r == NULL)
        return open_status;
    o.quick = report.quick;
    int status = bench_balance_run(r, &o);
    return hs_cli_report_close(r, "balance", status);
}

#else

int hs_cmd_balance(int argc, char **argv)
{
    return hs_cli_without_bench("balance", argc, argv);
}

#endif
