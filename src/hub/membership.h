/* membership.h - a hub's side of dynamic membership: one thread that keeps
 * the hub registered with the coordinator, makes the next view when the live
 * members change, and hands the timeline of views to whoever decides
 * messages (docs/design.md "Membership").
 *
 * DESIGN: hs__membership_start starts one thread, which owns the
 * coordinator handle. Every `heartbeat` (and at once when the coordinator
 * publishes an event) it runs a round: heartbeat (registers the first time;
 * carries the weight, the watermark and the leaving flag), propose (makes
 * the next view if the live set differs from the newest view; one view per
 * change however many hubs propose), fetch (the views after the newest it
 * knows, and a confirmation promise). After each round it builds a new
 * immutable hs__timeline snapshot and puts it into the caller's
 * hs__timeline_box; the reader takes it between two messages. On an error it
 * drops the connection, counts a coordinator error and reconnects with
 * back-off (50 ms doubling to 2 s). The lease in each snapshot ends one
 * expiry after the start of the last successful heartbeat: past it the hub is
 * fenced (it may have been replaced) until a heartbeat succeeds again.
 * Shared with other threads: the watermark and the leaving flag (atomics,
 * written by the hub), the stats (atomics), the stop flag and an eventfd that
 * wakes the thread, and the leave hand-shake (mutex + condition variable).
 * It knows nothing of ingress or consumers: the box and an optional notify
 * callback are its whole output.
 */
#ifndef HS_HUB_MEMBERSHIP_H
#define HS_HUB_MEMBERSHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timeline.h"

#include "hashspace/place.h"
#include "hashspace/view.h"

#define HS__DEFAULT_HEARTBEAT_NS 1000000000ull /* 1 s */
#define HS__DEFAULT_EXPIRY_NS 3000000000ull    /* 3 s */
#define HS__DEFAULT_LEAD_NS 2000000000ull      /* 2 s */
#define HS__DEFAULT_HISTORY_NS 60000000000ull  /* views kept in the timeline: 60 s */
#define HS__DEFAULT_KEEP_VIEWS 32              /* views kept by the coordinator */

typedef struct hs__membership_config {
    const char *coordinator; /* URL, e.g. redis://127.0.0.1:6379 */
    const char *cluster;
    const char *self;
    double weight;
    uint64_t heartbeat_ns, expiry_ns, lead_ns;
    uint64_t history_ns; /* a view superseded longer ago than this leaves the timeline */
    size_t keep_views;
    /* How to build each view (hs_view_new's arguments). */
    const char *placement;
    const hs_place_opts *place_opts;
    const hs_hasher *hasher;
    /* Where the snapshots go, and who to tell (from the membership thread,
     * after each put; may be NULL). */
    hs__timeline_box *box;
    void (*notify)(void *arg);
    void *notify_arg;
} hs__membership_config;

typedef struct hs__membership_stats {
    uint64_t epoch;              /* the newest view known */
    uint64_t rounds;             /* successful rounds */
    uint64_t coordinator_errors; /* failed connects and rounds */
    uint64_t views_created;      /* by this hub's proposals */
    uint64_t round_trip_ns;      /* the last successful round: heartbeat + propose + fetch */
    uint64_t confirmed_until_ns; /* coordinator time */
    bool connected, fenced, leaving;
} hs__membership_stats;

typedef struct hs__membership hs__membership;

/* Defaults: weight 1, heartbeat 1 s, expiry 3 s, lead 2 s, history 60 s,
 * 32 views, placement "jump"; strings and the box left NULL. */
void hs__membership_config_defaults(hs__membership_config *cfg);

/* Check the config (sentence in err) and start the thread; it connects on
 * its own, so a coordinator that is down is not an error here. The strings
 * are copied; the box, the hasher and the options must outlive the
 * membership. Call it once the hub receives the bus: registering is a
 * promise to take a share. */
int hs__membership_start(hs__membership **out, const hs__membership_config *cfg, char *err,
                         size_t errlen);
/* The watermark sent with the next heartbeat (ns, coordinator time): every
 * message this hub owns with a time below it is finished. Any thread. */
void hs__membership_set_watermark(hs__membership *m, uint64_t watermark_ns);
/* Planned leave: from now on the heartbeat says "leaving", so the next view
 * leaves this hub out. Blocks until that view exists (its effective_from in
 * *effective_from_ns: keep processing what this hub owns until then), for
 * at most timeout_ns. HS_ETIMEOUT, or HS_EEMPTY when this hub is the last
 * member (no view without it can exist). Any thread but the membership's. */
int hs__membership_leave(hs__membership *m, uint64_t timeout_ns, uint64_t *effective_from_ns);
/* Stop the thread; with deregister, send a last heartbeat (the final
 * watermark) and remove the registration first. Frees m; accepts NULL. */
void hs__membership_stop(hs__membership *m, bool deregister);
/* Any thread. */
void hs__membership_stats_get(const hs__membership *m, hs__membership_stats *out);

#endif
