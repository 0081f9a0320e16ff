/* claim.h - which hub owns a message, decided by the message's time against
 * the timeline of views, and what follows from a change of views: holding
 * the keys that moved to this hub until their old owner is done with them,
 * and taking over the share of a hub that crashed (docs/design.md
 * "Membership").
 *
 * The rule, the same on every hub: a message stamped ts belongs to the
 * owner of its key under the view in force at ts (hs__timeline_at). When
 * that owner D crashed (a later view leaves D out, D did not announce a
 * leave, and D's last watermark W_D is below that view's effective_from),
 * a message with ts >= W_D belongs to its owner under the first view
 * without D instead (repeated while that owner crashed too); below W_D, D
 * finished it. A message that moved to this hub at a view's effective_from
 * F from a hub A that is still alive is held until A's watermark reaches F
 * (or, when A does not get there, for at most hold_timeout).
 *
 * Static membership is a one-view timeline confirmed forever: the same code
 * answers "mine" or "not mine" and nothing else happens.
 *
 * Ownership: the claim retains the snapshot it was given and frees the one
 * it replaces; held messages keep the references the caller gave.
 * Threads: owned by the ingress thread; the stats are atomics any thread
 * may read.
 */
#ifndef HS_HUB_CLAIM_H
#define HS_HUB_CLAIM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consumer.h"
#include "msg.h"
#include "timeline.h"

typedef enum hs__verdict {
    HS__VERDICT_SKIP,   /* another hub's */
    HS__VERDICT_OWN,    /* this hub's: process it now */
    HS__VERDICT_HOLD,   /* this hub's, after its old owner is done (or after an
                           earlier held message of its key) */
    HS__VERDICT_FENCED, /* this hub may have been replaced: claim nothing */
} hs__verdict;

/* Counters of the handover machinery (atomics; gauges say so). */
typedef struct hs__claim_stats {
    atomic_uint_fast64_t replayed;       /* a crashed hub's messages taken from the ring */
    atomic_uint_fast64_t taken_over;     /* ... and arriving live, stamped before the view */
    atomic_uint_fast64_t possible_dups;  /* of both: the dead hub may have finished them */
    atomic_uint_fast64_t ring_misses;    /* replays the ring no longer reached back for */
    atomic_uint_fast64_t crashes;        /* members found crashed */
    atomic_uint_fast64_t held;           /* gauge: messages held now */
    atomic_uint_fast64_t held_total;     /* messages ever held */
    atomic_uint_fast64_t hold_ns;        /* time they spent held, summed */
    atomic_uint_fast64_t hold_timeouts;  /* released before their old owner was done */
    atomic_uint_fast64_t held_oldest_ts; /* gauge: the head's message time, 0 if none */
    atomic_uint_fast64_t fenced;         /* gauge: 1 while fenced */
    atomic_uint_fast64_t fenced_msgs;    /* messages not claimed because fenced */
    atomic_uint_fast64_t view_epoch;     /* gauge: the view in force now */
    atomic_uint_fast64_t view_members;   /* gauge: its size */
    atomic_uint_fast64_t pending;        /* gauge: views made, not yet in force */
    atomic_uint_fast64_t pending_from;   /* gauge: the next one's effective_from, 0 if none */
} hs__claim_stats;

/* Deliver m to n targets (the caller's function: it hands one reference to
 * each). */
typedef void (*hs__claim_deliver)(void *arg, hs__msg *m, hs__consumer *const *targets, size_t n);

typedef struct hs__claim hs__claim;

/* expiry_ns: how long a crashed hub may have gone on after its last
 * heartbeat (messages up to then may be duplicates); hold_max: the most
 * messages held at once; hold_timeout_ns: how long a message waits for an
 * old owner that lives but does not finish (0: as long as it takes). */
int hs__claim_new(hs__claim **out, const char *self, uint64_t expiry_ns, size_t hold_max,
                  uint64_t hold_timeout_ns, hs__claim_stats *stats);
/* Releases the snapshot; held messages must have been flushed. */
void hs__claim_free(hs__claim *c);

/* Adopt a newer snapshot (takes ownership). Members found crashed in it are
 * returned through hs__claim_crashed (until the next adopt). */
void hs__claim_adopt(hs__claim *c, hs__timeline *t, uint64_t now_mono_ns);
/* Refresh the gauges of the view in force (at most every 20 ms); logs a
 * view coming into force. */
void hs__claim_tick(hs__claim *c, uint64_t now_mono_ns);
/* The snapshot in use (NULL before the first). */
const hs__timeline *hs__claim_timeline(const hs__claim *c);
/* Set when this hub announced a planned leave: its own departure is then
 * no crash. */
void hs__claim_set_leaving(hs__claim *c);

/* Is this hub fenced now (its lease ran out)? *unfenced says it just
 * stopped being so: the messages the ring kept meanwhile may be its own. */
bool hs__claim_update_fence(hs__claim *c, uint64_t now_mono_ns, bool *unfenced);

/* The crashed members of the last adopt: their names, watermarks and last
 * heartbeats (to replay). */
size_t hs__claim_crashed(const hs__claim *c, const char **name, uint64_t *watermark_ns,
                         uint64_t *heartbeat_ns, size_t i);

/* The verdict on a message stamped ts whose key hashes to hash. *taken_over
 * says the message is this hub's only because its owner crashed;
 * *possible_dup that the crashed hub may have finished it. */
hs__verdict hs__claim_decide(hs__claim *c, uint64_t ts_ns, uint64_t hash, uint64_t now_mono_ns,
                             bool *taken_over, bool *possible_dup);
/* Is a message the ring kept (stamped ts, not claimed then) this hub's
 * now, because its owner crashed? (*possible_dup as above.) fenced: it was
 * kept while this hub was fenced, and is this hub's when no view replaced
 * it. */
bool hs__claim_replay_mine(hs__claim *c, uint64_t ts_ns, uint64_t hash, bool fenced,
                           bool *possible_dup);

/* Hold m (the caller's references for the n ordered targets, copied) until
 * its old owner is done. HS_EFULL when hold_max messages are held. */
int hs__claim_hold(hs__claim *c, hs__msg *m, hs__consumer *const *targets, size_t n,
                   uint64_t now_mono_ns);
/* Deliver, in order, the held messages whose old owner is done (all of them
 * with force). A message held for hold_timeout whose old owner is still not
 * done goes too, and so does, from then on, every message held for the same
 * handover: counted (hold_timeouts) and logged, its order after the old
 * owner's unfinished messages of its key is lost. Returns how many. */
size_t hs__claim_release(hs__claim *c, bool force, uint64_t now_mono_ns, hs__claim_deliver fn,
                         void *arg);
size_t hs__claim_held(const hs__claim *c);

#endif
