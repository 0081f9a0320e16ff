/* stats.h - the hub's counters and gauges as rows of a table: one row per
 * figure, from which /metrics, /status, the exit summary and `hashspace
 * status` are all written. The rows themselves are the X-macro maps
 * HS__HUB_COUNTER_MAP (hub.h) and HS__CONSUMER_COUNTER_MAP (consumer.h);
 * this header holds what a row becomes once compiled.
 *
 * The tables are constant: safe to read from any thread. The renderers
 * (stats.c) read the counters with relaxed atomic loads and each queue's
 * stats under its mutex, so the metrics thread may call them while the hub
 * runs.
 */
#ifndef HS_HUB_STATS_H
#define HS_HUB_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hs__deadletter;

/* Where a row's value comes from (the "source" column of a map). */
typedef enum hs__stat_source {
    HS__STAT_ATOMIC,     /* one atomic of the hub or the consumer */
    HS__STAT_REASONS,    /* hub: one atomic per refusal reason (label reason) */
    HS__STAT_DEADLETTER, /* hub: hs__deadletter_<field>(hub->deadletter) */
    HS__STAT_SECONDS,    /* hub: one atomic of nanoseconds, shown as seconds */
    HS__STAT_BACKLOG,    /* consumer: messages queued or in flight */
    HS__STAT_OLDEST,     /* consumer: age of the oldest queued, seconds */
    HS__STAT_HISTOGRAM,  /* consumer: <field>_buckets[] and <field>_sum_ns */
} hs__stat_source;

/* When a row shows in the exit summary and in `hashspace status` (its
 * messages line, or a consumer's notes under the table). */
typedef enum hs__stat_shown {
    HS__SHOWN_ALWAYS,
    HS__SHOWN_NONZERO, /* only when it is not 0 */
    HS__SHOWN_NEVER,   /* /metrics and /status only */
} hs__stat_shown;

typedef struct hs__stat {
    const char *metric; /* Prometheus name, then {labels} it adds, if any */
    const char *type;   /* counter, gauge or histogram */
    const char *key;    /* its key in /status */
    const char *label;  /* its words in the summary and `hashspace status` */
    hs__stat_shown shown;
    /* Consumers: the header of its column in `hashspace status`'s table
     * (a histogram's: "rate/s p50 p99"), or NULL for none. */
    const char *column;
    const char *help;
    hs__stat_source source;
    size_t offset;     /* ATOMIC, REASONS, HISTOGRAM: of the (first) atomic */
    size_t sum_offset; /* HISTOGRAM: of the sum */
    uint64_t (*read)(const struct hs__deadletter *); /* DEADLETTER */
} hs__stat;

/* Write "label value" for each row that is shown (values[i] is row i's),
 * separated by sep, into out (always terminated; whole rows only). With
 * notes, only the rows without a column whose value is not 0 (what
 * `hashspace status` writes under its table). Returns the length written. */
size_t hs__stats_format(char *out, size_t len, const hs__stat *rows, size_t n,
                        const uint64_t *values, const char *sep, bool notes);

#endif
