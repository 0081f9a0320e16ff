/* queue.h - a bounded ring of message references, one per consumer worker.
 *
 * The ingress thread pushes, the worker peeks at the head, processes the
 * message and only then removes it with hs__queue_done(), so the message in
 * flight still counts in the backlog and in the age of the oldest message.
 * A slot is 24 bytes (a message pointer, the enqueue time and the message's
 * time).
 *
 * A full queue is a decision of the caller: push with block=true waits for
 * room (lossless), block=false returns HS_EFULL at once (drop and count).
 *
 * Threads: one producer and one consumer thread, plus any number of readers
 * of hs__queue_stats (the metrics thread); every function takes the queue's
 * mutex. Wake-ups are signalled only when the other side is waiting, so an
 * uncontended push or pop costs a lock and an unlock, no system call.
 */
#ifndef HS_HUB_QUEUE_H
#define HS_HUB_QUEUE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"

typedef struct hs__queue_item {
    hs__msg *msg;
    uint64_t enqueued_ns; /* CLOCK_MONOTONIC */
    uint64_t ts_ns;       /* the message's time, copied at push (the message may be freed
                             by its worker before the slot is removed) */
} hs__queue_item;

typedef struct hs__queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty; /* the consumer waits here */
    pthread_cond_t not_full;  /* the producer waits here */
    hs__queue_item *ring;
    size_t cap, head, count;
    bool closed;
    bool consumer_waiting;
    bool producer_waiting;
    /* count, mirrored for the consumer's short spin before it sleeps */
    atomic_size_t count_hint;
    /* how long the consumer spins next time (pauses); its own, adaptive */
    unsigned spins;
    /* the producer's own: hold the consumer's wake-up back, and one is due */
    bool hold_wakeups, wake_pending;
} hs__queue;

/* cap >= 1. HS_ENOMEM, HS_ESYSTEM. */
int hs__queue_init(hs__queue *q, size_t cap);
/* Releases the references still queued. Nobody may use q any more. */
void hs__queue_destroy(hs__queue *q);

/* Append a reference (the queue takes it over on HS_OK only).
 * HS_OK; HS_EFULL (full and !block); HS_ECLOSED (closed); HS_ETIMEOUT when
 * *abort became true while waiting for room (checked every 50 ms). abort may
 * be NULL. */
int hs__queue_push(hs__queue *q, hs__msg *m, uint64_t now_ns, bool block, const atomic_bool *abort);

/* Producer only. While held, a push does not wake a sleeping consumer at
 * once: the wake-up waits for hs__queue_wake (or the release, or a full
 * queue), so that a batch of pushes costs the consumer one wake-up, not one
 * each. Releasing wakes the consumer if a wake-up is due. */
void hs__queue_hold_wakeups(hs__queue *q, bool hold);
/* Producer only: give the consumer the wake-up held back, if one is due. */
void hs__queue_wake(hs__queue *q);

/* Wait for the head item and copy it to *out without removing it. HS_OK, or
 * HS_ECLOSED when the queue is closed and empty. */
int hs__queue_peek(hs__queue *q, hs__queue_item *out);
/* Remove the head item (after a successful peek). The caller keeps the
 * reference it got from peek and releases it itself. */
void hs__queue_done(hs__queue *q);
/* hs__queue_done, then hs__queue_peek, under one lock: the worker's loop
 * takes the queue's mutex once per message on its side instead of twice. */
int hs__queue_done_peek(hs__queue *q, hs__queue_item *out);
/* Remove and return the head without waiting: HS_OK or HS_EEMPTY. */
int hs__queue_pop_now(hs__queue *q, hs__queue_item *out);

/* For a consumer thread stuck inside the head item at shutdown: under the
 * lock, call fn(arg, head, true) for the head (it stays queued: its consumer
 * may still finish it), then remove every item behind it and call
 * fn(arg, msg, false) for each (fn takes over that reference). Returns the
 * number of items seen, the head included. */
size_t hs__queue_abandon(hs__queue *q, void (*fn)(void *arg, hs__msg *m, bool in_flight),
                         void *arg);

/* No more pushes: wakes the consumer, which sees HS_ECLOSED once empty. */
void hs__queue_close(hs__queue *q);

/* Items in the ring (including the one being processed) and the enqueue
 * time of the oldest (0 when empty). */
void hs__queue_stats(hs__queue *q, size_t *count, uint64_t *oldest_ns);
/* The message time of the head item (the one in flight); false when empty. */
bool hs__queue_head_time(hs__queue *q, uint64_t *ts_ns);

#endif
