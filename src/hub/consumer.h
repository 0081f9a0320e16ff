/* consumer.h - a consumer: a topic glob, a sink kind, W worker threads, each
 * with its own bounded queue and its own sink instance, and its metrics.
 *
 * The ingress thread routes a claimed message to worker mix(key_hash) % W,
 * so messages of one key stay in order. A worker takes the head of its
 * queue, tries the sink up to max_tries times (sleeping 20 ms x attempt in
 * between), then counts the message ok or failed; a failed message goes to
 * the dead-letter sink. At shutdown, what a worker could not take before the
 * drain deadline is dead-lettered with reason "left" and counted in left.
 *
 * Threads: hs__consumer_route is called by the ingress thread only;
 * hs__consumer_backlog and the counters may be read from any thread (the
 * metrics thread); new/start/close/join/free from the main thread.
 */
#ifndef HS_HUB_CONSUMER_H
#define HS_HUB_CONSUMER_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "deadletter.h"
#include "msg.h"
#include "queue.h"
#include "sink.h"
#include "stats.h"

typedef enum hs__on_full {
    HS__ON_FULL_DEFAULT, /* inherit the hub's setting (config only) */
    HS__ON_FULL_BLOCK,
    HS__ON_FULL_DROP,
} hs__on_full;

/* Does a consumer need per-key order across a handover (docs/design.md
 * "Membership")? When not, messages held for a moved key reach it at once. */
typedef enum hs__ordered {
    HS__ORDERED_DEFAULT, /* inherit the hub's setting (config only) */
    HS__ORDERED_YES,
    HS__ORDERED_NO,
} hs__ordered;

/* What the user asked for. Zero fields inherit the hub's defaults. */
typedef struct hs__consumer_spec {
    char *name;
    char *glob; /* fnmatch(3) pattern on the topic; "*" matches all */
    char *kind; /* a kind of HS_SINK_MAP (sink.h) */
    char *arg;  /* text after "KIND:" */
    unsigned workers;
    size_t queue_size;
    hs__on_full on_full;
    double timeout_s;
    unsigned max_tries;
    unsigned file_mode;    /* mode of the files a file: sink creates (--file-mode) */
    char *push_server_key; /* push: the PULL peer's CURVE public key (a key spec) */
    hs__ordered ordered;
    int line; /* config file line of the section, 0 when from argv */
} hs__consumer_spec;

/* Upper bounds (seconds) of the processing-time histogram; +Inf is implicit. */
#define HS__DURATION_BUCKETS_MAP(X)                                                                \
    X(0.0001)                                                                                      \
    X(0.00025)                                                                                     \
    X(0.0005)                                                                                      \
    X(0.001)                                                                                       \
    X(0.0025) X(0.005) X(0.01) X(0.025) X(0.05) X(0.1) X(0.25) X(0.5) X(1) X(2.5) X(5) X(10)
#define HS__DURATION_BUCKETS 16

/* X(field, source, type, metric, status key, label, shown, column, help):
 * every counter and gauge of one consumer, one row each, in the order
 * /metrics, /status, the exit summary and `hashspace status` show them
 * (stats.h says what the columns mean). Sources: INGRESS and WORKER, an
 * atomic of hs__consumer written by the ingress thread or by the workers (a
 * cache line apart); BACKLOG and OLDEST, from the queues; HISTOGRAM, the
 * atomics field_buckets[] and field_sum_ns. In /metrics every series has the
 * label consumer="NAME", then those the metric adds. Adding a counter: one
 * row here, then count it. */
#define HS__CONSUMER_COUNTER_MAP(X)                                                                \
    X(backlog, BACKLOG, "gauge", "hashspace_consumer_backlog", "backlog", "backlog", NEVER,        \
      "backlog", "Messages queued for a consumer or being processed.")                             \
    X(oldest_age, OLDEST, "gauge", "hashspace_consumer_oldest_age_seconds", "oldest_age_seconds",  \
      "oldest", NEVER, "oldest", "Age of the oldest message queued for a consumer (0 when none).") \
    X(ok, WORKER, "counter", "hashspace_consumer_processed_total{result=\"ok\"}", "ok", "ok",      \
      ALWAYS, "ok", "Messages a consumer finished: ok, or failed after its tries.")                \
    X(failed, WORKER, "counter", "hashspace_consumer_processed_total{result=\"failed\"}",          \
      "failed", "failed", ALWAYS, "failed",                                                        \
      "Messages a consumer finished: ok, or failed after its tries.")                              \
    X(duration, HISTOGRAM, "histogram", "hashspace_consumer_duration_seconds", "duration_seconds", \
      "duration", NEVER, "rate/s p50 p99", "Time to process one message, all tries included.")     \
    X(dropped, INGRESS, "counter", "hashspace_consumer_dropped_total", "dropped", "dropped",       \
      ALWAYS, "dropped", "Messages dropped because a consumer's queue was full (on_full=drop).")   \
    X(left, WORKER, "counter", "hashspace_consumer_left_total", "left", "left", ALWAYS, NULL,      \
      "Messages a consumer had not processed when the drain deadline passed at shutdown; "         \
      "each is dead-lettered with reason \"left\".")                                               \
    X(restarts, WORKER, "counter", "hashspace_consumer_restarts_total", "restarts", "restarts",    \
      ALWAYS, "restarts", "Times a consumer's child process was restarted.")                       \
    X(possibly_lost, WORKER, "counter", "hashspace_consumer_possibly_lost_total", "possibly_lost", \
      "possibly lost", NONZERO, NULL,                                                              \
      "push: messages counted ok (handed to ZeroMQ) whose peer then disconnected, so "             \
      "possibly never delivered (an upper estimate).")                                             \
    X(routed, INGRESS, "counter", "hashspace_consumer_routed_total", "routed", "routed", NEVER,    \
      NULL, "Messages handed to a consumer's queues.")

typedef enum hs__consumer_stat {
#define HS__CONSUMER_STAT_ENUM(field, ...) HS__CONSUMER_STAT_##field,
    HS__CONSUMER_COUNTER_MAP(HS__CONSUMER_STAT_ENUM)
#undef HS__CONSUMER_STAT_ENUM
        HS__CONSUMER_STATS
} hs__consumer_stat;

/* The rows, compiled (stats.c). */
extern const hs__stat hs__consumer_stats[HS__CONSUMER_STATS];

/* A row's fields in hs__consumer: those the ingress thread writes, then
 * those the workers write. */
#define HS__CONSUMER_FIELD_INGRESS_INGRESS(field) atomic_uint_fast64_t field;
#define HS__CONSUMER_FIELD_INGRESS_WORKER(field)
#define HS__CONSUMER_FIELD_INGRESS_BACKLOG(field)
#define HS__CONSUMER_FIELD_INGRESS_OLDEST(field)
#define HS__CONSUMER_FIELD_INGRESS_HISTOGRAM(field)
#define HS__CONSUMER_FIELD_WORKER_INGRESS(field)
#define HS__CONSUMER_FIELD_WORKER_WORKER(field) atomic_uint_fast64_t field;
#define HS__CONSUMER_FIELD_WORKER_BACKLOG(field)
#define HS__CONSUMER_FIELD_WORKER_OLDEST(field)
#define HS__CONSUMER_FIELD_WORKER_HISTOGRAM(field)                                                 \
    atomic_uint_fast64_t field##_buckets[HS__DURATION_BUCKETS + 1];                                \
    atomic_uint_fast64_t field##_sum_ns;
#define HS__CONSUMER_FIELD_INGRESS(field, source, ...) HS__CONSUMER_FIELD_INGRESS_##source(field)
#define HS__CONSUMER_FIELD_WORKER(field, source, ...) HS__CONSUMER_FIELD_WORKER_##source(field)

typedef struct hs__consumer hs__consumer;

typedef struct hs__worker {
    hs__consumer *consumer;
    unsigned index;
    pthread_t thread;
    bool running;
    hs__queue queue;
    void *sink;
    sem_t opened; /* posted when the sink's open returned */
    int open_rc;
    char open_err[256];
    /* Set by the worker once it is done with its sink and dead-letters what
     * is left: bounded work, which the join waits for without a limit. */
    atomic_bool leaving;
    atomic_int child_pgid; /* see hs__sink_env */
} hs__worker;

struct hs__consumer {
    hs__consumer_spec spec; /* resolved: no zero field left */
    const hs__sink_ops *ops;
    bool match_all;
    hs__worker *workers;
    hs__deadletter *deadletter;
    const char *curve_secret_key; /* the hub's key spec, for push (not owned) */
    /* 0 while running; set when the hub stops: workers give up on what is
     * still queued after this CLOCK_MONOTONIC time. */
    atomic_uint_fast64_t drain_deadline_ns;
    /* The ingress thread writes routed and dropped on every message, the
     * workers the counters after them: a cache line (the padding) apart from
     * each other and from the read-mostly fields above, so that neither side
     * makes the other's line move between cores. */
    char pad_ingress[64];
    HS__CONSUMER_COUNTER_MAP(HS__CONSUMER_FIELD_INGRESS)
    char pad_workers[64];
    HS__CONSUMER_COUNTER_MAP(HS__CONSUMER_FIELD_WORKER)
};

/* Allocate a consumer and its queues from a resolved spec (copied). On error
 * writes a sentence into err. */
int hs__consumer_new(hs__consumer **out, const hs__consumer_spec *spec, hs__deadletter *dl,
                     char *err, size_t errlen);
/* Start the workers; each opens its sink instance in its own thread. Fails
 * (and stops the ones started) when a sink cannot open. */
int hs__consumer_start(hs__consumer *c, char *err, size_t errlen);
/* A topic as fnmatch(3) needs it: a NUL-terminated copy of the frame (which
 * is not terminated), in a buffer its owner (the ingress thread) keeps and
 * reuses, so matching costs no allocation per message. */
typedef struct hs__topic_buf {
    char *text; /* the topic, then a NUL */
    size_t len, cap;
    bool has_nul; /* the topic itself holds a NUL byte */
} hs__topic_buf;
/* Copy topic[0..len) into buf. HS_OK, or HS_ENOMEM (buf is then empty). */
int hs__topic_buf_set(hs__topic_buf *buf, const char *topic, size_t len);
void hs__topic_buf_free(hs__topic_buf *buf);
/* Does this consumer take messages of this topic? The glob must match the
 * whole topic; a topic holding a NUL byte matches only the glob "*". */
bool hs__consumer_matches(const hs__consumer *c, const hs__topic_buf *topic);
/* Hand one reference of m to the right worker. HS_OK; HS_EFULL when the
 * queue was full in drop mode (counted in dropped; the reference is still
 * the caller's); HS_ETIMEOUT/HS_ECLOSED when stopping (likewise). */
int hs__consumer_route(hs__consumer *c, hs__msg *m, uint64_t now_ns, const atomic_bool *abort);
/* Ingress thread only: hold back or release the workers' wake-ups
 * (hs__queue_hold_wakeups), and give them the ones held back. */
void hs__consumer_hold_wakeups(hs__consumer *c, bool hold);
void hs__consumer_wake(hs__consumer *c);
/* Messages queued or in flight, and the enqueue time of the oldest (0 if
 * none). */
void hs__consumer_backlog(hs__consumer *c, size_t *count, uint64_t *oldest_ns);
/* The oldest message time at the head of a worker's queue (the messages
 * this consumer has not finished start there); false when all are empty. */
bool hs__consumer_oldest_time(hs__consumer *c, uint64_t *ts_ns);
/* Can the consumer take messages now: not draining, every worker running,
 * and for exec consumers every worker's child process up (not between its
 * death and its restart)? When not, a sentence in why. Any thread (/readyz). */
bool hs__consumer_ready(hs__consumer *c, char *why, size_t len);
/* Stop: no more messages will be routed; workers finish what is queued,
 * unless deadline_ns (CLOCK_MONOTONIC) passes first. */
void hs__consumer_close(hs__consumer *c, uint64_t deadline_ns);
/* Join the workers, waiting until join_by_ns at most (a worker already
 * dead-lettering what is left is waited for until it is done). Returns the
 * number of workers that did not finish in time (still inside their sink). */
unsigned hs__consumer_join(hs__consumer *c, uint64_t join_by_ns);
/* Send sig to the process group of the child of every worker not joined
 * yet (exec; nothing for other kinds): a child that hangs keeps its worker
 * inside the sink, and must not outlive the hub. Main thread, after a join
 * that returned > 0. */
void hs__consumer_signal_children(hs__consumer *c, int sig);
/* For workers still stuck after that: dead-letter (reason "left") what
 * their queues hold, the message in flight included (which the consumer may
 * yet have handled: it is marked so), and count it left. The hub then exits
 * without these workers. Main thread; returns the number dead-lettered. */
size_t hs__consumer_abandon(hs__consumer *c);
/* Accepts NULL. Only after a join that returned 0. */
void hs__consumer_free(hs__consumer *c);

/* One consumer's figures at one moment, a value per row of
 * HS__CONSUMER_COUNTER_MAP (OLDEST in nanoseconds, HISTOGRAM its count), with
 * the histogram's buckets (not cumulative) and sum. Any thread (stats.c). */
typedef struct hs__consumer_sample {
    uint64_t value[HS__CONSUMER_STATS];
    uint64_t buckets[HS__DURATION_BUCKETS + 1];
    uint64_t sum_ns;
} hs__consumer_sample;
void hs__consumer_sample_read(hs__consumer *c, uint64_t now_ns, hs__consumer_sample *out);

/* The bucket bounds, for the metrics. */
extern const double hs__duration_bounds[HS__DURATION_BUCKETS];

#endif
