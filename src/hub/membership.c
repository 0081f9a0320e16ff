/* membership.c - the membership thread (DESIGN in membership.h). */
#include "membership.h"

#include "clock.h"

#include "coord.h"
#include "log.h"

#include "hashspace/error.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_MIN_NS 50000000ull     /* 50 ms */
#define BACKOFF_MAX_NS 2000000000ull   /* 2 s */
#define EVENT_ROUND_GAP_NS 10000000ull /* rounds caused by events: at most every 10 ms */

struct hs__membership {
    hs__membership_config cfg;
    char *coordinator, *cluster, *self, *placement;
    hs__coord *coord;
    pthread_t thread;
    int wake_fd;
    atomic_bool stop, leaving, deregister;
    atomic_uint_fast64_t watermark;
    /* stats */
    atomic_uint_fast64_t epoch, rounds, errors, created, round_trip, confirmed;
    atomic_bool connected, fenced;
    /* leave hand-shake */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool leave_done;
    int leave_rc;
    uint64_t leave_effective_from;
    /* the thread's own */
    hs__timeline *timeline;
    hs__coord_view newest;    /* epoch 0: none */
    hs__timeline_peer *peers; /* every member's state, from the last round */
    size_t npeers;
    uint64_t confirmed_until, lease_until;
};

void hs__membership_config_defaults(hs__membership_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->weight = 1.0;
    cfg->heartbeat_ns = HS__DEFAULT_HEARTBEAT_NS;
    cfg->expiry_ns = HS__DEFAULT_EXPIRY_NS;
    cfg->lead_ns = HS__DEFAULT_LEAD_NS;
    cfg->history_ns = HS__DEFAULT_HISTORY_NS;
    cfg->keep_views = HS__DEFAULT_KEEP_VIEWS;
    cfg->placement = "jump";
}

static void wake(hs__membership *m)
{
    uint64_t one = 1;
    while (write(m->wake_fd, &one, sizeof one) < 0 && errno == EINTR)
        ;
}

static void publish(hs__membership *m)
{
    hs__timeline *copy;
    if (hs__timeline_derive(&copy, m->timeline, NULL, 0, m->confirmed_until, m->lease_until, 0) !=
        HS_OK) {
        hs__error("membership: out of memory building a timeline");
        return;
    }
    if (hs__timeline_set_peers(copy, m->peers, m->npeers) != HS_OK) {
        hs__error("membership: out of memory building a timeline");
        hs__timeline_free(copy);
        return;
    }
    hs__timeline_box_put(m->cfg.box, copy);
    if (m->cfg.notify != NULL)
        m->cfg.notify(m->cfg.notify_arg);
}

static bool view_has(const hs__coord_view *v, const char *name)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->members[i].name, name) == 0)
            return true;
    return false;
}

static void leave_resolve(hs__membership *m, int rc, uint64_t effective_from)
{
    pthread_mutex_lock(&m->lock);
    if (!m->leave_done) {
        m->leave_done = true;
        m->leave_rc = rc;
        m->leave_effective_from = effective_from;
        pthread_cond_broadcast(&m->cond);
    }
    pthread_mutex_unlock(&m->lock);
}

/* Adopt fetched views: build each, extend the timeline. */
static int adopt(hs__membership *m, const hs__coord_fetch *f)
{
    if (f->n > 0 && m->newest.epoch > 0 && f->oldest_epoch > m->newest.epoch + 1)
        hs__error("membership: views %" PRIu64 " to %" PRIu64
                  " were trimmed before this hub saw them; it continues from view %" PRIu64,
                  m->newest.epoch + 1, f->oldest_epoch - 1, f->views[0].epoch);
    hs__timeline_entry *add = f->n ? calloc(f->n, sizeof *add) : NULL;
    size_t ndeparted = 0;
    for (size_t i = 0; i < f->n; i++)
        ndeparted += f->views[i].ndeparted;
    hs__timeline_departed *departed = ndeparted ? calloc(ndeparted, sizeof *departed) : NULL;
    if ((f->n > 0 && add == NULL) || (ndeparted > 0 && departed == NULL)) {
        free(add);
        free(departed);
        return HS_ENOMEM;
    }
    int rc = HS_OK;
    size_t built = 0, used = 0;
    for (; built < f->n; built++) {
        const hs__coord_view *v = &f->views[built];
        rc = hs_view_new(&add[built].view, v->epoch, m->cfg.placement, m->cfg.place_opts,
                         m->cfg.hasher, v->members, v->n);
        if (rc != HS_OK) {
            hs__error("membership: cannot build view %" PRIu64 " (%zu members) with placement "
                      "%s: %s",
                      v->epoch, v->n, m->cfg.placement, hs_strerror(rc));
            break;
        }
        add[built].epoch = v->epoch;
        add[built].effective_from_ns = v->effective_from_ns;
        /* What the view recorded of the members it dropped: a crashed
         * member is taken over from that watermark on, whatever it
         * published after it came back. */
        hs__timeline_departed *d = v->ndeparted > 0 ? departed + used : NULL;
        used += v->ndeparted;
        for (size_t k = 0; k < v->ndeparted; k++) {
            snprintf(d[k].name, sizeof d[k].name, "%s", v->departed[k].name);
            d[k].leaving = v->departed[k].leaving;
            d[k].has_watermark = v->departed[k].has_watermark;
            d[k].watermark_ns = v->departed[k].watermark_ns;
        }
        add[built].departed = d;
        add[built].ndeparted = v->ndeparted;
    }
    if (rc == HS_OK) {
        uint64_t confirmed =
            f->confirmed_until_ns > m->confirmed_until ? f->confirmed_until_ns : m->confirmed_until;
        uint64_t prune = f->now_ns > m->cfg.history_ns ? f->now_ns - m->cfg.history_ns : 0;
        hs__timeline *next;
        rc = hs__timeline_derive(&next, m->timeline, add, f->n, confirmed, m->lease_until, prune);
        if (rc == HS_OK) {
            hs__timeline_free(m->timeline);
            m->timeline = next;
            m->confirmed_until = confirmed;
        } else {
            hs__error("membership: fetched views do not continue the timeline (%s)",
                      hs_strerror(rc));
        }
    }
    if (rc == HS_OK && f->n > 0) {
        const hs__coord_view *v = &f->views[f->n - 1];
        hs__coord_view copy;
        if (hs__coord_view_copy(&copy, v) == HS_OK) {
            hs__coord_view_clear(&m->newest);
            m->newest = copy;
        }
        for (size_t i = 0; i < f->n; i++) {
            const hs__coord_view *w = &f->views[i];
            hs__info("view %" PRIu64 ": %zu members, effective in %.3f s (%s)", w->epoch, w->n,
                     ((double)w->effective_from_ns - (double)f->now_ns) / 1e9,
                     view_has(w, m->self) ? "with this hub" : "without this hub");
        }
        atomic_store(&m->epoch, v->epoch);
    }
    for (size_t i = 0; i < built; i++)
        hs_view_release(add[i].view);
    free(add);
    free(departed);
    return rc;
}

/* Every member's liveness and watermark, for the snapshot: the hub holds
 * moved keys until their old owner's watermark passes, and replays a
 * crashed member's messages from its last one. */
static int read_peers(hs__membership *m)
{
    hs__coord_member *list;
    size_t n;
    uint64_t now;
    int rc = hs__coord_members(m->coord, &list, &n, &now);
    if (rc != HS_OK)
        return rc;
    hs__timeline_peer *peers = n > 0 ? calloc(n, sizeof *peers) : NULL;
    if (n > 0 && peers == NULL) {
        free(list);
        return hs__coord_fail(m->coord, HS_ENOMEM, "out of memory reading the members");
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(peers[i].name, sizeof peers[i].name, "%s", list[i].name);
        peers[i].live = list[i].live;
        peers[i].leaving = list[i].leaving;
        peers[i].heartbeat_ns = list[i].heartbeat_ns;
        peers[i].has_watermark = list[i].has_watermark;
        peers[i].watermark_ns = list[i].watermark_ns;
    }
    free(list);
    free(m->peers);
    m->peers = peers;
    m->npeers = n;
    return HS_OK;
}

/* One round: heartbeat, propose, fetch, members, publish. */
static int round_once(hs__membership *m)
{
    bool leaving = atomic_load(&m->leaving);
    uint64_t start = hs__monotonic_ns();
    hs__coord_beat beat = {.name = m->self,
                           .weight = m->cfg.weight,
                           .watermark_ns = atomic_load(&m->watermark),
                           .expiry_ns = m->cfg.expiry_ns,
                           .leaving = leaving};
    int rc = hs__coord_heartbeat(m->coord, &beat, NULL);
    if (rc != HS_OK)
        return rc;
    m->lease_until = start + m->cfg.expiry_ns;
    hs__coord_proposal p = {.known_epoch = m->newest.epoch,
                            .known = m->newest.epoch > 0 ? &m->newest : NULL,
                            .lead_ns = m->cfg.lead_ns,
                            .expiry_ns = m->cfg.expiry_ns,
                            .floor_ns = m->confirmed_until,
                            .keep = m->cfg.keep_views};
    hs__coord_proposed proposed;
    if ((rc = hs__coord_propose(m->coord, &p, &proposed)) != HS_OK)
        return rc;
    if (proposed.outcome == HS__COORD_CREATED) {
        atomic_fetch_add(&m->created, 1);
        hs__info("membership: made view %" PRIu64, proposed.epoch);
    }
    hs__coord_fetch f;
    if ((rc = hs__coord_fetch_since(m->coord, m->newest.epoch, m->cfg.lead_ns, m->cfg.expiry_ns,
                                    &f)) != HS_OK)
        return rc;
    rc = adopt(m, &f);
    hs__coord_fetch_free(&f);
    if (rc != HS_OK)
        return hs__coord_fail(m->coord, rc, "the fetched views could not be adopted");
    if ((rc = read_peers(m)) != HS_OK)
        return rc;
    atomic_store(&m->round_trip, hs__monotonic_ns() - start);
    atomic_store(&m->confirmed, m->confirmed_until);
    atomic_fetch_add(&m->rounds, 1);
    publish(m);
    if (leaving) {
        if (m->newest.epoch == 0 || !view_has(&m->newest, m->self))
            leave_resolve(m, HS_OK, m->newest.effective_from_ns);
        else if (proposed.outcome == HS__COORD_NOBODY)
            leave_resolve(m, HS_EEMPTY, 0);
    }
    return HS_OK;
}

#define WOKEN_EVENT 1 /* the coordinator published something */
#define WOKEN_CALL 2  /* stop or leave */

/* Sleep until deadline (mono ns), the wake eventfd or a coordinator event;
 * returns what woke it (WOKEN_*), 0 for the deadline. */
static int wait_until(hs__membership *m, uint64_t deadline, bool watch)
{
    struct pollfd fds[2] = {{.fd = m->wake_fd, .events = POLLIN}, {.fd = -1}};
    int nfds = 1;
    if (watch) {
        int fd = hs__coord_watch_fd(m->coord);
        if (fd >= 0) {
            fds[1] = (struct pollfd){.fd = fd, .events = POLLIN};
            nfds = 2;
        }
    }
    uint64_t now = hs__monotonic_ns();
    int timeout_ms = deadline > now ? (int)((deadline - now + 999999) / 1000000) : 0;
    int n = poll(fds, (nfds_t)nfds, timeout_ms);
    if (n <= 0)
        return 0;
    int woken = 0;
    if (fds[0].revents & POLLIN) {
        uint64_t v;
        if (read(m->wake_fd, &v, sizeof v) == sizeof v)
            woken |= WOKEN_CALL;
    }
    if (nfds == 2 && (fds[1].revents & (POLLIN | POLLERR | POLLHUP))) {
        unsigned events;
        if (hs__coord_watch_drain(m->coord, &events) == HS_OK && events > 0)
            woken |= WOKEN_EVENT;
    }
    return woken;
}

static void update_fenced(hs__membership *m)
{
    bool fenced = hs__monotonic_ns() > m->lease_until;
    if (fenced != atomic_load(&m->fenced)) {
        atomic_store(&m->fenced, fenced);
        if (fenced)
            hs__warn("membership: fenced: no heartbeat reached the coordinator for %.1f s (the "
                     "registration may have expired); claiming stops until one does",
                     (double)m->cfg.expiry_ns / 1e9);
        else
            hs__info("membership: registered with the coordinator; claiming allowed");
        publish(m);
    }
}

static void *membership_main(void *arg)
{
    hs__membership *m = arg;
    pthread_setname_np(pthread_self(), "hs-membership"); /* for top -H, perf and /proc */
    uint64_t backoff = 0, last_event_round = 0;
    bool connected = false, complained = false;
    unsigned timeout_ms = (unsigned)(m->cfg.heartbeat_ns / 1000000);
    if (timeout_ms < 100)
        timeout_ms = 100;
    while (!atomic_load(&m->stop)) {
        if (!connected) {
            if (hs__coord_connect(m->coord, timeout_ms) != HS_OK) {
                atomic_fetch_add(&m->errors, 1);
                if (!complained)
                    hs__warn("membership: %s; retrying", hs__coord_error(m->coord));
                complained = true;
                backoff = backoff == 0 ? BACKOFF_MIN_NS : backoff * 2;
                if (backoff > BACKOFF_MAX_NS)
                    backoff = BACKOFF_MAX_NS;
                update_fenced(m);
                uint64_t until = hs__monotonic_ns() + backoff;
                if (m->lease_until > hs__monotonic_ns() && m->lease_until + 1000000 < until)
                    until = m->lease_until + 1000000; /* wake to say "fenced" on time */
                wait_until(m, until, false);
                continue;
            }
            connected = true;
            atomic_store(&m->connected, true);
        }
        uint64_t start = hs__monotonic_ns();
        if (round_once(m) != HS_OK) {
            atomic_fetch_add(&m->errors, 1);
            if (!complained)
                hs__warn("membership: %s; reconnecting", hs__coord_error(m->coord));
            complained = true;
            connected = false;
            atomic_store(&m->connected, false);
            update_fenced(m);
            continue;
        }
        if (complained)
            hs__info("membership: coordinator answers again");
        complained = false;
        backoff = 0;
        update_fenced(m);
        uint64_t next = start + m->cfg.heartbeat_ns;
        while (!atomic_load(&m->stop) && hs__monotonic_ns() < next) {
            int woken = wait_until(m, next, true);
            if ((woken & WOKEN_CALL) ||
                ((woken & WOKEN_EVENT) &&
                 hs__monotonic_ns() - last_event_round >= EVENT_ROUND_GAP_NS)) {
                last_event_round = hs__monotonic_ns();
                break; /* a round now */
            }
        }
    }
    if (connected && atomic_load(&m->deregister)) {
        hs__coord_beat beat = {.name = m->self,
                               .weight = m->cfg.weight,
                               .watermark_ns = atomic_load(&m->watermark),
                               .expiry_ns = m->cfg.expiry_ns,
                               .leaving = true};
        if (hs__coord_heartbeat(m->coord, &beat, NULL) != HS_OK ||
            hs__coord_deregister(m->coord, m->self) != HS_OK)
            hs__warn("membership: could not deregister (%s); the registration expires in %.1f s",
                     hs__coord_error(m->coord), (double)m->cfg.expiry_ns / 1e9);
    }
    leave_resolve(m, HS_ECLOSED, 0);
    return NULL;
}

int hs__membership_start(hs__membership **out, const hs__membership_config *cfg, char *err,
                         size_t errlen)
{
    *out = NULL;
    if (cfg->box == NULL || cfg->self == NULL || !hs__coord_name_valid(cfg->self)) {
        snprintf(err, errlen,
                 "self '%.80s': a member name is 1 to %d printable characters "
                 "without blanks, ',' or '='",
                 cfg->self ? cfg->self : "", HS_MEMBER_NAME_MAX);
        return HS_EINVAL;
    }
    if (!isfinite(cfg->weight) || cfg->weight <= 0) {
        snprintf(err, errlen, "weight: must be a positive number");
        return HS_EINVAL;
    }
    if (cfg->heartbeat_ns < 10000000ull || cfg->expiry_ns <= cfg->heartbeat_ns) {
        snprintf(err, errlen,
                 "heartbeat (%.3f s) must be at least 10 ms and shorter than expiry "
                 "(%.3f s)",
                 (double)cfg->heartbeat_ns / 1e9, (double)cfg->expiry_ns / 1e9);
        return HS_EINVAL;
    }
    if (cfg->lead_ns < cfg->heartbeat_ns) {
        snprintf(err, errlen,
                 "lead-time (%.3f s) must be at least one heartbeat (%.3f s), so "
                 "that every hub learns of a view before it takes effect",
                 (double)cfg->lead_ns / 1e9, (double)cfg->heartbeat_ns / 1e9);
        return HS_EINVAL;
    }
    if (cfg->keep_views < 2) {
        snprintf(err, errlen, "keep at least 2 views");
        return HS_EINVAL;
    }
    hs__membership *m = calloc(1, sizeof *m);
    if (m == NULL) {
        snprintf(err, errlen, "out of memory");
        return HS_ENOMEM;
    }
    m->cfg = *cfg;
    m->wake_fd = -1;
    atomic_init(&m->fenced, true); /* not registered yet */
    int rc = hs__coord_open(&m->coord, cfg->coordinator ? cfg->coordinator : "", cfg->cluster, err,
                            errlen);
    if (rc != HS_OK)
        goto fail;
    m->self = strdup(cfg->self);
    m->placement = strdup(cfg->placement ? cfg->placement : "jump");
    if (m->self == NULL || m->placement == NULL) {
        rc = HS_ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    m->cfg.self = m->self;
    m->cfg.placement = m->placement;
    m->cfg.coordinator = m->cfg.cluster = NULL; /* the handle has them */
    if ((rc = hs__timeline_derive(&m->timeline, NULL, NULL, 0, 0, 0, 0)) != HS_OK) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if ((m->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        rc = HS_ESYSTEM;
        goto fail;
    }
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->cond, NULL);
    int e = pthread_create(&m->thread, NULL, membership_main, m);
    if (e != 0) {
        snprintf(err, errlen, "cannot start the membership thread: %s", strerror(e));
        pthread_mutex_destroy(&m->lock);
        pthread_cond_destroy(&m->cond);
        rc = HS_ESYSTEM;
        goto fail;
    }
    *out = m;
    return HS_OK;
fail:
    if (m->wake_fd >= 0)
        close(m->wake_fd);
    hs__timeline_free(m->timeline);
    hs__coord_close(m->coord);
    free(m->self);
    free(m->placement);
    free(m);
    return rc;
}

void hs__membership_set_watermark(hs__membership *m, uint64_t watermark_ns)
{
    atomic_store(&m->watermark, watermark_ns);
}

int hs__membership_leave(hs__membership *m, uint64_t timeout_ns, uint64_t *effective_from_ns)
{
    atomic_store(&m->leaving, true);
    wake(m);
    struct timespec deadline = hs__timespec(hs__realtime_ns() + timeout_ns);
    pthread_mutex_lock(&m->lock);
    int rc = HS_OK;
    while (!m->leave_done && rc == HS_OK)
        if (pthread_cond_timedwait(&m->cond, &m->lock, &deadline) == ETIMEDOUT)
            rc = HS_ETIMEOUT;
    if (m->leave_done) {
        rc = m->leave_rc;
        if (effective_from_ns != NULL)
            *effective_from_ns = m->leave_effective_from;
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

void hs__membership_stop(hs__membership *m, bool deregister)
{
    if (m == NULL)
        return;
    atomic_store(&m->deregister, deregister);
    atomic_store(&m->stop, true);
    wake(m);
    pthread_join(m->thread, NULL);
    pthread_mutex_destroy(&m->lock);
    pthread_cond_destroy(&m->cond);
    close(m->wake_fd);
    hs__timeline_free(m->timeline);
    hs__coord_view_clear(&m->newest);
    hs__coord_close(m->coord);
    free(m->peers);
    free(m->self);
    free(m->placement);
    free(m);
}

void hs__membership_stats_get(const hs__membership *m, hs__membership_stats *out)
{
    hs__membership *w = (hs__membership *)m; /* atomics are read through non-const */
    out->epoch = atomic_load(&w->epoch);
    out->rounds = atomic_load(&w->rounds);
    out->coordinator_errors = atomic_load(&w->errors);
    out->views_created = atomic_load(&w->created);
    out->round_trip_ns = atomic_load(&w->round_trip);
    out->confirmed_until_ns = atomic_load(&w->confirmed);
    out->connected = atomic_load(&w->connected);
    out->fenced = atomic_load(&w->fenced);
    out->leaving = atomic_load(&w->leaving);
}
