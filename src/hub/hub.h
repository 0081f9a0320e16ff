/* hub.h - a hub: one ingress thread, the consumers and their workers, the
 * metrics endpoint, the dead-letter sink, and the lifecycle that ties them
 * together (start, run until SIGTERM/SIGINT, drain, report; SIGHUP reopens
 * the output files).
 *
 * DESIGN: the main thread builds everything, starts the workers, the metrics
 * daemon (libmicrohttpd's own thread) and the ingress thread, then waits for
 * a signal (SIGTERM, SIGINT and SIGHUP are blocked in every thread and taken
 * by the main thread with sigtimedwait). Shared state: the counters below
 * (C11 atomics, written by the ingress thread, read by the metrics thread),
 * the timeline of views (owned by the ingress thread; a new snapshot is
 * handed over through the one-slot box `box`, so the hot path reads
 * membership without a lock), the watermark inputs (decided_ts, the hold's
 * oldest time: atomics the main thread reads every tick and gives the
 * membership thread), and the stop/abort/leaving flags (written by the main
 * thread). The view's epoch and size are mirrored in atomics for the
 * metrics thread.
 */
#ifndef HS_HUB_HUB_H
#define HS_HUB_HUB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "busseq.h"
#include "claim.h"
#include "config.h"
#include "consumer.h"
#include "curve.h"
#include "deadletter.h"
#include "key.h"
#include "membership.h"
#include "ring.h"
#include "timeline.h"
#include "stats.h"

#include "hashspace/view.h"

/* X(ENUM, label): why a message was refused at ingress. */
#define HS__MALFORMED_MAP(X)                                                                       \
    X(FRAMES, "frames")                                                                            \
    X(OVERSIZE, "oversize")                                                                        \
    X(TOPIC_UTF8, "topic_utf8")                                                                    \
    X(JSON, "json")                                                                                \
    X(NO_KEY, "no_key")                                                                            \
    X(KEY_HASH, "key_hash")                                                                        \
    X(REPEATED_KEY, "repeated_key")

typedef enum hs__malformed {
#define HS__MALFORMED_ENUM(e, label) HS__MALFORMED_##e,
    HS__MALFORMED_MAP(HS__MALFORMED_ENUM)
#undef HS__MALFORMED_ENUM
        HS__MALFORMED__COUNT
} hs__malformed;

extern const char *const hs__malformed_labels[HS__MALFORMED__COUNT];

/* X(field, source, type, metric, status key, label, shown, help): every
 * counter and gauge of the hub, one row each, in the order /metrics, /status,
 * the exit summary and `hashspace status` show them (stats.h says what the
 * columns mean). A row with source ATOMIC or REASONS is also a field of
 * hs__hub, written by the ingress thread; DEADLETTER reads
 * hs__deadletter_<field>. Adding a counter: one row here, then count it. */
#define HS__HUB_COUNTER_MAP(X)                                                                     \
    X(view_epoch, CLAIM, "gauge", "hashspace_view_epoch", "epoch", "epoch", NEVER,                 \
      "Epoch of the membership view in force.")                                                    \
    X(view_members, CLAIM, "gauge", "hashspace_view_members", "view_members", "members", NEVER,    \
      "Members in the view in force.")                                                             \
    X(received, ATOMIC, "counter", "hashspace_messages_received_total", "received", "received",    \
      ALWAYS, "Messages received from the bus (a multi-frame message counts once).")               \
    X(claimed, ATOMIC, "counter", "hashspace_messages_claimed_total", "claimed", "claimed",        \
      ALWAYS, "Messages this hub owns under the current view.")                                    \
    X(skipped, ATOMIC, "counter", "hashspace_messages_skipped_total", "skipped", "skipped",        \
      ALWAYS, "Messages another member owns.")                                                     \
    X(malformed, REASONS, "counter", "hashspace_messages_malformed_total", "malformed",            \
      "malformed", ALWAYS, "Messages refused at ingress, by reason; each is dead-lettered.")       \
    X(unmatched, ATOMIC, "counter", "hashspace_messages_unmatched_total", "unmatched",             \
      "unmatched", NONZERO, "Claimed messages whose topic no consumer's glob matches.")            \
    X(count, DEADLETTER, "counter", "hashspace_messages_dead_lettered_total", "dead_lettered",     \
      "dead-lettered", ALWAYS,                                                                     \
      "Dead letters (malformed, or failed by a consumer) written whole to the dead-letter "        \
      "sink (with none: counted only).")                                                           \
    X(failures, DEADLETTER, "counter", "hashspace_dead_letter_failures_total",                     \
      "dead_letter_failures", "dead letters not written", NONZERO,                                 \
      "Dead letters the dead-letter file could not take (cannot open, full disk); a copy "         \
      "went to stderr.")                                                                           \
    X(key_fallbacks, ATOMIC, "counter", "hashspace_messages_key_fallback_total", "key_fallbacks",  \
      "key fallbacks", NEVER,                                                                      \
      "Messages whose key was not found, placed by the fallback key "                              \
      "instead.")                                                                                  \
    X(abandoned, ATOMIC, "counter", "hashspace_messages_abandoned_total", "abandoned",             \
      "not handed over", NONZERO,                                                                  \
      "Claimed messages the ingress thread still held when the drain deadline passed at "          \
      "shutdown, not handed to a consumer.")                                                       \
    HS__MEMBERSHIP_COUNTER_MAP(X)

/* Dynamic membership's rows (docs/design.md "Membership"). Sources: CLAIM
 * and CLAIM_SECONDS are atomics of hub->claim (hs__claim_stats, written by
 * the ingress thread's claim), RING the ring's gauges, ATOMIC and SECONDS
 * atomics of the hub (written by the ingress thread, or mirrored from the
 * membership thread by the main loop); SECONDS hold nanoseconds and show
 * as seconds. */
#define HS__MEMBERSHIP_COUNTER_MAP(X)                                                              \
    X(pending, CLAIM, "gauge", "hashspace_view_pending", "pending_views", "pending views", NEVER,  \
      "Views made, not yet in force.")                                                             \
    X(pending_from, CLAIM_SECONDS, "gauge", "hashspace_view_pending_effective_seconds",            \
      "pending_effective_seconds", "pending from", NEVER,                                          \
      "When the next pending view takes effect (seconds since 1970; 0: none pending).")            \
    X(coord_epoch, ATOMIC, "gauge", "hashspace_view_newest_epoch", "newest_epoch", "newest epoch", \
      NEVER, "The newest view's epoch this hub knows (pending ones included).")                    \
    X(fenced, CLAIM, "gauge", "hashspace_fenced", "fenced", "fenced", NONZERO,                     \
      "1 while this hub's registration may have expired: it claims nothing.")                      \
    X(fenced_msgs, CLAIM, "counter", "hashspace_fenced_messages_total", "fenced_messages",         \
      "not claimed while fenced", NONZERO,                                                         \
      "Messages not claimed while fenced (kept in the ring).")                                     \
    X(coord_errors, ATOMIC, "counter", "hashspace_coordinator_errors_total", "coordinator_errors", \
      "coordinator errors", NONZERO, "Failed connections and rounds with the coordinator.")        \
    X(coord_rounds, ATOMIC, "counter", "hashspace_coordinator_rounds_total", "coordinator_rounds", \
      "coordinator rounds", NEVER,                                                                 \
      "Successful rounds with the coordinator (heartbeat, propose, fetch, members).")              \
    X(watermark_ns, SECONDS, "gauge", "hashspace_watermark_seconds", "watermark_seconds",          \
      "watermark", NEVER,                                                                          \
      "The watermark published: every message this hub owns stamped before it is finished "        \
      "(seconds since 1970).")                                                                     \
    X(crashes, CLAIM, "counter", "hashspace_crashes_total", "crashes", "crashes seen", NONZERO,    \
      "Members found crashed (left out of a view without a planned leave).")                       \
    X(replayed, CLAIM, "counter", "hashspace_replayed_total", "replayed", "replayed", NONZERO,     \
      "A crashed hub's messages this hub replayed from its ring.")                                 \
    X(taken_over, CLAIM, "counter", "hashspace_taken_over_total", "taken_over", "taken over",      \
      NONZERO, "A crashed hub's messages that arrived after the crash was known.")                 \
    X(possible_dups, CLAIM, "counter", "hashspace_possible_duplicates_total",                      \
      "possible_duplicates", "possible duplicates", NONZERO,                                       \
      "Of the replayed and taken over: stamped before the crashed hub's last heartbeat + "         \
      "expiry, so it may have finished them.")                                                     \
    X(ring_misses, CLAIM, "counter", "hashspace_ring_misses_total", "ring_misses",                 \
      "ring misses (possible loss)", NONZERO,                                                      \
      "Replays the ring no longer reached back for: messages possibly lost.")                      \
    X(held, CLAIM, "gauge", "hashspace_held", "held", "held", NEVER,                               \
      "Messages of moved keys held until their old owner is done.")                                \
    X(held_total, CLAIM, "counter", "hashspace_held_total", "held_total", "held for a handover",   \
      NONZERO, "Messages ever held for a handover.")                                               \
    X(hold_ns, CLAIM_SECONDS, "counter", "hashspace_hold_seconds_total", "hold_seconds",           \
      "hold seconds", NEVER, "Time held messages spent held, summed.")                             \
    X(hold_timeouts, CLAIM, "counter", "hashspace_hold_timeouts_total", "hold_timeouts",           \
      "hold timeouts (possible reordering)", NONZERO,                                              \
      "Held messages released after hold-timeout before their old owner was done: possibly "       \
      "out of order.")                                                                             \
    X(messages, RING, "gauge", "hashspace_ring_messages", "ring_messages", "ring messages", NEVER, \
      "Messages kept in the ring of recent unclaimed messages.")                                   \
    X(bytes, RING, "gauge", "hashspace_ring_bytes", "ring_bytes", "ring bytes", NEVER,             \
      "Memory of the ring: the messages and the slots.")                                           \
    X(untimed, ATOMIC, "counter", "hashspace_messages_untimed_total", "untimed", "untimed",        \
      NONZERO, "Messages without a time (time-key): decided by their time of receipt.")            \
    X(skewed, ATOMIC, "counter", "hashspace_messages_skewed_total", "skewed", "skewed", NONZERO,   \
      "Messages stamped further than time-skew from the hub's clock: decided by their time of "    \
      "receipt.")                                                                                  \
    X(confirm_waits, ATOMIC, "counter", "hashspace_confirm_waits_total", "confirm_waits",          \
      "confirmation waits", NEVER,                                                                 \
      "Messages that waited for the coordinator to confirm the views up to their time.")           \
    X(confirm_timeouts, ATOMIC, "counter", "hashspace_confirm_timeouts_total", "confirm_timeouts", \
      "confirmation timeouts", NONZERO,                                                            \
      "Waits that gave up after confirm-wait (decided with the views known).")                     \
    X(confirm_wait_ns, SECONDS, "counter", "hashspace_confirm_wait_seconds_total",                 \
      "confirm_wait_seconds", "confirmation wait", NEVER, "Time spent in those waits, summed.")

typedef enum hs__hub_stat {
#define HS__HUB_STAT_ENUM(field, ...) HS__HUB_STAT_##field,
    HS__HUB_COUNTER_MAP(HS__HUB_STAT_ENUM)
#undef HS__HUB_STAT_ENUM
        HS__HUB_STATS
} hs__hub_stat;

/* The rows, compiled (stats.c). */
extern const hs__stat hs__hub_stats[HS__HUB_STATS];

/* A row's field in hs__hub, by its source. */
#define HS__HUB_FIELD_ATOMIC(field) atomic_uint_fast64_t field;
#define HS__HUB_FIELD_REASONS(field) atomic_uint_fast64_t field[HS__MALFORMED__COUNT];
#define HS__HUB_FIELD_DEADLETTER(field)
#define HS__HUB_FIELD_SECONDS(field) atomic_uint_fast64_t field;
#define HS__HUB_FIELD_CLAIM(field)
#define HS__HUB_FIELD_CLAIM_SECONDS(field)
#define HS__HUB_FIELD_RING(field)
#define HS__HUB_FIELD(field, source, ...) HS__HUB_FIELD_##source(field)

typedef struct hs__hub {
    const hs__hub_config *cfg;
    hs__key_spec key;
    hs__key_spec key_fallback; /* used when key finds nothing; if has_fallback */
    bool has_fallback;
    /* Bus losses: each publisher's sequence number (seq_key, e.g. json:/i),
     * the publisher named by the peer's address and seq_publisher. */
    bool track_seq;
    hs__key_spec seq_key, seq_publisher;
    hs__busseq busseq;
    void *zmq_ctx;
    hs__deadletter *deadletter;
    hs__consumer **consumers;
    size_t nconsumers;

    /* The counters and gauges (HS__HUB_COUNTER_MAP); view_epoch and
     * view_members mirror the view's epoch and size. */
    HS__HUB_COUNTER_MAP(HS__HUB_FIELD)
    atomic_uint_fast64_t started_ns; /* CLOCK_REALTIME */

    /* Membership (docs/design.md "Membership"). Static membership is a
     * one-view timeline; with a coordinator the membership thread puts each
     * new timeline into `box`, and the ingress thread takes it between two
     * messages. The message time comes from time_key (none: receipt). */
    bool dynamic;
    hs_hasher hasher; /* every view's */
    hs__key_spec time_key;
    bool has_time_key;
    hs__timeline_box box;
    hs__membership *membership; /* main thread's; NULL until the bus is received */
    atomic_bool membership_started, leaving;
    hs__claim_stats claim; /* the CLAIM rows of HS__HUB_COUNTER_MAP */
    hs__ring ring;         /* the ingress thread's (its gauges are the RING rows) */
    /* the newest message time the ingress thread decided (published after
     * the message was queued), for the watermark */
    atomic_uint_fast64_t decided_ts;

    pthread_t ingress;
    bool ingress_running;
    int ingress_wake_fd; /* eventfd, the hub's lifetime: hs__ingress_wake */
    atomic_bool stop;    /* ingress: stop receiving (set by hs__ingress_stop) */
    atomic_bool abort;   /* ingress: give up a blocked hand-over */
    atomic_bool failed;  /* ingress: died of an error; the hub stops */
    void *metrics;       /* struct MHD_Daemon * */
    char metrics_addr[300];
    struct hs__webauth *webauth; /* who may read the metrics endpoint; NULL: anyone */

    /* CURVE (curve.h), when curve-secret-key is set: this hub's key pair,
     * the publishers' key (connect), and the ZAP handler with the
     * allowlist (bind) and the count of refused handshakes. */
    hs__curve_auth *curve;
    hs__curve_pair curve_self;
    hs__curve_key curve_server;
} hs__hub;

/* Run a hub with a checked config until SIGTERM/SIGINT; returns the exit
 * status (0 after a clean drain, 1 when it could not start). */
int hs__hub_run(const hs__hub_config *cfg);

/* Ingress thread (ingress.c). */
/* The values taken from every message body, all in one pass. */
typedef enum hs__ingress_key {
    HS__INGRESS_KEY,       /* the claim key */
    HS__INGRESS_FALLBACK,  /* the claim key when the first finds nothing (key-fallback) */
    HS__INGRESS_TIME,      /* the message's time (time-key, dynamic membership only) */
    HS__INGRESS_SEQ,       /* the publisher's sequence number (bus-seq) */
    HS__INGRESS_PUBLISHER, /* the publisher's name (bus-publisher) */
    HS__INGRESS_KEYS,
} hs__ingress_key;
/* What the checks before the claim go by: built once when the ingress
 * thread starts, read-only after; the specs are borrowed. */
typedef struct hs__ingress_rules {
    size_t max_body, max_topic;
    const hs__key_spec *specs[HS__INGRESS_KEYS]; /* NULL: not wanted; [HS__INGRESS_KEY] is set */
    /* Stop reading the body once the key and every other value wanted but
     * the fallback are found (the claim's pass: verdict.whole says whether
     * it read it all); false: read and check it all. */
    bool stop_early;
} hs__ingress_rules;
/* What the checks found: the key, or why the message is refused; and the
 * other values of the rules. One per thread, reused from message to message
 * (it owns the buffers the values are kept in): hs__ingress_verdict_free. */
typedef struct hs__ingress_verdict {
    const char *key; /* into the topic, the body or values[...].buf */
    size_t key_len;
    bool fell_back; /* the fallback key found it */
    bool whole;     /* the whole body was read and checked (see rules.stop_early) */
    /* The last topic found valid UTF-8 (when it fit): a stream repeats a few
     * topics, and one seen before is not checked again. */
    char valid_topic[128];
    size_t valid_topic_len;
    hs__malformed why;
    char detail[160]; /* a sentence, when refused */
    /* The targets the rules want, in hs__ingress_key order, and where each
     * key is among them (-1: not wanted): set up once per rules, the pass
     * fills in their results. */
    const hs__ingress_rules *targets_for;
    hs__key_target targets[HS__INGRESS_KEYS];
    size_t ntargets;
    int target_of[HS__INGRESS_KEYS];
    hs__key_buf bufs[HS__INGRESS_KEYS];
    hs__key_memo *memo; /* the claim pass's, kept from body to body (key.h) */
} hs__ingress_verdict;
/* The checks on one [topic, body] message before the claim: the body's and
 * the topic's sizes (both HS__MALFORMED_OVERSIZE), the topic's UTF-8, then
 * the key (and the fallback key, when there is one). Every value the rules
 * want is extracted by one pass over the body (hs__key_extract_many); with
 * rules->stop_early the pass may end at the last of them, and then
 * v->whole is false: the key and the values are those found so far, and
 * the rest of the body is unchecked (the hub that takes the message checks
 * it whole, ingress.c).
 * true: v->key is set (valid until v is used again), v->fell_back says the
 * fallback found it, v->values the others; false: v->why and v->detail say
 * why the message is refused. Pure and thread-safe given its own verdict
 * (the fuzz target calls it directly). */
bool hs__ingress_check(const hs__ingress_rules *rules, const char *t, size_t tlen, const char *b,
                       size_t blen, hs__ingress_verdict *v);
/* The value v found for k: false when the rules do not want it or the
 * message has none. */
bool hs__ingress_value(const hs__ingress_verdict *v, hs__ingress_key k, const char **text,
                       size_t *len);
void hs__ingress_verdict_free(hs__ingress_verdict *v);
int hs__ingress_start(hs__hub *hub, char *err, size_t errlen);
/* Main thread: the ingress stops receiving; one waiting for the bus is
 * woken (a static hub's ingress waits without a timeout). */
void hs__ingress_stop(hs__hub *hub);
/* Any thread (arg: the hub): wake an ingress waiting for the bus, to look
 * at a new timeline (the membership thread's notify). */
void hs__ingress_wake(void *arg);
void hs__ingress_join(hs__hub *hub);
/* The ingress died of an error (hub->failed); SIGUSR1 to this process tells
 * the main thread, which waits for signals, at once. */
#define HS__HUB_FAILED_SIGNAL SIGUSR1

/* The value of a row of HS__HUB_COUNTER_MAP (REASONS: the sum over the
 * reasons). Any thread. */
uint64_t hs__hub_stat_value(const hs__hub *hub, const hs__stat *row);
/* Render the Prometheus text or the /status JSON (stats.c) into a malloc'd
 * string (NULL when out of memory). Any thread. */
char *hs__metrics_render(hs__hub *hub, size_t *len);
char *hs__status_render(hs__hub *hub, size_t *len);
/* Metrics (metrics.c): start/stop the HTTP endpoint. */
int hs__metrics_start(hs__hub *hub, const char *hostport, char *err, size_t errlen);
void hs__metrics_stop(hs__hub *hub);

#endif
