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
    fprintf(
        out,
        "usage: hashspace hub --connect ENDPOINT --self NAME --members LIST\n"
        "                     --consumer [NAME@][GLOB=]KIND:ARG ... [OPTIONS]\n"
        "       hashspace hub --config FILE [OPTIONS]\n"
        "       hashspace hub --check-config FILE\n\n"
        "Receive fedmsg-format messages [topic, body] from a ZeroMQ bus, keep those whose key\n"
        "this member owns, and hand each to every local consumer whose topic glob matches.\n"
        "Runs until SIGTERM or SIGINT, then drains the queues and exits 0.\n\n"
        "Bus:\n"
        "  --connect ENDPOINT    SUB-connect to a publisher (repeatable), e.g. tcp://HOST:9940\n"
        "  --bind ENDPOINT       SUB-bind, for publishers that connect (repeatable)\n"
        "  --subscribe PREFIX    topic prefix to subscribe to (repeatable; default: all)\n"
        "  --max-body SIZE       larger bodies are dead-lettered (default 8M)\n"
        "  --rcv-hwm N           messages ZeroMQ buffers before the bus drops (default 1000000)\n"
        "Claim:\n"
        "  --self NAME           this hub's name among the members\n"
        "  --members LIST        comma-separated name[=weight], the same on every hub\n"
        "  --key SPEC            body (default), topic, or json:/pointer (e.g. json:/msg/user)\n"
        "  --key-fallback SPEC   key for messages whose --key is missing (default: none, such\n"
        "                        messages are dead-lettered), e.g. body\n"
        "  --hash H              %s\n"
        "  --placement P         %s (default: jump)\n"
        "  --hash-key HEX        siphash secret, 32 hex digits\n"
        "Consumers:\n"
        "  --consumer SPEC       [NAME[,OPTION=VALUE...]@][GLOB=]KIND:ARG (repeatable);\n"
        "                        GLOB defaults to *; KIND: exec:COMMAND ARGS...,\n"
        "                        plugin:PATH.so[,ARG], file:PATH, push:ENDPOINT; OPTIONs\n"
        "                        (workers, queue, on_full, timeout, max_tries) override the\n"
        "                        defaults below for this consumer, e.g.\n"
        "                        'slow,queue=100,on_full=drop@org.*=exec:./slow.py'\n"
        "Consumer defaults:\n"
        "  --workers N           worker threads per consumer (default 1; same key, same worker)\n"
        "  --queue-size N        queue slots per worker (default 10000)\n"
        "  --on-full MODE        block (default, lossless) or drop (and count)\n"
        "  --timeout SECONDS     per-message timeout of exec and push consumers\n"
        "  --max-tries N         tries before a message is dead-lettered (default 3)\n"
        "  --dead-letter SINK    file:PATH, stderr or none\n"
        "                        (default file:hashspace-dead-letter-SELF.jsonl)\n"
        "Operation:\n"
        "  --metrics HOST:PORT   Prometheus /metrics, JSON /status and /healthz (default\n"
        "                        127.0.0.1:0, a free port, logged at start); none to disable\n"
        "  --drain-timeout SECS  at SIGTERM, time to finish queued messages (default 10)\n"
        "  --log-level LEVEL     debug, info (default), warn, error\n"
        "  --config FILE         read options from an INI file first ([hub], [consumer NAME])\n"
        "  --check-config FILE   validate FILE (and the other options), print the effective\n"
        "                        configuration, exit 0 or 1\n"
        "  -h, --help            this text\n\n"
        "Example:\n"
        "  hashspace hub --connect tcp://127.0.0.1:9940 --self hub-a --members hub-a,hub-b \\\n"
        "      --key json:/msg/user --consumer 'org.*=file:out.jsonl'\n",
        hs_hash_names(), hs_place_method_names());
}

enum { OPT_CONFIG = 1000, OPT_CHECK, OPT_HELP };

int hs_cmd_hub(int argc, char **argv)
{
    static const struct option options[] = {
        {"connect", required_argument, NULL, 0},
        {"bind", required_argument, NULL, 0},
        {"subscribe", required_argument, NULL, 0},
        {"max-body", required_argument, NULL, 0},
        {"rcv-hwm", required_argument, NULL, 0},
        {"self", required_argument, NULL, 0},
        {"members", required_argument, NULL, 0},
        {"key", required_argument, NULL, 0},
        {"key-fallback", required_argument, NULL, 0},
        {"hash", required_argument, NULL, 0},
        {"placement", required_argument, NULL, 0},
        {"hash-key", required_argument, NULL, 0},
        {"consumer", required_argument, NULL, 0},
        {"workers", required_argument, NULL, 0},
        {"queue-size", required_argument, NULL, 0},
        {"on-full", required_argument, NULL, 0},
        {"timeout", required_argument, NULL, 0},
        {"max-tries", required_argument, NULL, 0},
        {"dead-letter", required_argument, NULL, 0},
        {"metrics", required_argument, NULL, 0},
        {"drain-timeout", required_argument, NULL, 0},
        {"log-level", required_argument, NULL, 0},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"check-config", required_argument, NULL, OPT_CHECK},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
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
        } else if (opt == '?') {
            hub_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        hs_cli_error("hub: unexpected argument '%s' (consumers go after --consumer)", argv[optind]);
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
            hs_cli_error("hub: --%s", err);
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
            fprintf(stderr, "%s: %d error%s\n", config, errors, errors == 1 ? "" : "s");
        status = errors == 0 ? 0 : 1;
    } else if (errors > 0) {
        status = 2;
    } else {
        status = hs__hub_run(&cfg);
    }
    hs__config_free(&cfg);
    return status;
}
