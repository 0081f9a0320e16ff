/* config.h - every setting of a hub, from the command line and from an INI
 * file (`--config FILE`, read with libinih), with the errors a person can
 * act on ("FILE:LINE: message") and `--check-config`.
 *
 * Every option is one row of the table in config.c (name, parser, field,
 * range, printer, check, help): the command line, the INI loader, the check
 * and the printout all read it. The file has a [hub] section whose keys are
 * the long option names (`-` or `_` alike) and one [consumer NAME] section
 * per consumer (glob, kind, arg, and the per-consumer options workers,
 * queue, on_full, timeout, max_tries, which in [hub] or on the command line
 * set every consumer's default). Repeated connect/bind/subscribe/consumer
 * keys add one each; a repeated members key appends to the list, a repeated
 * arg to the arguments (libinih reads lines of at most 199 bytes; continue
 * long values on indented lines); any other key given twice is an error.
 * Command-line options are applied after the file: they override its single
 * values and add to its lists. On the command line a consumer is
 * "[NAME[,OPTION=VALUE...]@][GLOB=]KIND:ARG", the OPTIONs being the
 * per-consumer keys (workers=2,queue=100); a NAME is 1 to 32 letters,
 * digits, '.', '_' or '-'.
 *
 * Threads: a config is built and read by the main thread only.
 */
#ifndef HS_HUB_CONFIG_H
#define HS_HUB_CONFIG_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include "consumer.h"
#include "hashspace/view.h"

typedef struct hs__strlist {
    char **items;
    int *lines; /* the config file line of each item, 0 = the command line */
    size_t n;
} hs__strlist;

/* The room for every option's line in hs__hub_config (config.c asserts that
 * its table fits). */
#define HS__CONFIG_OPTIONS_MAX 64

typedef struct hs__hub_config {
    char *self, *members, *hash, *placement, *hash_key, *key, *key_fallback, *metrics, *dead_letter,
        *log_level, *bus_seq, *bus_publisher;
    /* CURVE (curve.h): this hub's key pair, the publishers' server key for
     * connect endpoints, the allowlist directory for bind endpoints, and
     * every push consumer's default server key. Key specs as given. */
    char *curve_secret_key, *curve_server_key, *curve_allow, *push_server_key;
    char *metrics_auth; /* none, bearer:FILE or basic:FILE (webauth.h) */
    bool status_args;   /* /status shows consumers' arguments */
    /* Dynamic membership (docs/design.md "Membership"): a coordinator URL
     * instead of members; the rest has defaults. */
    char *coordinator, *cluster, *time_key;
    double weight, heartbeat_s, expiry_s, lead_time_s;
    double time_skew_s;    /* a message time further from the hub's clock: use receipt */
    double confirm_wait_s; /* the longest wait for a view to be confirmed */
    double join_wait_s;    /* register after the first message, or after this */
    double ring_seconds;   /* recent messages kept for a replay: this long */
    size_t ring_bytes;     /* and at most this much memory */
    size_t hold_max;       /* messages held for a handover, at most */
    double hold_timeout_s; /* and for at most this long (0: no bound) */
    hs__ordered ordered;   /* consumers' default */
    hs__strlist connect, bind, subscribe;
    size_t max_body, max_topic;
    int rcv_hwm;
    double reconnect_max_s; /* the longest wait between attempts to reach a publisher (0: 100 ms) */
    double drain_timeout_s;
    /* defaults for consumers that do not set their own */
    unsigned workers;
    size_t queue_size;
    hs__on_full on_full;
    double timeout_s;
    unsigned max_tries;
    unsigned file_mode; /* of the files the hub creates (file: sinks, dead letters) */
    hs__consumer_spec *consumers;
    size_t nconsumers;
    /* where things were set, for messages: the file, and the line of each
     * option (indexed like config.c's table; 0 = the command line or the
     * default) */
    char *file;
    int line[HS__CONFIG_OPTIONS_MAX];
} hs__hub_config;

#define HS__DEFAULT_METRICS "127.0.0.1:0"
#define HS__DEFAULT_MAX_BODY (8u << 20)
#define HS__DEFAULT_MAX_TOPIC (64u << 10)
#define HS__DEFAULT_BUS_SEQ "json:/i"
#define HS__DEFAULT_BUS_PUBLISHER "json:/username"
#define HS__DEFAULT_TIME_KEY "json:/timestamp"
#define HS__CONSUMER_NAME_MAX 32 /* letters, digits, '.', '_', '-' */
/* The longest timeout (seconds): a 32-bit count of milliseconds. */
#define HS__TIMEOUT_MAX_S 2147483.0
/* A config file larger than this is refused (/dev/zero, a log by mistake). */
#define HS__CONFIG_MAX_BYTES (1u << 20)

/* Defaults everywhere. */
void hs__config_init(hs__hub_config *cfg);
void hs__config_free(hs__hub_config *cfg);

/* Set one [hub] option by its name (e.g. "connect", "max-body"); line 0 for
 * the command line. A value out of the option's range is refused here. On
 * error writes a sentence into err and returns -1. */
int hs__config_set(hs__hub_config *cfg, const char *name, const char *value, int line, char *err,
                   size_t errlen);
/* Add a consumer from "[NAME@][GLOB=]KIND:ARG". */
int hs__config_add_consumer(hs__hub_config *cfg, const char *text, int line, char *err,
                            size_t errlen);
/* Read an INI file (a regular file or a pipe, at most HS__CONFIG_MAX_BYTES);
 * prints "FILE:LINE: message" lines to errors and returns how many there
 * were. A [hub] key given twice is an error, except the lists (connect,
 * bind, subscribe, consumer) and continued values (members); so is a second
 * section for one consumer, and a repeated key in it other than arg. */
int hs__config_load(hs__hub_config *cfg, const char *path, FILE *errors);
/* Fill consumer defaults and validate the whole (members, self, hash,
 * placement, key, endpoints and their transports, metrics address, dead
 * letter, consumers and their exec programs); prints one line per problem
 * and returns how many there were. It refuses what start-up would. */
int hs__config_check(hs__hub_config *cfg, FILE *errors);
/* The view and the position of self in it (static membership only: with a
 * coordinator the views come from it). */
int hs__config_view(const hs__hub_config *cfg, hs_view **out, size_t *self_index, char *err,
                    size_t errlen);
/* The hasher of every view (placement's default hash, or hash; hash-key). */
int hs__config_hasher(const hs__hub_config *cfg, hs_hasher *out, char *err, size_t errlen);
/* The effective configuration, every option included, as an INI file that
 * loads back the same. */
void hs__config_print(const hs__hub_config *cfg, FILE *out);

/* The command line: fill out (room for cap) with one getopt_long entry per
 * option, {name, required_argument, NULL, 0}; returns how many. */
size_t hs__config_long_options(struct option *out, size_t cap);
/* The options part of `hashspace hub --help`, from the same table. */
void hs__config_usage(FILE *out);
/* Every option of the table, one line each, tab-separated: the option name,
 * its [hub] key, its [consumer NAME] key, the --help group, the argument
 * and the help text on one line ("-" where there is none). For the manual
 * pages (scripts/gendocs.py, `hashspace hub --help-keys`). */
void hs__config_keys(FILE *out);

/* "HOST:PORT" -> parts; "none" -> *port = -1. */
int hs__config_parse_hostport(const char *text, char *host, size_t hostlen, int *port);

#endif
