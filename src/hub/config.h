/* config.h - every setting of a hub, from the command line and from an INI
 * file (`--config FILE`, read with libinih), with the errors a person can
 * act on ("FILE:LINE: message") and `--check-config`.
 *
 * The file has a [hub] section whose keys are the long option names (`-` or
 * `_` alike: self, members, key, key-fallback, hash, placement, hash-key, metrics,
 * connect, bind, subscribe, max-body, rcv-hwm, dead-letter, file-mode,
 * drain-timeout, workers, queue-size, on-full, timeout, max-tries, log-level, consumer) and
 * one [consumer NAME] section per consumer (glob, kind, arg, workers, queue,
 * on_full, timeout, max_tries). Repeated connect/bind/subscribe/consumer keys
 * add one each; a repeated members key appends to the list, a repeated arg
 * to the arguments (libinih reads lines of at most 199 bytes; continue long
 * values on indented lines). Command-line options are applied after the
 * file: they override its single values and add to its lists. On the
 * command line a consumer is "[NAME[,OPTION=VALUE...]@][GLOB=]KIND:ARG",
 * the OPTIONs being the per-consumer keys above (workers=2,queue=100); a
 * NAME is 1 to 32 letters, digits, '.', '_' or '-';
 * --workers, --queue-size, ... set the defaults of every consumer.
 *
 * Threads: a config is built and read by the main thread only.
 */
#ifndef HS_HUB_CONFIG_H
#define HS_HUB_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "consumer.h"
#include "hashspace/view.h"

typedef struct hs__strlist {
    char **items;
    size_t n;
} hs__strlist;

typedef struct hs__hub_config {
    char *self, *members, *hash, *placement, *hash_key, *key, *key_fallback, *metrics, *dead_letter,
        *log_level, *bus_seq, *bus_publisher;
    hs__strlist connect, bind, subscribe;
    size_t max_body;
    long rcv_hwm;
    double drain_timeout_s;
    unsigned file_mode; /* of the files the hub creates (file: sinks, dead letters) */
    /* defaults for consumers that do not set their own */
    unsigned workers;
    size_t queue_size;
    hs__on_full on_full;
    double timeout_s;
    unsigned max_tries;
    hs__consumer_spec *consumers;
    size_t nconsumers;
    /* where things were set, for messages: the file, and each option's line
     * (0 = the command line or the default) */
    char *file;
    int line_self, line_members, line_hash, line_placement, line_key, line_metrics,
        line_dead_letter, line_endpoint;
} hs__hub_config;

#define HS__DEFAULT_METRICS "127.0.0.1:0"
#define HS__DEFAULT_BUS_SEQ "json:/i"
#define HS__DEFAULT_BUS_PUBLISHER "json:/username"
#define HS__DEFAULT_MAX_BODY (8u << 20)
#define HS__DEFAULT_RCV_HWM 1000000
#define HS__DEFAULT_DRAIN_S 10.0
#define HS__DEFAULT_QUEUE 10000
#define HS__DEFAULT_MAX_TRIES 3
#define HS__CONSUMER_NAME_MAX 32 /* letters, digits, '.', '_', '-' */

/* Defaults everywhere. */
void hs__config_init(hs__hub_config *cfg);
void hs__config_free(hs__hub_config *cfg);

/* Set one [hub] option by its name (e.g. "connect", "max-body"); line 0 for
 * the command line. On error writes a sentence into err and returns -1. */
int hs__config_set(hs__hub_config *cfg, const char *name, const char *value, int line, char *err,
                   size_t errlen);
/* Add a consumer from "[NAME@][GLOB=]KIND:ARG". */
int hs__config_add_consumer(hs__hub_config *cfg, const char *text, int line, char *err,
                            size_t errlen);
/* Read an INI file; prints "FILE:LINE: message" lines to errors and returns
 * how many there were. */
int hs__config_load(hs__hub_config *cfg, const char *path, FILE *errors);
/* Fill consumer defaults and validate the whole (members, self, hash,
 * placement, key, endpoints, metrics address, dead letter, consumers);
 * prints one line per problem and returns how many there were. */
int hs__config_check(hs__hub_config *cfg, FILE *errors);
/* The view and the position of self in it. */
int hs__config_view(const hs__hub_config *cfg, hs_view **out, size_t *self_index, char *err,
                    size_t errlen);
/* The effective configuration, as an INI file that loads back the same. */
void hs__config_print(const hs__hub_config *cfg, FILE *out);

/* "HOST:PORT" -> parts; "none" -> *port = -1. */
int hs__config_parse_hostport(const char *text, char *host, size_t hostlen, int *port);

#endif
