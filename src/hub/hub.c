/* hub.c - a hub's lifecycle: build, start, wait for SIGTERM/SIGINT, drain,
 * report; SIGHUP in between reopens the output files (log rotation). The
 * DESIGN paragraph is in hub.h.
 *
 * Stopping, in order: the ingress thread stops receiving and finishes the
 * message in hand; the queues are closed and the workers drain them until
 * the drain deadline (--drain-timeout after the signal), then dead-letter
 * what was left (reason "left") and count it. A worker still inside its sink
 * 2 s after the deadline is unstuck by stopping its exec child (SIGTERM to
 * the child's process group, SIGKILL 1 s later), so that no child outlives
 * the hub; one still stuck 0.5 s after that has its queue dead-lettered by
 * this thread, and the hub exits without it. The metrics endpoint stops
 * last, so a scraper sees the drain.
 */
#include "hub.h"

#include "log.h"
#include "outfile.h"
#include "notify.h"
#include "webauth.h"

#include "hashspace/error.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.h>

/* Extra time past the drain deadline for a worker stuck inside its sink;
 * then its child gets SIGTERM, and SIGKILL after the next grace. */
#define HUB_JOIN_GRACE_NS 2000000000ull
#define HUB_TERM_GRACE_NS 1000000000ull
#define HUB_KILL_GRACE_NS 500000000ull

static uint64_t load_u64(const atomic_uint_fast64_t *a)
{
    return atomic_load_explicit((atomic_uint_fast64_t *)a, memory_order_relaxed);
}

static int join_by(pthread_t t, uint64_t deadline_mono)
{
    uint64_t now = hs__monotonic_ns();
    uint64_t until = hs__realtime_ns() + (deadline_mono > now ? deadline_mono - now : 0);
    struct timespec ts = {(time_t)(until / 1000000000u), (long)(until % 1000000000u)};
    return pthread_timedjoin_np(t, NULL, &ts);
}

/* The exit summary: a line for the hub, one for the bus losses, one per
 * consumer (the words come from the counter maps). stuck[i] (stuck may be
 * NULL when it could not be allocated) is how many of consumer i's workers
 * are still inside their sink. */
static void summary(hs__hub *hub, double drain_s, const unsigned *stuck)
{
    uint64_t values[HS__HUB_STATS];
    char text[1024];
    for (size_t i = 0; i < HS__HUB_STATS; i++)
        values[i] = hs__hub_stat_value(hub, &hs__hub_stats[i]);
    hs__stats_format(text, sizeof text, hs__hub_stats, HS__HUB_STATS, values, ", ", false);
    hs__info("hub %s: %s; drained in %.3f s", hub->cfg->self, text, drain_s);
    if (hub->track_seq) {
        unsigned long long missing = 0, late = 0, duplicates = 0, restarts = 0;
        size_t n = hs__busseq_count(&hub->busseq);
        for (size_t i = 0; i < n; i++) {
            missing += load_u64(&hub->busseq.pubs[i].missing);
            late += load_u64(&hub->busseq.pubs[i].late);
            duplicates += load_u64(&hub->busseq.pubs[i].duplicates);
            restarts += load_u64(&hub->busseq.pubs[i].restarts);
        }
        hs__log(missing > late ? HS__LOG_WARN : HS__LOG_INFO,
                "bus: %zu publisher%s, missing %llu (late %llu), duplicates %llu, restarts %llu, "
                "unsequenced %llu",
                n, n == 1 ? "" : "s", missing, late, duplicates, restarts,
                (unsigned long long)load_u64(&hub->busseq.unsequenced));
    }
    uint64_t now = hs__monotonic_ns();
    for (size_t i = 0; i < hub->nconsumers; i++) {
        hs__consumer *c = hub->consumers[i];
        hs__consumer_sample s;
        hs__consumer_sample_read(c, now, &s);
        hs__stats_format(text, sizeof text, hs__consumer_stats, HS__CONSUMER_STATS, s.value, ", ",
                         false);
        hs__info("consumer %s: %s%s%s", c->spec.name, text,
                 s.value[HS__CONSUMER_STAT_left] > 0
                     ? " (left: dead-lettered with reason \"left\", to replay)"
                     : "",
                 stuck != NULL && stuck[i] > 0 ? " (a worker is still inside its sink)" : "");
    }
}

/* Join every consumer's workers by join_by_ns; stuck[i] (stuck may be NULL)
 * gets how many of consumer i's did not finish. true when any did not. */
static bool join_workers(hs__hub *hub, unsigned *stuck, uint64_t join_by_ns)
{
    bool any = false;
    for (size_t i = 0; i < hub->nconsumers; i++) {
        unsigned n = hs__consumer_join(hub->consumers[i], join_by_ns);
        if (stuck != NULL)
            stuck[i] = n;
        any |= n > 0;
    }
    return any;
}

/* A worker stuck inside its sink is usually waiting for an exec child that
 * hangs (no timeout set): stopping the child unsticks it, and the child must
 * not outlive the hub anyway. */
static void stop_stuck_children(hs__hub *hub, const unsigned *stuck, int sig)
{
    for (size_t i = 0; i < hub->nconsumers; i++) {
        if (stuck != NULL && stuck[i] == 0)
            continue;
        hs__warn("consumer %s: a worker is still inside its sink after the drain deadline; "
                 "sending %s to its child process",
                 hub->consumers[i]->spec.name, sig == SIGKILL ? "SIGKILL" : "SIGTERM");
        hs__consumer_signal_children(hub->consumers[i], sig);
    }
}

static void hub_free(hs__hub *hub, const unsigned *stuck)
{
    close(hub->ingress_wake_fd);
    for (size_t i = 0; i < hub->nconsumers; i++)
        if (stuck == NULL || stuck[i] == 0)
            hs__consumer_free(hub->consumers[i]);
    free(hub->consumers);
    hs__timeline_box_destroy(&hub->box);
    hs__ring_destroy(&hub->ring);
    hs__deadletter_free(hub->deadletter);
    hs__key_spec_clear(&hub->key);
    hs__key_spec_clear(&hub->key_fallback);
    hs__key_spec_clear(&hub->seq_key);
    hs__key_spec_clear(&hub->seq_publisher);
    hs__key_spec_clear(&hub->time_key);
    hs__busseq_destroy(&hub->busseq);
    hs__curve_auth_stop(hub->curve);
    hub->curve = NULL;
    explicit_bzero(&hub->curve_self, sizeof hub->curve_self);
    hs__webauth_free(hub->webauth);
    if (hub->zmq_ctx != NULL)
        zmq_ctx_term(hub->zmq_ctx);
}

/* CURVE, when curve-secret-key is set: this hub's key pair, the
 * publishers' key for connect endpoints, and the ZAP handler in the hub's
 * context with the allowlist for bind endpoints, started before the SUB
 * socket binds (libzmq lets every CURVE client in while no handler is
 * bound). hs__config_check made sure each role has its keys. */
static int start_curve(hs__hub *hub, const hs__hub_config *cfg)
{
    if (cfg->curve_secret_key == NULL)
        return 0;
    char err[600];
    if (hs__curve_secret_load(cfg->curve_secret_key, &hub->curve_self, err, sizeof err) != HS_OK) {
        hs__error("curve-secret-key: %s", err);
        return -1;
    }
    if (cfg->curve_server_key != NULL &&
        hs__curve_public_load(cfg->curve_server_key, &hub->curve_server, err, sizeof err) !=
            HS_OK) {
        hs__error("curve-server-key: %s", err);
        return -1;
    }
    if (hs__curve_auth_start(&hub->curve, hub->zmq_ctx, cfg->curve_allow, "publisher", err,
                             sizeof err) != HS_OK) {
        hs__error("curve-allow: %s", err);
        return -1;
    }
    hs__info("bus: CURVE on; this hub's public key %s%s%s", hub->curve_self.public_key.z85,
             cfg->curve_server_key != NULL ? ", publishers' key " : "",
             cfg->curve_server_key != NULL ? hub->curve_server.z85 : "");
    if (cfg->curve_allow != NULL)
        hs__info("bus: publishers allowed to connect: %zu key%s in %s",
                 hs__curve_auth_allowed(hub->curve),
                 hs__curve_auth_allowed(hub->curve) == 1 ? "" : "s", cfg->curve_allow);
    return 0;
}

/* SIGHUP: the allowlist is read again; a failure keeps the old one. */
static void reload_curve(hs__hub *hub)
{
    if (hub->curve == NULL || hub->cfg->curve_allow == NULL)
        return;
    char err[600];
    size_t n;
    if (hs__curve_auth_reload(hub->curve, &n, err, sizeof err) != HS_OK)
        hs__error("SIGHUP: curve-allow: %s; keeping the %zu key%s allowed before", err, n,
                  n == 1 ? "" : "s");
    else
        hs__info("SIGHUP: curve-allow reread: %zu key%s in %s", n, n == 1 ? "" : "s",
                 hub->cfg->curve_allow);
}

/* What this hub is about to run, logged before the ingress thread starts. */
static void log_setup(const hs__hub *hub, const hs__hub_config *cfg)
{
    for (size_t i = 0; i < cfg->connect.n; i++)
        hs__info("bus: connected to %s", cfg->connect.items[i]);
    for (size_t i = 0; i < cfg->bind.n; i++)
        hs__info("bus: bound to %s", cfg->bind.items[i]);
    for (size_t i = 0; i < hub->nconsumers; i++) {
        const hs__consumer_spec *s = &hub->consumers[i]->spec;
        hs__info("consumer %s: %s=%s:%s, %u worker%s, queue %zu, on full %s, %u tries", s->name,
                 s->glob, s->kind, s->arg, s->workers, s->workers == 1 ? "" : "s", s->queue_size,
                 s->on_full == HS__ON_FULL_DROP ? "drop" : "block", s->max_tries);
    }
    hs__info("dead letters: %s", hs__deadletter_describe(hub->deadletter));
    if (hub->metrics != NULL)
        hs__info("metrics on http://%s/metrics", hub->metrics_addr);
    const char *placement = cfg->placement != NULL ? cfg->placement : "jump";
    if (hub->dynamic)
        hs__info("hub %s starting: views from %s, cluster %s (%s, hash %s), key %s, time %s; "
                 "registers once it receives the bus",
                 cfg->self, cfg->coordinator, cfg->cluster, placement, hs_hash_name(hub->hasher.id),
                 cfg->key != NULL ? cfg->key : "body",
                 hub->has_time_key ? cfg->time_key : "of receipt");
    else
        hs__info("hub %s starting: static members %s (%s, hash %s), key %s", cfg->self,
                 cfg->members, placement, hs_hash_name(hub->hasher.id),
                 cfg->key != NULL ? cfg->key : "body");
}

/* The keys read from every message: the claim's (and its fallback), the
 * bus sequence and its publisher, the message time. */
static int start_keys(hs__hub *hub, const hs__hub_config *cfg)
{
    char err[600];
    if (hs__key_spec_parse(&hub->key, cfg->key != NULL ? cfg->key : "body", err, sizeof err) !=
        HS_OK) {
        hs__error("key: %s", err);
        return -1;
    }
    if (cfg->key_fallback != NULL) {
        if (hs__key_spec_parse(&hub->key_fallback, cfg->key_fallback, err, sizeof err) != HS_OK) {
            hs__error("key-fallback: %s", err);
            return -1;
        }
        hub->has_fallback = true;
    }
    const char *seq = cfg->bus_seq != NULL ? cfg->bus_seq : HS__DEFAULT_BUS_SEQ;
    if (strcmp(seq, "none") != 0) {
        const char *who =
            cfg->bus_publisher != NULL ? cfg->bus_publisher : HS__DEFAULT_BUS_PUBLISHER;
        if (hs__key_spec_parse(&hub->seq_key, seq, err, sizeof err) != HS_OK) {
            hs__error("bus-seq: %s", err);
            return -1;
        }
        if (hs__key_spec_parse(&hub->seq_publisher, who, err, sizeof err) != HS_OK) {
            hs__error("bus-publisher: %s", err);
            return -1;
        }
        if (hs__busseq_init(&hub->busseq) != HS_OK) {
            hs__error("out of memory");
            return -1;
        }
        hub->track_seq = true;
    }
    return 0;
}

/* The hasher, the ring and the first timeline (a static hub's one view;
 * a dynamic hub's come from the membership thread). */
static int start_claim(hs__hub *hub, const hs__hub_config *cfg)
{
    char err[600];
    if (hs__config_hasher(cfg, &hub->hasher, err, sizeof err) != HS_OK) {
        hs__error("%s", err);
        return -1;
    }
    hub->dynamic = cfg->coordinator != NULL;
    const char *time_key = cfg->time_key != NULL ? cfg->time_key : HS__DEFAULT_TIME_KEY;
    if (strcmp(time_key, "none") != 0) {
        if (hs__key_spec_parse(&hub->time_key, time_key, err, sizeof err) != HS_OK) {
            hs__error("time-key: %s", err);
            return -1;
        }
        hub->has_time_key = true;
    }
    hs__timeline_box_init(&hub->box);
    /* Static membership keeps no ring: no view can take a share over. */
    hs__ring_init(&hub->ring, hub->dynamic ? (uint64_t)(cfg->ring_seconds * 1e9) : 0,
                  hub->dynamic ? cfg->ring_bytes : 0);
    if (!hub->dynamic) {
        hs_view *view;
        size_t self;
        hs__timeline *t;
        if (hs__config_view(cfg, &view, &self, err, sizeof err) != HS_OK) {
            hs__error("%s", err);
            return -1;
        }
        int rc = hs__timeline_static(&t, view);
        atomic_store(&hub->claim.view_epoch, hs_view_epoch(view));
        atomic_store(&hub->claim.view_members, hs_view_size(view));
        hs_view_release(view);
        if (rc != HS_OK) {
            hs__error("out of memory");
            return -1;
        }
        hs__timeline_box_put(&hub->box, t);
    }

    return 0;
}

/* The dead-letter sink, the ZeroMQ context, CURVE and every consumer. */
static int start_consumers(hs__hub *hub, const hs__hub_config *cfg)
{
    char err[600];
    char default_dl[300];
    snprintf(default_dl, sizeof default_dl, "file:hashspace-dead-letter-%s.jsonl", cfg->self);
    if (hs__deadletter_new(&hub->deadletter,
                           cfg->dead_letter != NULL ? cfg->dead_letter : default_dl, err,
                           sizeof err) != HS_OK) {
        hs__error("%s", err);
        return -1;
    }
    hs__deadletter_set_file_mode(hub->deadletter, cfg->file_mode);
    hub->zmq_ctx = zmq_ctx_new();
    hub->consumers = calloc(cfg->nconsumers, sizeof *hub->consumers);
    if (hub->zmq_ctx == NULL || hub->consumers == NULL) {
        hs__error("out of memory");
        return -1;
    }
    if (start_curve(hub, cfg) != 0)
        return -1;
    for (size_t i = 0; i < cfg->nconsumers; i++) {
        hs__consumer *c;
        if (hs__consumer_new(&c, &cfg->consumers[i], hub->deadletter, err, sizeof err) != HS_OK) {
            hs__error("%s", err);
            return -1;
        }
        hub->consumers[hub->nconsumers++] = c;
        c->curve_secret_key = cfg->curve_secret_key;
        if (hs__consumer_start(c, err, sizeof err) != HS_OK) {
            hs__error("%s", err);
            return -1;
        }
    }
    return 0;
}

static int start(hs__hub *hub, const hs__hub_config *cfg)
{
    char err[600];
    if (start_keys(hub, cfg) != 0 || start_claim(hub, cfg) != 0 || start_consumers(hub, cfg) != 0)
        return -1;
    if (hs__webauth_new(&hub->webauth, cfg->metrics_auth, err, sizeof err) != HS_OK) {
        hs__error("metrics-auth: %s", err);
        return -1;
    }
    if (hs__metrics_start(hub, cfg->metrics != NULL ? cfg->metrics : HS__DEFAULT_METRICS, err,
                          sizeof err) != HS_OK) {
        hs__error("%s", err);
        return -1;
    }
    log_setup(hub, cfg);
    if (hs__ingress_start(hub, err, sizeof err) != HS_OK) {
        hs__error("%s", err);
        return -1;
    }
    return 0;
}

/* The membership thread's settings from the hub's. */
static int membership_start(hs__hub *hub)
{
    const hs__hub_config *cfg = hub->cfg;
    hs__membership_config m;
    hs__membership_config_defaults(&m);
    m.coordinator = cfg->coordinator;
    m.cluster = cfg->cluster;
    m.self = cfg->self;
    m.weight = cfg->weight;
    m.heartbeat_ns = (uint64_t)(cfg->heartbeat_s * 1e9);
    m.expiry_ns = (uint64_t)(cfg->expiry_s * 1e9);
    m.lead_ns = (uint64_t)(cfg->lead_time_s * 1e9);
    m.placement = cfg->placement != NULL ? cfg->placement : "jump";
    m.hasher = &hub->hasher;
    m.box = &hub->box;
    m.notify = hs__ingress_wake; /* a new timeline: the ingress looks at it now */
    m.notify_arg = hub;
    char err[512];
    if (hs__membership_start(&hub->membership, &m, err, sizeof err) != HS_OK) {
        hs__error("membership: %s", err);
        return -1;
    }
    hs__membership_set_watermark(hub->membership, load_u64(&hub->decided_ts));
    atomic_store_explicit(&hub->membership_started, true, memory_order_release);
    hs__info("membership: registering with %s as %s in cluster %s (%s)", cfg->coordinator,
             cfg->self, cfg->cluster,
             load_u64(&hub->received) > 0 ? "the bus is received" : "the bus is idle");
    return 0;
}

/* The watermark: every message this hub owns with a time below it is
 * finished. The newest time decided is read first: whatever was decided
 * before it is queued, held or done by then. */
static uint64_t watermark(hs__hub *hub)
{
    uint64_t wm = atomic_load_explicit(&hub->decided_ts, memory_order_acquire);
    for (size_t i = 0; i < hub->nconsumers; i++) {
        uint64_t t;
        if (hs__consumer_oldest_time(hub->consumers[i], &t) && t < wm)
            wm = t;
    }
    uint64_t held = load_u64(&hub->claim.held_oldest_ts);
    if (held != 0 && held < wm)
        wm = held;
    return wm;
}

/* The main loop's share of membership: register once the bus is received
 * (or the bus stayed idle for join-wait), then publish the watermark. */
static int membership_tick(hs__hub *hub, uint64_t started)
{
    if (hub->membership == NULL) {
        if (load_u64(&hub->received) == 0 &&
            hs__monotonic_ns() - started < (uint64_t)(hub->cfg->join_wait_s * 1e9))
            return 0;
        return membership_start(hub);
    }
    uint64_t wm = watermark(hub);
    hs__membership_set_watermark(hub->membership, wm);
    hs__membership_stats st;
    hs__membership_stats_get(hub->membership, &st);
    atomic_store(&hub->coord_errors, st.coordinator_errors);
    atomic_store(&hub->coord_rounds, st.rounds);
    atomic_store(&hub->coord_epoch, st.epoch);
    atomic_store(&hub->watermark_ns, wm);
    return 0;
}

/* A planned leave: announce it (a view without this hub), keep processing
 * what this hub owns until the ingress has decided past that view's
 * effective_from (or the clock is past it by a margin), and return it. */
static uint64_t leave(hs__hub *hub, const sigset_t *signals)
{
    const hs__hub_config *cfg = hub->cfg;
    atomic_store(&hub->leaving, true);
    uint64_t from = 0;
    uint64_t timeout = (uint64_t)((cfg->lead_time_s + 3 * cfg->heartbeat_s) * 1e9);
    int rc = hs__membership_leave(hub->membership, timeout, &from);
    if (rc == HS_EEMPTY) {
        hs__info("membership: the last member leaves: draining");
        return 0;
    }
    if (rc != HS_OK) {
        hs__warn("membership: could not announce the leave (%s); the others will take over from "
                 "this hub's watermark when its registration expires",
                 hs_strerror(rc));
        return 0;
    }
    uint64_t margin = (uint64_t)(cfg->heartbeat_s * 1e9) + 500000000ull;
    hs__info("membership: leaving: the view without this hub takes effect in %.3f s; processing "
             "what it owns until then",
             ((double)from - (double)hs__realtime_ns()) / 1e9);
    while (load_u64(&hub->decided_ts) < from && hs__realtime_ns() < from + margin &&
           !atomic_load(&hub->failed)) {
        hs__membership_set_watermark(hub->membership, watermark(hub));
        struct timespec tick = {0, 20 * 1000000L};
        int sig = sigtimedwait(signals, NULL, &tick);
        if (sig == SIGINT) {
            hs__warn("SIGINT: stopping now, before the leave's view takes effect");
            break;
        }
    }
    return from;
}

static void stop_started(hs__hub *hub)
{
    hs__ingress_stop(hub);
    atomic_store(&hub->abort, true);
    hs__ingress_join(hub);
    hs__membership_stop(hub->membership, false);
    hub->membership = NULL;
    for (size_t i = 0; i < hub->nconsumers; i++)
        hs__consumer_close(hub->consumers[i], 1);
    for (size_t i = 0; i < hub->nconsumers; i++)
        hs__consumer_join(hub->consumers[i], 0);
    hs__metrics_stop(hub);
}

/* The closed consumers' workers joined by deadline (and a grace), then
 * their stuck exec children sent SIGTERM, then SIGKILL; what a worker still
 * inside its sink holds is dead-lettered. stuck (may be NULL) gets the
 * stuck workers per consumer. Returns whether any is still stuck. */
static bool join_consumers(hs__hub *hub, unsigned *stuck, uint64_t deadline)
{
    bool any_stuck = join_workers(hub, stuck, deadline + HUB_JOIN_GRACE_NS);
    if (any_stuck) {
        stop_stuck_children(hub, stuck, SIGTERM);
        any_stuck = join_workers(hub, stuck, hs__monotonic_ns() + HUB_TERM_GRACE_NS);
    }
    if (any_stuck) {
        stop_stuck_children(hub, stuck, SIGKILL);
        any_stuck = join_workers(hub, stuck, hs__monotonic_ns() + HUB_KILL_GRACE_NS);
    }
    for (size_t i = 0; any_stuck && i < hub->nconsumers; i++) {
        if (stuck == NULL || stuck[i] > 0) {
            size_t n = hs__consumer_abandon(hub->consumers[i]);
            if (n > 0)
                hs__warn("consumer %s: a worker is still inside its sink; its %zu message%s "
                         "(the one in hand included) dead-lettered as left",
                         hub->consumers[i]->spec.name, n, n == 1 ? "" : "s");
        }
    }
    return any_stuck;
}

static void deregister(hs__hub *hub, uint64_t leave_from)
{
    /* Everything this hub owned is finished: the final watermark, then
     * the registration goes. After a leave the watermark is at least
     * its view's effective_from: the others stop holding at once. */
    uint64_t wm = load_u64(&hub->decided_ts);
    if (leave_from > wm)
        wm = leave_from;
    hs__membership_set_watermark(hub->membership, wm);
    hs__membership_stop(hub->membership, true);
    hub->membership = NULL;
    hs__info("membership: deregistered (final watermark %.3f s %s the leave's view)",
             fabs((double)wm - (double)leave_from) / 1e9, wm >= leave_from ? "past" : "before");
}

/* From readiness to a stop signal or a failure: SIGHUP reopens files and
 * rereads the CURVE allowlist, the systemd watchdog is fed, the membership
 * ticks. Returns the exit status so far (0, or 1 when the bus or the
 * membership failed). */
static int run_until_stopped(hs__hub *hub, const hs__hub_config *cfg, const sigset_t *signals)
{
    /* systemd (Type=notify): ready once the bus sockets and every consumer
     * run; the watchdog is fed from this loop while the bus is alive. */
    char note[600];
    if (hub->dynamic)
        snprintf(note, sizeof note, "READY=1\nSTATUS=hub %s: cluster %s at %s, metrics %s",
                 cfg->self, cfg->cluster, cfg->coordinator,
                 hub->metrics != NULL ? hub->metrics_addr : "none");
    else
        snprintf(note, sizeof note,
                 "READY=1\nSTATUS=hub %s: view epoch %llu, %llu members, metrics %s", cfg->self,
                 (unsigned long long)load_u64(&hub->claim.view_epoch),
                 (unsigned long long)load_u64(&hub->claim.view_members),
                 hub->metrics != NULL ? hub->metrics_addr : "none");
    int nerr = hs__notify(note);
    if (nerr != 0)
        hs__warn("systemd: cannot notify readiness: %s", strerror(-nerr));
    uint64_t watchdog_ns = hs__notify_watchdog_ns();
    uint64_t started = hs__monotonic_ns();
    uint64_t fed_ns = hs__monotonic_ns();
    int status = 0;
    for (;;) {
        /* A dynamic hub looks at its membership five times a second; a
         * static one has nothing to do but on a signal (a failed ingress
         * sends one) or for systemd's watchdog, so an idle hub sleeps. */
        uint64_t tick_ns = hub->dynamic ? 200 * 1000000ull : 60 * 1000000000ull;
        if (watchdog_ns > 0 && watchdog_ns / 4 < tick_ns)
            tick_ns = watchdog_ns / 4;
        struct timespec tick = {(time_t)(tick_ns / 1000000000ull), (long)(tick_ns % 1000000000ull)};
        int sig = sigtimedwait(signals, NULL, &tick);
        if (sig == SIGHUP) {
            /* Each owner reopens its file before its next write. The log is
             * stderr, which the hub never opened: nothing to reopen there. */
            hs__outfile_reopen_all();
            hs__info("SIGHUP: reopening the files of file: consumers and the dead-letter file");
            reload_curve(hub);
            continue;
        }
        if (sig == SIGTERM || sig == SIGINT) {
            hs__info("%s: stopping; draining for up to %g s", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                     cfg->drain_timeout_s);
            hs__notify("STOPPING=1\nSTATUS=draining");
            break;
        }
        if (atomic_load(&hub->failed)) {
            hs__error("the bus failed; stopping");
            hs__notify("STOPPING=1\nSTATUS=the bus failed");
            status = 1;
            break;
        }
        if (watchdog_ns > 0 && hs__monotonic_ns() - fed_ns >= watchdog_ns / 2) {
            hs__notify("WATCHDOG=1");
            fed_ns = hs__monotonic_ns();
        }
        if (hub->dynamic && membership_tick(hub, started) != 0) {
            status = 1;
            break;
        }
    }
    return status;
}

int hs__hub_run(const hs__hub_config *cfg)
{
    hs__log_level level = HS__LOG_INFO;
    if (cfg->log_level != NULL)
        hs__log_level_parse(cfg->log_level, &level);
    hs__log_setup(level, cfg->self);
    hs__notify_init();

    /* Every thread inherits this mask: only the main thread takes the signals. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, HS__HUB_FAILED_SIGNAL);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    hs__hub *hub = calloc(1, sizeof *hub);
    if (hub == NULL) {
        hs__error("out of memory");
        return 1;
    }
    hub->cfg = cfg;
    atomic_store(&hub->started_ns, hs__realtime_ns());
    /* Open for the hub's whole life: the membership thread may still wake
     * the ingress after it stopped. */
    hub->ingress_wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (hub->ingress_wake_fd < 0) {
        hs__error("cannot make the ingress thread's eventfd: %s", strerror(errno));
        free(hub);
        return 1;
    }
    if (start(hub, cfg) != 0) {
        stop_started(hub);
        hub_free(hub, NULL);
        free(hub);
        return 1;
    }

    int status = run_until_stopped(hub, cfg, &signals);
    uint64_t leave_from = 0;
    if (hub->membership != NULL && status == 0)
        leave_from = leave(hub, &signals);
    uint64_t t0 = hs__monotonic_ns();
    uint64_t deadline = t0 + (uint64_t)(cfg->drain_timeout_s * 1e9);
    if (deadline == t0)
        deadline = t0 + 1;
    hs__ingress_stop(hub);
    if (hub->ingress_running && join_by(hub->ingress, deadline) != 0) {
        atomic_store(&hub->abort, true);
        pthread_join(hub->ingress, NULL);
    }
    hub->ingress_running = false;
    for (size_t i = 0; i < hub->nconsumers; i++)
        hs__consumer_close(hub->consumers[i], deadline);
    unsigned *stuck = calloc(hub->nconsumers + 1, sizeof *stuck);
    bool any_stuck = join_consumers(hub, stuck, deadline);
    double drain_s = (double)(hs__monotonic_ns() - t0) / 1e9;
    if (hub->membership != NULL)
        deregister(hub, leave_from);
    hs__metrics_stop(hub);
    summary(hub, drain_s, stuck);
    if (any_stuck || stuck == NULL) {
        /* A worker is blocked inside a sink: leave its memory to the exit. */
        free(stuck);
        return status;
    }
    hub_free(hub, stuck);
    free(stuck);
    free(hub);
    return status;
}
