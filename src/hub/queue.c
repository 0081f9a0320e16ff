/* queue.c - the bounded single-producer single-consumer ring of a worker.
 *
 * DESIGN: the ingress thread is the only producer and one worker thread the
 * only consumer of a queue; the metrics thread reads its stats. lock guards
 * every field but three: hold_wakeups and wake_pending belong to the
 * producer, spins to the consumer. not_empty/not_full use CLOCK_MONOTONIC
 * and are signalled only when the flag saying that the other side sleeps is
 * set (read under the lock, so no wake-up is lost); the producer may hold the
 * consumer's wake-up back until the end of a batch (hs__queue_hold_wakeups).
 */
#include "queue.h"

#include "hashspace/error.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

/* At most about 5 us of spinning on x86-64 (a pause is 40 to 140 cycles). */
#define HS__QUEUE_SPINS 100

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

int hs__queue_init(hs__queue *q, size_t cap)
{
    if (cap == 0)
        return HS_EINVAL;
    q->ring = calloc(cap, sizeof *q->ring);
    if (q->ring == NULL)
        return HS_ENOMEM;
    q->cap = cap;
    q->head = q->count = 0;
    q->closed = q->consumer_waiting = q->producer_waiting = false;
    q->spins = HS__QUEUE_SPINS;
    q->hold_wakeups = q->wake_pending = false;
    atomic_init(&q->count_hint, 0);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_mutex_init(&q->lock, NULL);
    rc |= pthread_cond_init(&q->not_empty, &attr);
    rc |= pthread_cond_init(&q->not_full, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0) {
        free(q->ring);
        return HS_ESYSTEM;
    }
    return HS_OK;
}

void hs__queue_destroy(hs__queue *q)
{
    for (size_t i = 0; i < q->count; i++)
        hs__msg_release(q->ring[(q->head + i) % q->cap].msg);
    free(q->ring);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
}

int hs__queue_push(hs__queue *q, hs__msg *m, uint64_t now_ns, bool block, const atomic_bool *abort)
{
    pthread_mutex_lock(&q->lock);
    while (q->count == q->cap && !q->closed) {
        /* A held wake-up is due now: the consumer must make room. */
        if (q->consumer_waiting)
            pthread_cond_signal(&q->not_empty);
        q->wake_pending = false;
        if (!block) {
            pthread_mutex_unlock(&q->lock);
            return HS_EFULL;
        }
        if (abort != NULL && atomic_load_explicit(abort, memory_order_acquire)) {
            pthread_mutex_unlock(&q->lock);
            return HS_ETIMEOUT;
        }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += 50 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        q->producer_waiting = true;
        pthread_cond_timedwait(&q->not_full, &q->lock, &until);
        q->producer_waiting = false;
    }
    if (q->closed) {
        pthread_mutex_unlock(&q->lock);
        return HS_ECLOSED;
    }
    hs__queue_item *slot = &q->ring[(q->head + q->count) % q->cap];
    slot->msg = m;
    slot->enqueued_ns = now_ns;
    slot->ts_ns = m->ts_ns;
    q->count++;
    atomic_store_explicit(&q->count_hint, q->count, memory_order_relaxed);
    bool wake = q->consumer_waiting && !q->hold_wakeups;
    q->wake_pending |= q->consumer_waiting && q->hold_wakeups;
    pthread_mutex_unlock(&q->lock);
    /* After the unlock: a consumer woken while the lock is still held would
     * wake only to sleep again on the mutex (two switches, not one). The
     * consumer re-checks count under the lock, so no wake-up is lost; the
     * queue outlives the producer's last push (the hub joins the ingress
     * before it frees the consumers). */
    if (wake)
        pthread_cond_signal(&q->not_empty);
    return HS_OK;
}

void hs__queue_hold_wakeups(hs__queue *q, bool hold)
{
    q->hold_wakeups = hold;
    if (!hold)
        hs__queue_wake(q);
}

void hs__queue_wake(hs__queue *q)
{
    /* No lock: both fields are the producer's own. consumer_waiting was true
     * under the lock when the wake-up was held; if the consumer woke by
     * itself since, this signal finds nobody or wakes it once for nothing. */
    if (q->wake_pending) {
        q->wake_pending = false;
        pthread_cond_signal(&q->not_empty);
    }
}

/* Called with the lock held; returns with it released. */
static int peek_locked(hs__queue *q, hs__queue_item *out)
{
    if (q->count > 0) {
        /* Behind the producer: messages come faster than the sink takes
         * them, so a spin would find the next one. */
        q->spins = HS__QUEUE_SPINS;
    } else if (!q->closed && q->spins > 0) {
        /* A burst usually brings the next message within microseconds: spin
         * a few microseconds before paying for a sleep and a wake-up. Spin,
         * not sched_yield: on a busy machine a yield hands the core to
         * another process for a whole time slice (milliseconds of latency),
         * while a thread that sleeps on the condition variable is woken
         * with priority. */
        unsigned spins = q->spins;
        pthread_mutex_unlock(&q->lock);
        for (unsigned spin = 0; spin < spins; spin++) {
            if (atomic_load_explicit(&q->count_hint, memory_order_relaxed) > 0)
                break;
            cpu_relax();
        }
        pthread_mutex_lock(&q->lock);
        /* A spin that found nothing is halved for the next time: at a steady
         * rate slower than the spin (10,000 msg/s: a message every 100 us)
         * it only burnt the CPU, about as much as the message itself cost. */
        q->spins = q->count > 0 ? HS__QUEUE_SPINS : spins / 2;
    }
    while (q->count == 0 && !q->closed) {
        q->consumer_waiting = true;
        pthread_cond_wait(&q->not_empty, &q->lock);
        q->consumer_waiting = false;
    }
    if (q->count == 0) {
        pthread_mutex_unlock(&q->lock);
        return HS_ECLOSED;
    }
    *out = q->ring[q->head];
    pthread_mutex_unlock(&q->lock);
    return HS_OK;
}

/* Called with the lock held. */
static void remove_head_locked(hs__queue *q)
{
    if (q->count > 0) {
        q->ring[q->head].msg = NULL;
        q->head = (q->head + 1) % q->cap;
        q->count--;
        atomic_store_explicit(&q->count_hint, q->count, memory_order_relaxed);
        if (q->producer_waiting)
            pthread_cond_signal(&q->not_full);
    }
}

int hs__queue_peek(hs__queue *q, hs__queue_item *out)
{
    pthread_mutex_lock(&q->lock);
    return peek_locked(q, out);
}

void hs__queue_done(hs__queue *q)
{
    pthread_mutex_lock(&q->lock);
    remove_head_locked(q);
    pthread_mutex_unlock(&q->lock);
}

int hs__queue_done_peek(hs__queue *q, hs__queue_item *out)
{
    pthread_mutex_lock(&q->lock);
    remove_head_locked(q);
    return peek_locked(q, out);
}

int hs__queue_pop_now(hs__queue *q, hs__queue_item *out)
{
    pthread_mutex_lock(&q->lock);
    if (q->count == 0) {
        pthread_mutex_unlock(&q->lock);
        return HS_EEMPTY;
    }
    *out = q->ring[q->head];
    q->ring[q->head].msg = NULL;
    q->head = (q->head + 1) % q->cap;
    q->count--;
    atomic_store_explicit(&q->count_hint, q->count, memory_order_relaxed);
    if (q->producer_waiting)
        pthread_cond_signal(&q->not_full);
    pthread_mutex_unlock(&q->lock);
    return HS_OK;
}

size_t hs__queue_abandon(hs__queue *q, void (*fn)(void *arg, hs__msg *m, bool in_flight), void *arg)
{
    pthread_mutex_lock(&q->lock);
    size_t seen = q->count;
    for (size_t k = 0; k < seen; k++) {
        hs__queue_item *slot = &q->ring[(q->head + k) % q->cap];
        fn(arg, slot->msg, k == 0);
        if (k > 0)
            slot->msg = NULL;
    }
    if (seen > 1) {
        q->count = 1;
        atomic_store_explicit(&q->count_hint, q->count, memory_order_relaxed);
    }
    pthread_mutex_unlock(&q->lock);
    return seen;
}

void hs__queue_close(hs__queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = true;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}

void hs__queue_stats(hs__queue *q, size_t *count, uint64_t *oldest_ns)
{
    pthread_mutex_lock(&q->lock);
    *count = q->count;
    *oldest_ns = q->count > 0 ? q->ring[q->head].enqueued_ns : 0;
    pthread_mutex_unlock(&q->lock);
}

bool hs__queue_head_time(hs__queue *q, uint64_t *ts_ns)
{
    pthread_mutex_lock(&q->lock);
    bool any = q->count > 0;
    if (any)
        *ts_ns = q->ring[q->head].ts_ns;
    pthread_mutex_unlock(&q->lock);
    return any;
}
