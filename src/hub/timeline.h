/* timeline.h - the views of a cluster ordered by the time from which each
 * decides, and how far that order is known to be complete.
 *
 * A timeline answers "which view decides a message stamped ts?" (the last
 * view whose effective_from <= ts) and "is that answer final?" (ts <=
 * confirmed_until: the coordinator promised that no view unknown to this
 * timeline takes effect at or before that time). It also carries the
 * hub's lease: past lease_until (CLOCK_MONOTONIC) the hub's registration
 * may have expired and it must stop claiming (fenced).
 *
 * Ownership: a timeline is an immutable snapshot; it retains the hs_view of
 * each entry and releases them when freed, and owns a copy of each entry's
 * departed members. hs__timeline_derive builds the
 * next snapshot from an older one, sharing its views.
 *
 * Threads: a snapshot never changes after it is built, so any number of
 * threads may read one at once without a lock. A snapshot is handed from
 * its builder (the membership thread) to its reader (the ingress thread)
 * through a hs__timeline_box: put() from any thread, take() from the one
 * reader, which then owns what it took and frees the snapshot it replaces.
 */
#ifndef HS_HUB_TIMELINE_H
#define HS_HUB_TIMELINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hashspace/view.h"

/* A member an entry's view dropped, and its watermark when the view was
 * made (the coordinator's record: a crashed member's last). */
typedef struct hs__timeline_departed {
    char name[HS_MEMBER_NAME_MAX + 1];
    bool leaving; /* a planned leave; else its registration was gone: a crash */
    bool has_watermark;
    uint64_t watermark_ns;
} hs__timeline_departed;

typedef struct hs__timeline_entry {
    uint64_t epoch;
    uint64_t effective_from_ns;
    hs_view *view; /* retained by the timeline */
    /* The members this view left out, by name (none when it dropped
     * nobody, or when its maker did not record them); copied by the
     * timeline. */
    const hs__timeline_departed *departed;
    size_t ndeparted;
} hs__timeline_entry;

typedef struct hs__timeline hs__timeline;

/* What the coordinator said of one member when the snapshot was built:
 * whether it is registered, leaving, and its watermark (every message it
 * owns with a time below it is finished). A member that is gone keeps its
 * last watermark. */
typedef struct hs__timeline_peer {
    char name[HS_MEMBER_NAME_MAX + 1];
    bool live, leaving, has_watermark;
    uint64_t heartbeat_ns; /* its last heartbeat, when live (coordinator time) */
    uint64_t watermark_ns;
} hs__timeline_peer;

/* The next snapshot: base's entries (NULL for none) followed by `add`
 * (nadd entries, each retained), less the entries superseded before
 * prune_before_ns (the one in force at that time and all later ones stay).
 * Added entries must continue the order: epoch and effective_from above the
 * newest entry's (effective_from may be equal), else HS_EINVAL and nothing
 * is built. confirmed_until is the larger of base's and the one given;
 * lease_until is the one given. */
int hs__timeline_derive(hs__timeline **out, const hs__timeline *base, const hs__timeline_entry *add,
                        size_t nadd, uint64_t confirmed_until_ns, uint64_t lease_until_ns,
                        uint64_t prune_before_ns);
/* Static membership: one view in force from time 0, confirmed and leased
 * forever (one code path for both kinds of membership). Retains view. */
int hs__timeline_static(hs__timeline **out, hs_view *view);
/* Give a snapshot that is being built (not yet shared) the members'
 * states, sorted by name (copied; replaces any earlier ones). HS_ENOMEM. */
int hs__timeline_set_peers(hs__timeline *t, const hs__timeline_peer *peers, size_t n);
/* What entry e's view recorded of a member it dropped, or NULL. */
const hs__timeline_departed *hs__timeline_departed_find(const hs__timeline_entry *e,
                                                        const char *name);
/* The state of a member by name, or NULL when the coordinator did not know
 * it (or no peers were set). */
const hs__timeline_peer *hs__timeline_peer_find(const hs__timeline *t, const char *name);
/* Accepts NULL. */
void hs__timeline_free(hs__timeline *t);

size_t hs__timeline_size(const hs__timeline *t);
/* Entry i, oldest first (i < size). */
const hs__timeline_entry *hs__timeline_entry_at(const hs__timeline *t, size_t i);
/* The newest entry; NULL when empty. */
const hs__timeline_entry *hs__timeline_newest(const hs__timeline *t);
/* The entry in force at ts: the last with effective_from <= ts; NULL when
 * ts is before the first (or the timeline is empty). O(log n). */
const hs__timeline_entry *hs__timeline_at(const hs__timeline *t, uint64_t ts_ns);
/* Entries that take effect after ts (pending at ts). */
size_t hs__timeline_pending(const hs__timeline *t, uint64_t ts_ns);

uint64_t hs__timeline_confirmed_until(const hs__timeline *t);
/* Is the answer for ts final? (ts <= confirmed_until) */
bool hs__timeline_confirmed(const hs__timeline *t, uint64_t ts_ns);
uint64_t hs__timeline_lease_until(const hs__timeline *t);
/* True when now (CLOCK_MONOTONIC ns) is past the lease. */
bool hs__timeline_fenced(const hs__timeline *t, uint64_t now_mono_ns);

/* A one-slot mailbox between one writer thread and one reader thread. */
typedef struct hs__timeline_box {
    _Atomic(hs__timeline *) next;
    atomic_uint_fast64_t puts; /* how many snapshots were put, for tests and metrics */
} hs__timeline_box;

void hs__timeline_box_init(hs__timeline_box *box);
/* Frees a snapshot nobody took. */
void hs__timeline_box_destroy(hs__timeline_box *box);
/* Hand over t (takes ownership; a snapshot put earlier and not yet taken is
 * freed: the reader only ever wants the newest). */
void hs__timeline_box_put(hs__timeline_box *box, hs__timeline *t);
/* The newest snapshot put since the last take, or NULL (one relaxed load
 * when there is none: cheap enough for every message). */
hs__timeline *hs__timeline_box_take(hs__timeline_box *box);

#endif
