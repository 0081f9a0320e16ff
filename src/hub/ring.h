/* ring.h - the recent messages a hub did not claim, kept for a while so that
 * it can replay them when their owner crashes (docs/design.md "Membership").
 *
 * A FIFO in arrival order, bounded by age (arrival, CLOCK_MONOTONIC) and by
 * memory (the messages' allocations plus the slots): the oldest leave first.
 * The ring remembers the newest message time it ever let go, so a replay can
 * tell whether the ring still reaches back to a crashed hub's watermark.
 *
 * Ownership: each slot holds one reference to its message; a replay takes
 * the slot's reference (hs__ring_take). Threads: owned by the ingress thread;
 * the two gauges (messages, bytes) are atomics any thread may read.
 */
#ifndef HS_HUB_RING_H
#define HS_HUB_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"

typedef struct hs__ring_slot {
    hs__msg *msg;        /* NULL once taken by a replay */
    uint64_t arrived_ns; /* CLOCK_MONOTONIC */
    bool fenced;         /* kept while the hub was fenced: it may still be its own */
} hs__ring_slot;

typedef struct hs__ring {
    hs__ring_slot *slots;
    size_t cap, head, count;
    uint64_t max_age_ns;
    size_t max_bytes, bytes; /* bytes: the messages' and the slots' */
    bool evicted_any;
    uint64_t evicted_newest_ts; /* the newest message time evicted */
    atomic_uint_fast64_t gauge_messages, gauge_bytes;
} hs__ring;

/* max_age_ns or max_bytes 0: a ring that keeps nothing. */
void hs__ring_init(hs__ring *r, uint64_t max_age_ns, size_t max_bytes);
/* Releases every message still kept. */
void hs__ring_destroy(hs__ring *r);
/* Keep m (takes one reference), first letting go what is too old or what
 * does not fit. A ring that cannot grow (out of memory) lets go of m, and
 * counts it as evicted. */
void hs__ring_push(hs__ring *r, hs__msg *m, uint64_t now_mono_ns, bool fenced);
/* Let go of what is older than the age bound (called when idle too). */
void hs__ring_expire(hs__ring *r, uint64_t now_mono_ns);
/* Slot i from the oldest (i < r->count); its msg may be NULL (taken). */
hs__ring_slot *hs__ring_at(hs__ring *r, size_t i);
/* Take slot i's message and reference (the slot stays, empty). */
hs__msg *hs__ring_take(hs__ring *r, size_t i);
/* Does the ring still hold every message it saw with a time >= ts? */
bool hs__ring_reaches(const hs__ring *r, uint64_t ts_ns);
/* The memory one kept message costs. */
size_t hs__ring_cost(const hs__msg *m);

#endif
