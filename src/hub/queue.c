/* queue.c - the bounded single-producer single-consumer ring of a worker.
 *
 * DESIGN: the ingress thread is the only producer and one worker thread the
 * only consumer of a queue; the metrics and membership threads read its
 * stats. tail (items pushed ever) is written by the producer alone, head
 * (items removed ever) by the consumer alone, so a push is: write the slot,
 * store tail with release; the consumer reads the slot after an acquire
 * load of tail. Each side keeps a cached copy of the other's counter and
 * reads the shared one only when its copy says empty (consumer) or full
 * (producer), so the two cache lines do not travel per message.
 *
 * Sleeping: a side about to sleep sets its waiting flag, then looks at the
 * other side's counter again (both seq_cst) and sleeps on its condition
 * variable under lock; the other side publishes its counter, then reads the
 * flag (both seq_cst) and signals under lock. One of the two sees
 * the other's store, so no wake-up is lost. The producer may hold the
 * consumer's wake-up back until the end of a batch (hs__queue_hold_wakeups):
 * then the push does not even look at the flag; hs__queue_wake does.
 *
 * lock is taken by the consumer for each removal and peek (nobody else does
 * but to sleep, wake, close or abandon: uncontended), so that
 * hs__queue_abandon, on the main thread after the producer has stopped,
 * cannot take items the consumer is taking.
 */
#include "queue.h"

#include "hashspace/error.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

/* At most about 5 us of spinning on x86-64 (a pause is 40 to 140 cycles). */
#define HS__QUEUE_SPINS 100
#define HS__QUEUE_SPIN_NS 5000u

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
    if (cap == 0 || cap > SIZE_MAX / 4 / sizeof *q->ring)
        return HS_EINVAL;
    size_t slots = 1;
    while (slots < cap)
        slots <<= 1;
    q->ring = calloc(slots, sizeof *q->ring);
    if (q->ring == NULL)
        return HS_ENOMEM;
    q->cap = cap;
    q->mask = slots - 1;
    atomic_init(&q->tail, 0);
    atomic_init(&q->head, 0);
    q->head_seen = q->tail_seen = 0;
    q->spins = HS__QUEUE_SPINS;
    q->hold_wakeups = q->wake_pending = false;
    atomic_init(&q->closed, false);
    atomic_init(&q->consumer_waiting, false);
    atomic_init(&q->producer_waiting, false);
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
    size_t head = atomic_load(&q->head), tail = atomic_load(&q->tail);
    for (size_t i = head; i != tail; i++)
        hs__msg_release(q->ring[i & q->mask].msg);
    free(q->ring);
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
}

/* Producer: wake the consumer if it sleeps. The read-modify-write of tail
 * (seq_cst, a locked instruction on x86) orders the tail published before
 * with the look at the flag, as a fence would (which ThreadSanitizer does
 * not model). */
static void wake_consumer(hs__queue *q)
{
    atomic_fetch_add(&q->tail, 0);
    if (atomic_load(&q->consumer_waiting)) {
        pthread_mutex_lock(&q->lock);
        pthread_cond_signal(&q->not_empty);
        pthread_mutex_unlock(&q->lock);
    }
}

/* Producer, ring full: sleep until the consumer makes room, at most 50 ms. */
static void wait_for_room(hs__queue *q, size_t tail)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += 50 * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&q->lock);
    atomic_store(&q->producer_waiting, true);
    if (tail - atomic_load(&q->head) >= q->cap && !atomic_load(&q->closed))
        pthread_cond_timedwait(&q->not_full, &q->lock, &until);
    atomic_store(&q->producer_waiting, false);
    pthread_mutex_unlock(&q->lock);
}

int hs__queue_push(hs__queue *q, hs__msg *m, uint64_t now_ns, bool block, const atomic_bool *abort)
{
    size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    for (;;) {
        if (atomic_load_explicit(&q->closed, memory_order_acquire))
            return HS_ECLOSED;
        if (tail - q->head_seen < q->cap)
            break;
        q->head_seen = atomic_load_explicit(&q->head, memory_order_acquire);
        if (tail - q->head_seen < q->cap)
            break;
        /* A held wake-up is due now: the consumer must make room. */
        q->wake_pending = false;
        wake_consumer(q);
        if (!block)
            return HS_EFULL;
        if (abort != NULL && atomic_load_explicit(abort, memory_order_acquire))
            return HS_ETIMEOUT;
        wait_for_room(q, tail);
    }
    hs__queue_slot *slot = &q->ring[tail & q->mask];
    slot->msg = m;
    atomic_store_explicit(&slot->enqueued_ns, now_ns, memory_order_relaxed);
    atomic_store_explicit(&slot->ts_ns, m->ts_ns, memory_order_relaxed);
    atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
    /* The wake-up, when not held, is given after the store: the consumer
     * re-checks tail after raising its flag, so no wake-up is lost; the
     * queue outlives the producer's last push (the hub joins the ingress
     * before it frees the consumers). */
    if (!q->hold_wakeups)
        wake_consumer(q);
    else
        q->wake_pending = true;
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
    /* Something was pushed while held: a consumer that went to sleep since
     * (its flag raised) is woken; one that is awake sees tail itself. Nothing
     * pushed, nothing to say: a sleeping worker is not woken for nothing. */
    if (q->wake_pending) {
        q->wake_pending = false;
        wake_consumer(q);
    }
}

/* Consumer, lock held: is there an item at the head? (tail is read only
 * when the copy of it says no.) */
static bool any_locked(hs__queue *q)
{
    size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    if (q->tail_seen == head)
        q->tail_seen = atomic_load_explicit(&q->tail, memory_order_acquire);
    return q->tail_seen != head;
}

/* Consumer, lock held, the ring not empty: the head slot into *out. */
static void head_item_locked(const hs__queue *q, hs__queue_item *out)
{
    const hs__queue_slot *slot =
        &q->ring[atomic_load_explicit(&q->head, memory_order_relaxed) & q->mask];
    out->msg = slot->msg;
    out->enqueued_ns = atomic_load_explicit(&slot->enqueued_ns, memory_order_relaxed);
    out->ts_ns = atomic_load_explicit(&slot->ts_ns, memory_order_relaxed);
}

/* Consumer, lock held: the head slot into *out, waiting for one. */
static int peek_locked(hs__queue *q, hs__queue_item *out)
{
    size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    /* Behind the producer (an item is there) there is nothing to wait for
     * and nothing learnt. (That used to reset the spin: then at a rate where
     * messages come in batches, as the ingress gives them, every batch ended
     * with a spin that could not find the next one, 5 us burnt per batch.) */
    if (!any_locked(q) && !atomic_load_explicit(&q->closed, memory_order_acquire) && q->spins > 0) {
        /* A burst usually brings the next message within microseconds: spin
         * a few microseconds before paying for a sleep and a wake-up. Spin,
         * not sched_yield: on a busy machine a yield hands the core to
         * another process for a whole time slice (milliseconds of latency),
         * while a thread that sleeps on the condition variable is woken
         * with priority. */
        unsigned spins = q->spins;
        pthread_mutex_unlock(&q->lock);
        for (unsigned spin = 0; spin < spins; spin++) {
            if (atomic_load_explicit(&q->tail, memory_order_relaxed) != head)
                break;
            cpu_relax();
        }
        pthread_mutex_lock(&q->lock);
        q->tail_seen = atomic_load_explicit(&q->tail, memory_order_acquire);
        /* A spin that found nothing is halved for the next time: at a steady
         * rate slower than the spin (10,000 msg/s: a message every 100 us)
         * it only burnt the CPU, about as much as the message itself cost. */
        q->spins = q->tail_seen != head ? HS__QUEUE_SPINS : spins / 2;
    }
    if (q->tail_seen == head) {
        uint64_t slept = hs__monotonic_ns();
        atomic_store(&q->consumer_waiting, true);
        while ((q->tail_seen = atomic_load(&q->tail)) == head && !atomic_load(&q->closed))
            pthread_cond_wait(&q->not_empty, &q->lock);
        atomic_store(&q->consumer_waiting, false);
        /* Woken within what a full spin lasts: spinning would have been
         * cheaper than this sleep and wake-up, so spin again next time. */
        if (hs__monotonic_ns() - slept < HS__QUEUE_SPIN_NS)
            q->spins = HS__QUEUE_SPINS;
    }
    if (q->tail_seen == head) {
        pthread_mutex_unlock(&q->lock);
        return HS_ECLOSED;
    }
    head_item_locked(q, out);
    pthread_mutex_unlock(&q->lock);
    return HS_OK;
}

/* Consumer, lock held, the ring not empty: remove the head slot, and wake
 * a producer waiting for room. */
static void remove_head_locked(hs__queue *q)
{
    /* The slot is left as it is (the producer overwrites it): a write here
     * would take its cache line from the producer, which is filling it. */
    size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    atomic_store(&q->head, head + 1); /* seq_cst: ordered before the look at the flag */
    if (atomic_load(&q->producer_waiting))
        pthread_cond_signal(&q->not_full);
}

int hs__queue_peek(hs__queue *q, hs__queue_item *out)
{
    pthread_mutex_lock(&q->lock);
    return peek_locked(q, out);
}

void hs__queue_done(hs__queue *q)
{
    pthread_mutex_lock(&q->lock);
    if (any_locked(q))
        remove_head_locked(q);
    pthread_mutex_unlock(&q->lock);
}

int hs__queue_done_peek(hs__queue *q, hs__queue_item *out)
{
    pthread_mutex_lock(&q->lock);
    if (any_locked(q))
        remove_head_locked(q);
    return peek_locked(q, out);
}

int hs__queue_pop_now(hs__queue *q, hs__queue_item *out)
{
    pthread_mutex_lock(&q->lock);
    if (!any_locked(q)) {
        pthread_mutex_unlock(&q->lock);
        return HS_EEMPTY;
    }
    head_item_locked(q, out);
    remove_head_locked(q);
    pthread_mutex_unlock(&q->lock);
    return HS_OK;
}

size_t hs__queue_abandon(hs__queue *q, void (*fn)(void *arg, hs__msg *m, bool in_flight), void *arg)
{
    /* The producer has stopped (the hub joins the ingress first), so tail
     * is this thread's to lower; the consumer reads it only under lock,
     * through tail_seen, which is lowered with it. */
    pthread_mutex_lock(&q->lock);
    size_t head = atomic_load(&q->head), tail = atomic_load(&q->tail);
    size_t seen = tail - head;
    for (size_t k = 0; k < seen; k++) {
        const hs__queue_slot *slot = &q->ring[(head + k) & q->mask];
        fn(arg, slot->msg, k == 0);
    }
    if (seen > 1) {
        atomic_store(&q->tail, head + 1);
        q->tail_seen = head + 1;
    }
    pthread_mutex_unlock(&q->lock);
    return seen;
}

void hs__queue_close(hs__queue *q)
{
    atomic_store(&q->closed, true);
    pthread_mutex_lock(&q->lock);
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}

/* The head index of a non-empty ring and its slot, read without a lock: the
 * slot is the head's while head has not moved (the producer writes only
 * slots at tail, less than cap ahead of head, never the head's own). */
static bool head_slot(hs__queue *q, size_t *count, uint64_t *enqueued_ns, uint64_t *ts_ns)
{
    for (;;) {
        size_t head = atomic_load_explicit(&q->head, memory_order_acquire);
        size_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
        if (tail == head) {
            *count = 0;
            return false;
        }
        const hs__queue_slot *slot = &q->ring[head & q->mask];
        /* acquire: the look at head again comes after them */
        uint64_t e = atomic_load_explicit(&slot->enqueued_ns, memory_order_acquire);
        uint64_t t = atomic_load_explicit(&slot->ts_ns, memory_order_acquire);
        if (atomic_load_explicit(&q->head, memory_order_relaxed) == head) {
            *count = tail - head;
            *enqueued_ns = e;
            *ts_ns = t;
            return true;
        }
    }
}

void hs__queue_stats(hs__queue *q, size_t *count, uint64_t *oldest_ns)
{
    uint64_t ts;
    if (!head_slot(q, count, oldest_ns, &ts))
        *oldest_ns = 0;
}

bool hs__queue_head_time(hs__queue *q, uint64_t *ts_ns)
{
    size_t count;
    uint64_t enqueued;
    return head_slot(q, &count, &enqueued, ts_ns);
}
