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
#include "deadletter.h"
#include "key.h"
#include "membership.h"
#include "ring.h"
#include "timeline.h"

#include "hashspace/view.h"

/* X(ENUM, label): why a message was refused at ingress. */
#define HS__MALFORMED_MAP(X)                                                                       \
    X(FRAMES, "frames")                                                                            \
    X(OVERSIZE, "oversize")                                                                        \
    X(TOPIC_UTF8, "topic_utf8")                                                                    \
    X(JSON, "json")                                                                                \
    X(NO_KEY, "no_key")                                                                            \
    X(KEY_HASH, "key_hash")

typedef enum hs__malformed {
#define HS__MALFORMED_ENUM(e, label) HS__MALFORMED_##e,
    HS__MALFORMED_MAP(HS__MALFORMED_ENUM)
#undef HS__MALFORMED_ENUM
        HS__MALFORMED__COUNT
} hs__malformed;

extern const char *const hs__malformed_labels[HS__MALFORMED__COUNT];

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

    atomic_uint_fast64_t received, claimed, skipped, unmatched, abandoned, key_fallbacks;
    atomic_uint_fast64_t malformed[HS__MALFORMED__COUNT];
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
    hs__claim_stats claim;
    /* the newest message time the ingress thread decided (published after
     * the message was queued), for the watermark */
    atomic_uint_fast64_t decided_ts;
    atomic_uint_fast64_t untimed, skewed, confirm_waits, confirm_timeouts, confirm_wait_ns;
    /* mirrored from the membership thread's stats by the main loop */
    atomic_uint_fast64_t coord_errors, coord_rounds, coord_epoch, watermark_ns;
    hs__ring ring; /* the ingress thread's (its gauges are atomics) */

    pthread_t ingress;
    bool ingress_running;
    atomic_bool stop;   /* ingress: stop receiving */
    atomic_bool abort;  /* ingress: give up a blocked hand-over */
    atomic_bool failed; /* ingress: died of an error; the hub stops */
    void *metrics;      /* struct MHD_Daemon * */
    char metrics_addr[300];
} hs__hub;

/* Run a hub with a checked config until SIGTERM/SIGINT; returns the exit
 * status (0 after a clean drain, 1 when it could not start). */
int hs__hub_run(const hs__hub_config *cfg);

/* Ingress thread (ingress.c). */
/* The checks on one [topic, body] message before the claim: the body's and
 * the topic's sizes (both HS__MALFORMED_OVERSIZE), the topic's UTF-8, then
 * the key (and the fallback key, when not NULL).
 * true: *key and *klen point into topic, body or buf, and *fell_back says
 * the fallback found it. false: *why and a sentence in detail say why the
 * message is refused. Pure and thread-safe given its own buf (the fuzz
 * target calls it directly). */
bool hs__ingress_check(size_t max_body, size_t max_topic, const hs__key_spec *key_spec,
                       const hs__key_spec *fallback, const char *t, size_t tlen, const char *b,
                       size_t blen, hs__key_buf *buf, const char **key, size_t *klen,
                       bool *fell_back, hs__malformed *why, char *detail, size_t detaillen);
int hs__ingress_start(hs__hub *hub, char *err, size_t errlen);
void hs__ingress_join(hs__hub *hub);

/* Metrics (metrics.c): render the Prometheus text or the /status JSON into
 * a malloc'd string; start/stop the HTTP endpoint. */
char *hs__metrics_render(hs__hub *hub, size_t *len);
char *hs__status_render(hs__hub *hub, size_t *len);
int hs__metrics_start(hs__hub *hub, const char *hostport, char *err, size_t errlen);
void hs__metrics_stop(hs__hub *hub);

#endif
