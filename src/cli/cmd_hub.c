/* cmd_hub.c - `hashspace hub`: run a hub (ingress, claim, consumers,
 * metrics) until SIGTERM/SIGINT, or check a config file without starting. */
#include "cli_util.h"
#include "commands.h"

#include "config.h"
#include "hub.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void hub_usage(FILE *out)
{
    fputs("usage: hashspace hub --connect ENDPOINT --self NAME --members LIST\n"
          "                     --consumer [NAME@][GLOB=]KIND:ARG ... [OPTIONS]\n"
          "       hashspace hub --connect ENDPOINT --self NAME --coordinator redis://HOST:PORT\n"
          "                     --cluster NAME --consumer ... [OPTIONS]\n"
          "       hashspace hub --config FILE [OPTIONS]\n"
          "       hashspace hub --check-config FILE\n\n"
          "Receive fedmsg-format messages [topic, body] from a ZeroMQ bus, keep those whose key\n"
          "this member owns, and hand each to every local consumer whose topic glob matches.\n"
          "Runs until SIGTERM or SIGINT, then drains the queues and exits 0.\n\n",
          out);
    hs__config_usage(out);
    fputs("  --config FILE           read options from an INI file first ([hub], [consumer NAME])\n"
          "  --check-config FILE     validate FILE (and the other options), print the effective\n"
          "                          configuration, exit 0 or 1\n"
          "  -h, --help              this text\n\n"
          "Example:\n"
          "  hashspace hub --connect tcp://127.0.0.1:9940 --self hub-a --members hub-a,hub-b \\\n"
          "      --key json:/msg/user --consumer 'org.*=file:out.jsonl'\n",
          out);
}

enum { OPT_CONFIG = 1000, OPT_CHECK, OPT_HELP_KEYS };

int hs_cmd_hub(int argc, char **argv)
{
    /* The hub's options from the config table, then the file and help. */
    struct option options[HS__CONFIG_OPTIONS_MAX + 5];
    size_t n = hs__config_long_options(options, HS__CONFIG_OPTIONS_MAX);
    options[n++] = (struct option){"config", required_argument, NULL, OPT_CONFIG};
    options[n++] = (struct option){"check-config", required_argument, NULL, OPT_CHECK};
    options[n++] = (struct option){"help", no_argument, NULL, 'h'};
    /* Not in --help: the option table for the manual pages. */
    options[n++] = (struct option){"help-keys", no_argument, NULL, OPT_HELP_KEYS};
    options[n] = (struct option){NULL, 0, NULL, 0};
    const char *config = NULL;
    bool check = false;
    int opt, index;
    /* First pass: the file, whose settings the other options override. */
    optind = 0;
    opterr = 1;
    while ((opt = getopt_long(argc, argv, "h", options, &index)) != -1) {
        if (opt == OPT_CONFIG || opt == OPT_CHECK) {
            config = optarg;
            check |= opt == OPT_CHECK;
        } else if (opt == 'h') {
            hub_usage(stdout);
            return 0;
        } else if (opt == OPT_HELP_KEYS) {
            hs__config_keys(stdout);
            return 0;
        } else if (opt == '?') {
            hub_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        hs_cli_error("unexpected argument '%s' (consumers go after --consumer)", argv[optind]);
        return 2;
    }
    hs__hub_config cfg;
    hs__config_init(&cfg);
    int errors = 0;
    if (config != NULL)
        errors += hs__config_load(&cfg, config, stderr);
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", options, &index)) != -1) {
        if (opt != 0)
            continue;
        char err[512];
        if (hs__config_set(&cfg, options[index].name, optarg, 0, err, sizeof err) != 0) {
            hs_cli_error("--%s", err);
            errors++;
        }
    }
    /* Check even after errors, to report every problem at once. */
    errors += hs__config_check(&cfg, stderr);
    int status;
    if (check) {
        if (errors == 0)
            hs__config_print(&cfg, stdout);
        else
            hs_cli_error("%s: %d error%s", config, errors, errors == 1 ? "" : "s");
        status = errors == 0 ? 0 : 1;
    } else if (errors > 0) {
        status = 2;
    } else {
        status = hs__hub_run(&cfg);
    }
    hs__config_free(&cfg);
    return status;
}
