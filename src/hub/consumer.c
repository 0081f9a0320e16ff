/* consumer.c - consumer workers: take, try, retry, count, dead-letter.
 *
 * DESIGN: each worker thread owns its sink instance and is the only consumer
 * of its queue; the ingress thread is the only producer. Counters are C11
 * atomics written by the workers (routed and dropped by the ingress thread)
 * and read by the metrics thread. drain_deadline_ns is written once by the
 * main thread when the hub stops. A worker leaves when its queue is closed
 * and empty, or when the drain deadline has passed: then it sets leaving,
 * dead-letters what is still queued (reason "left"), counts it in left and
 * releases it. child_pgid is written by the worker's exec sink and read by
 * the main thread, which signals that process group when the worker is
 * stuck at shutdown; for a worker still stuck after that, the main thread
 * dead-letters its queue under the queue's lock (hs__consumer_abandon).
 */
#include "consumer.h"

#include "log.h"

#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const double hs__duration_bounds[HS__DURATION_BUCKETS] = {
#define HS__BOUND_ROW(b) b,
    HS__DURATION_BUCKETS_MAP(HS__BOUND_ROW)
#undef HS__BOUND_ROW
};

static void spec_free(hs__consumer_spec *s)
{
    free(s->name);
    free(s->glob);
    free(s->kind);
    free(s->arg);
    free(s->push_server_key);
}

int hs__consumer_new(hs__consumer **out, const hs__consumer_spec *spec, hs__deadletter *dl,
                     char *err, size_t errlen)
{
    const hs__sink_ops *ops = hs__sink_find(spec->kind);
    if (ops == NULL) {
        snprintf(err, errlen, "consumer '%s': unknown kind '%s' (expected %s)", spec->name,
                 spec->kind, hs__sink_kinds());
        return HS_EINVAL;
    }
    if (spec->workers == 0 || spec->queue_size == 0 || spec->max_tries == 0) {
        snprintf(err, errlen, "consumer '%s': workers, queue size and max tries must be >= 1",
                 spec->name);
        return HS_EINVAL;
    }
    hs__consumer *c = calloc(1, sizeof *c);
    if (c == NULL)
        return HS_ENOMEM;
    c->spec = *spec;
    c->spec.name = strdup(spec->name);
    c->spec.glob = strdup(spec->glob);
    c->spec.kind = strdup(spec->kind);
    c->spec.arg = strdup(spec->arg != NULL ? spec->arg : "");
    c->spec.push_server_key = spec->push_server_key != NULL ? strdup(spec->push_server_key) : NULL;
    c->workers = calloc(spec->workers, sizeof *c->workers);
    if (c->spec.name == NULL || c->spec.glob == NULL || c->spec.kind == NULL ||
        c->spec.arg == NULL || c->workers == NULL ||
        (spec->push_server_key != NULL && c->spec.push_server_key == NULL)) {
        spec_free(&c->spec);
        free(c->workers);
        free(c);
        return HS_ENOMEM;
    }
    c->ops = ops;
    c->match_all = strcmp(spec->glob, "*") == 0;
    c->deadletter = dl;
    for (unsigned i = 0; i < spec->workers; i++) {
        hs__worker *w = &c->workers[i];
        w->consumer = c;
        w->index = i;
        int rc = hs__queue_init(&w->queue, spec->queue_size);
        if (rc != HS_OK) {
            for (unsigned k = 0; k < i; k++)
                hs__queue_destroy(&c->workers[k].queue);
            snprintf(err, errlen, "consumer '%s': queue of %zu: %s", spec->name, spec->queue_size,
                     hs_strerror(rc));
            spec_free(&c->spec);
            free(c->workers);
            free(c);
            return rc;
        }
    }
    *out = c;
    return HS_OK;
}

/* A buffer grown past this for a huge topic is given back at the next
 * ordinary one, so that one such topic does not pin its size for good. */
#define TOPIC_BUF_KEEP 65536

int hs__topic_buf_set(hs__topic_buf *buf, const char *topic, size_t len)
{
    if (buf->cap > TOPIC_BUF_KEEP && len < TOPIC_BUF_KEEP) {
        free(buf->text);
        buf->text = NULL;
        buf->cap = 0;
    }
    if (len >= buf->cap) {
        size_t cap = buf->cap > 0 ? buf->cap : 256;
        while (cap <= len && cap < SIZE_MAX / 2)
            cap *= 2;
        char *text = cap > len ? realloc(buf->text, cap) : NULL;
        if (text == NULL) {
            buf->len = 0;
            return HS_ENOMEM;
        }
        buf->text = text;
        buf->cap = cap;
    }
    memcpy(buf->text, topic, len);
    buf->text[len] = '\0';
    buf->len = len;
    buf->has_nul = memchr(topic, '\0', len) != NULL;
    return HS_OK;
}

void hs__topic_buf_free(hs__topic_buf *buf)
{
    free(buf->text);
    *buf = (hs__topic_buf){0};
}

bool hs__consumer_matches(const hs__consumer *c, const hs__topic_buf *topic)
{
    if (c->match_all)
        return true;
    /* fnmatch would stop at the NUL and match a prefix of the topic. */
    return !topic->has_nul && fnmatch(c->spec.glob, topic->text, 0) == 0;
}

/* Spread key hashes over workers independently of how placement used them. */
static unsigned worker_of(const hs__consumer *c, uint64_t key_hash)
{
    uint64_t x = key_hash;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return (unsigned)(x % c->spec.workers);
}

int hs__consumer_route(hs__consumer *c, hs__msg *m, uint64_t now_ns, const atomic_bool *abort)
{
    hs__worker *w = &c->workers[worker_of(c, m->key_hash)];
    int rc = hs__queue_push(&w->queue, m, now_ns, c->spec.on_full != HS__ON_FULL_DROP, abort);
    /* Both written by the ingress thread alone: no locked increment. */
    atomic_uint_fast64_t *n = rc == HS_OK ? &c->routed : rc == HS_EFULL ? &c->dropped : NULL;
    if (n != NULL)
        atomic_store_explicit(n, atomic_load_explicit(n, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    return rc;
}

void hs__consumer_hold_wakeups(hs__consumer *c, bool hold)
{
    for (unsigned i = 0; i < c->spec.workers; i++)
        hs__queue_hold_wakeups(&c->workers[i].queue, hold);
}

void hs__consumer_wake(hs__consumer *c)
{
    for (unsigned i = 0; i < c->spec.workers; i++)
        hs__queue_wake(&c->workers[i].queue);
}

void hs__consumer_backlog(hs__consumer *c, size_t *count, uint64_t *oldest_ns)
{
    size_t total = 0;
    uint64_t oldest = 0;
    for (unsigned i = 0; i < c->spec.workers; i++) {
        size_t n;
        uint64_t t;
        hs__queue_stats(&c->workers[i].queue, &n, &t);
        total += n;
        if (n > 0 && (oldest == 0 || t < oldest))
            oldest = t;
    }
    *count = total;
    *oldest_ns = oldest;
}

bool hs__consumer_oldest_time(hs__consumer *c, uint64_t *ts_ns)
{
    bool any = false;
    for (unsigned i = 0; i < c->spec.workers; i++) {
        uint64_t t;
        if (hs__queue_head_time(&c->workers[i].queue, &t) && (!any || t < *ts_ns)) {
            *ts_ns = t;
            any = true;
        }
    }
    return any;
}

bool hs__consumer_ready(hs__consumer *c, char *why, size_t len)
{
    if (atomic_load_explicit(&c->drain_deadline_ns, memory_order_acquire) != 0) {
        snprintf(why, len, "consumer %s: draining", c->spec.name);
        return false;
    }
    bool exec = c->ops == &hs__sink_exec;
    for (unsigned i = 0; i < c->spec.workers; i++) {
        hs__worker *w = &c->workers[i];
        if (atomic_load_explicit(&w->leaving, memory_order_acquire)) {
            snprintf(why, len, "consumer %s: worker %u has stopped", c->spec.name, i);
            return false;
        }
        if (exec && atomic_load_explicit(&w->child_pgid, memory_order_acquire) <= 0) {
            snprintf(why, len,
                     "consumer %s: worker %u: its child process is not running (it is "
                     "started again at the next message)",
                     c->spec.name, i);
            return false;
        }
    }
    return true;
}

static void observe(hs__consumer *c, uint64_t ns)
{
    double s = (double)ns / 1e9;
    size_t b = 0;
    while (b < HS__DURATION_BUCKETS && s > hs__duration_bounds[b])
        b++;
    atomic_fetch_add_explicit(&c->duration_buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->duration_sum_ns, ns, memory_order_relaxed);
}

static bool past_deadline(hs__consumer *c)
{
    uint64_t d = atomic_load_explicit(&c->drain_deadline_ns, memory_order_acquire);
    return d != 0 && hs__monotonic_ns() >= d;
}

/* m, whole, to the consumer's dead-letter sink (attempts 0: not told). */
static void dead_letter(hs__consumer *c, const hs__msg *m, const char *reason, const char *error,
                        unsigned attempts)
{
    hs__deadletter_rec rec = {
        .reason = reason,
        .consumer = c->spec.name,
        .error = error,
        .topic = hs__msg_topic(m),
        .topic_len = m->topic_len,
        .body = m->body,
        .body_len = m->body_len,
        .body_total = m->body_len,
        .received_ns = m->received_ns,
        .attempts = attempts,
    };
    hs__deadletter_write(c->deadletter, &rec);
}

static void process(hs__worker *w, hs__msg *m)
{
    hs__consumer *c = w->consumer;
    char err[512]; /* not zeroed whole: a sink writes a sentence, the first byte says none */
    err[0] = '\0';
    int rc = HS_EINVAL;
    uint64_t start = hs__monotonic_ns();
    unsigned attempt;
    for (attempt = 1; attempt <= c->spec.max_tries; attempt++) {
        err[0] = '\0';
        hs_message view = hs__msg_view(m, attempt);
        rc = c->ops->consume(w->sink, &view, err, sizeof err);
        if (rc == HS_OK || attempt == c->spec.max_tries || past_deadline(c))
            break;
        hs__debug("consumer %s: attempt %u failed: %s", c->spec.name, attempt, err);
        struct timespec pause = {0, 20 * 1000000L * (long)attempt};
        nanosleep(&pause, NULL);
    }
    observe(c, hs__monotonic_ns() - start);
    if (rc == HS_OK) {
        atomic_fetch_add_explicit(&c->ok, 1, memory_order_relaxed);
        return;
    }
    atomic_fetch_add_explicit(&c->failed, 1, memory_order_relaxed);
    dead_letter(c, m, "failed", err[0] != '\0' ? err : hs_strerror(rc),
                attempt > c->spec.max_tries ? c->spec.max_tries : attempt);
}

/* A message the consumer will not process: dead-lettered with reason
 * "left", so that a restart can replay it, and counted. */
static void leave(hs__consumer *c, const hs__msg *m, bool in_flight)
{
    atomic_fetch_add_explicit(&c->left, 1, memory_order_relaxed);
    dead_letter(c, m, "left",
                in_flight
                    ? "the hub exited while the consumer was still inside its sink with this "
                      "message; it may have been handled"
                    : "the hub stopped and its drain deadline passed before the consumer took "
                      "this message",
                0);
}

static void *worker_main(void *arg)
{
    hs__worker *w = arg;
    hs__consumer *c = w->consumer;
    /* For top -H, perf and /proc/PID/task: which consumer's worker this is. */
    char name[16];
    snprintf(name, sizeof name, "hs-w-%s", c->spec.name);
    pthread_setname_np(pthread_self(), name);
    hs__sink_env env = {
        .consumer = c->spec.name,
        .timeout_s = c->spec.timeout_s,
        .restarts = &c->restarts,
        .worker = w->index,
        .child_pgid = &w->child_pgid,
        .possibly_lost = &c->possibly_lost,
        .file_mode = c->spec.file_mode,
        .curve_secret_key = c->curve_secret_key,
        .curve_server_key = c->spec.push_server_key,
    };
    w->open_rc = c->ops->open(&w->sink, c->spec.arg, &env, w->open_err, sizeof w->open_err);
    bool opened = w->open_rc == HS_OK;
    sem_post(&w->opened);
    if (!opened)
        return NULL;
    hs__queue_item item;
    int rc = hs__queue_peek(&w->queue, &item);
    while (rc == HS_OK) {
        if (past_deadline(c))
            break;
        process(w, item.msg);
        /* The slot still points at the message until done_peek removes it;
         * nothing reads it through the slot meanwhile (stats reads only the
         * enqueue time), and releasing first does not keep it alive while
         * the worker waits for the next one. */
        hs__msg_release(item.msg);
        rc = hs__queue_done_peek(&w->queue, &item);
    }
    atomic_store_explicit(&w->leaving, true, memory_order_release);
    while (hs__queue_pop_now(&w->queue, &item) == HS_OK) {
        leave(c, item.msg, false);
        hs__msg_release(item.msg);
    }
    c->ops->close(w->sink);
    w->sink = NULL;
    return NULL;
}

int hs__consumer_start(hs__consumer *c, char *err, size_t errlen)
{
    int rc = HS_OK;
    for (unsigned i = 0; i < c->spec.workers && rc == HS_OK; i++) {
        hs__worker *w = &c->workers[i];
        sem_init(&w->opened, 0, 0);
        int e = pthread_create(&w->thread, NULL, worker_main, w);
        if (e != 0) { /* pthread_create returns its error; errno is not set */
            snprintf(err, errlen, "consumer '%s': cannot start a thread: %s", c->spec.name,
                     strerror(e));
            sem_destroy(&w->opened);
            rc = HS_ESYSTEM;
            break;
        }
        w->running = true;
        while (sem_wait(&w->opened) != 0 && errno == EINTR)
            ;
        sem_destroy(&w->opened);
        if (w->open_rc != HS_OK) {
            snprintf(err, errlen, "consumer '%s': %s", c->spec.name, w->open_err);
            rc = w->open_rc;
        }
    }
    if (rc != HS_OK) {
        hs__consumer_close(c, 0);
        hs__consumer_join(c, 0);
    }
    return rc;
}

void hs__consumer_close(hs__consumer *c, uint64_t deadline_ns)
{
    if (deadline_ns != 0)
        atomic_store_explicit(&c->drain_deadline_ns, deadline_ns, memory_order_release);
    for (unsigned i = 0; i < c->spec.workers; i++)
        hs__queue_close(&c->workers[i].queue);
}

unsigned hs__consumer_join(hs__consumer *c, uint64_t join_by_ns)
{
    unsigned stuck = 0;
    for (unsigned i = 0; i < c->spec.workers; i++) {
        hs__worker *w = &c->workers[i];
        if (!w->running)
            continue;
        if (join_by_ns == 0) {
            pthread_join(w->thread, NULL);
            w->running = false;
            continue;
        }
        /* pthread_timedjoin_np measures against CLOCK_REALTIME. */
        uint64_t now = hs__monotonic_ns();
        uint64_t until = hs__realtime_ns() + (join_by_ns > now ? join_by_ns - now : 0);
        struct timespec ts = {(time_t)(until / 1000000000u), (long)(until % 1000000000u)};
        if (pthread_timedjoin_np(w->thread, NULL, &ts) == 0 ||
            (atomic_load_explicit(&w->leaving, memory_order_acquire) &&
             pthread_join(w->thread, NULL) == 0))
            w->running = false;
        else
            stuck++;
    }
    return stuck;
}

void hs__consumer_signal_children(hs__consumer *c, int sig)
{
    for (unsigned i = 0; i < c->spec.workers; i++) {
        hs__worker *w = &c->workers[i];
        int pgid = atomic_load_explicit(&w->child_pgid, memory_order_acquire);
        if (w->running && pgid > 0 && kill(-pgid, sig) != 0 && errno != ESRCH)
            hs__error("consumer %s: cannot signal child process group %d: %s", c->spec.name, pgid,
                      strerror(errno));
    }
}

static void abandon_one(void *arg, hs__msg *m, bool in_flight)
{
    leave(arg, m, in_flight);
    if (!in_flight)
        hs__msg_release(m);
}

size_t hs__consumer_abandon(hs__consumer *c)
{
    size_t n = 0;
    for (unsigned i = 0; i < c->spec.workers; i++)
        if (c->workers[i].running)
            n += hs__queue_abandon(&c->workers[i].queue, abandon_one, c);
    return n;
}

void hs__consumer_free(hs__consumer *c)
{
    if (c == NULL)
        return;
    for (unsigned i = 0; i < c->spec.workers; i++) {
        /* Empty after a join; not when a start failed half-way. */
        hs__queue_item item;
        while (hs__queue_pop_now(&c->workers[i].queue, &item) == HS_OK) {
            leave(c, item.msg, false);
            hs__msg_release(item.msg);
        }
        hs__queue_destroy(&c->workers[i].queue);
    }
    spec_free(&c->spec);
    free(c->workers);
    free(c);
}
