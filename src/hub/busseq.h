/* busseq.h - losses on the bus made visible: each publisher's sequence
 * numbers (fedmsg's per-publisher counter `i`), tracked to count what never
 * arrived.
 *
 * PUB/SUB drops silently when a pipe is full or a subscriber reconnects. A
 * fedmsg publisher numbers its messages 1, 2, 3, ...; a hub that sees 7
 * after 4 knows that 5 and 6 did not reach it. Per publisher (its identity
 * is the hub's choice: see hs__busseq_observe) the tracker keeps the last
 * number and a window of the HS__BUSSEQ_WINDOW numbers below it:
 *
 *   i = last + 1            in order
 *   i > last + 1            a gap: i - last - 1 counted missing at once
 *   last - W < i < last     late (fills a hole counted missing: net missing
 *                           is missing - late) or, if already seen, a
 *                           duplicate
 *   i == last               a duplicate
 *   i <= 1 or i <= last - W a new stream: the publisher restarted
 *
 * The first number seen of a publisher starts its stream wherever it is (a
 * hub that joins mid-stream has missed nothing).
 *
 * DESIGN: the ingress thread is the only writer. Publishers are appended to
 * a fixed array (at most HS__BUSSEQ_MAX_PUBLISHERS; later ones are counted
 * as untracked), each entry's name written before the count that publishes
 * it (release/acquire), its counters atomics, so the metrics thread reads
 * without a lock. The index from name to entry is the ingress thread's own.
 */
#ifndef HS_HUB_BUSSEQ_H
#define HS_HUB_BUSSEQ_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define HS__BUSSEQ_WINDOW 64
#define HS__BUSSEQ_MAX_PUBLISHERS 256
#define HS__BUSSEQ_NAME_MAX 128

/* X(field, metric suffix, help): the counters of one publisher. */
#define HS__BUSSEQ_COUNTER_MAP(X)                                                                  \
    X(received, "received", "Messages with a sequence number received from the publisher.")        \
    X(missing, "missing",                                                                          \
      "Sequence numbers skipped by the publisher's stream (counted at the gap).")                  \
    X(gaps, "gaps", "Gaps in the publisher's sequence (each one logged).")                         \
    X(late, "late",                                                                                \
      "Messages that arrived after a gap counted them missing (net loss: missing - late).")        \
    X(duplicates, "duplicates", "Sequence numbers received twice.")                                \
    X(restarts, "restarts", "Times the publisher's sequence started again (a restart).")

typedef struct hs__busseq_pub {
    char name[HS__BUSSEQ_NAME_MAX];
    atomic_uint_fast64_t last; /* the highest number of the current stream */
    uint64_t window;           /* bit k: last - k was seen (ingress thread only) */
#define HS__BUSSEQ_FIELD(field, suffix, help) atomic_uint_fast64_t field;
    HS__BUSSEQ_COUNTER_MAP(HS__BUSSEQ_FIELD)
#undef HS__BUSSEQ_FIELD
} hs__busseq_pub;

typedef struct hs__busseq {
    hs__busseq_pub *pubs;             /* HS__BUSSEQ_MAX_PUBLISHERS entries */
    atomic_size_t npubs;              /* entries published to readers */
    uint32_t *index;                  /* open addressing: entry + 1, 0 = empty */
    atomic_uint_fast64_t untracked;   /* messages of publishers over the limit */
    atomic_uint_fast64_t unsequenced; /* messages without a sequence number */
} hs__busseq;

/* What one message's number says. */
typedef enum hs__busseq_event {
    HS__BUSSEQ_IN_ORDER,
    HS__BUSSEQ_FIRST,     /* the first message of this publisher */
    HS__BUSSEQ_GAP,       /* *missing numbers were skipped */
    HS__BUSSEQ_LATE,      /* filled a hole */
    HS__BUSSEQ_DUPLICATE, /* seen already */
    HS__BUSSEQ_RESTART,   /* a new stream began */
    HS__BUSSEQ_UNTRACKED, /* too many publishers: not tracked */
} hs__busseq_event;

int hs__busseq_init(hs__busseq *s);
void hs__busseq_destroy(hs__busseq *s);

/* Record number i of the publisher named name (len bytes, cut at
 * HS__BUSSEQ_NAME_MAX - 1). *missing is set for a gap, *previous to the
 * number before it (for gaps and restarts). Ingress thread only. */
hs__busseq_event hs__busseq_observe(hs__busseq *s, const char *name, size_t len, uint64_t i,
                                    uint64_t *missing, uint64_t *previous);
/* The same, for a caller that keeps the last publisher's entry in *last
 * (NULL at first, and whenever the name is not the last one's): the entry
 * is then not looked up again. */
hs__busseq_event hs__busseq_observe_cached(hs__busseq *s, hs__busseq_pub **last, const char *name,
                                           size_t len, uint64_t i, uint64_t *missing,
                                           uint64_t *previous);

/* Publishers readers may look at: entries [0, n). Any thread. */
static inline size_t hs__busseq_count(hs__busseq *s)
{
    return atomic_load_explicit(&s->npubs, memory_order_acquire);
}

#endif
