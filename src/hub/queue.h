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
 * of hs__queue_stats and hs__queue_head_time (the metrics and membership
 * threads). A push takes no lock: it writes its slot and publishes the new
 * tail (one store), so the producer and the consumer do not take turns at a
 * mutex for each message (they did: a contended lock was a sixth of an
 * owned message's ingress CPU). The consumer's side takes the queue's
 * mutex, which nobody else takes but to sleep, to wake a sleeper, to close
 * or to abandon, so it is uncontended; the readers take nothing. Wake-ups
 * are signalled only when the other side sleeps, so an uncontended push or
 * pop costs no system call.
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

/* A slot: the times are atomic for the readers of stats and head time,
 * which look at the head slot without a lock (relaxed loads: plain moves). */
typedef struct hs__queue_slot {
    hs__msg *msg;
    _Atomic uint64_t enqueued_ns;
    _Atomic uint64_t ts_ns;
} hs__queue_slot;

typedef struct hs__queue {
    /* Read-only after init. The ring has a power of two of slots, at least
     * cap; at most cap are used. */
    hs__queue_slot *ring;
    size_t cap, mask;
    char pad0[64];
    /* The producer's: items pushed ever (published with release), its
     * cached view of head, whether it holds wake-ups back and whether it
     * pushed since it last gave one. */
    atomic_size_t tail;
    size_t head_seen;
    bool hold_wakeups, wake_pending;
    char pad1[64];
    /* The consumer's: items removed ever (published seq_cst, for the
     * producer that may sleep on a full ring), its cached view of tail
     * (read and written under lock only, so that hs__queue_abandon can
     * reset it), and how long it spins next time (pauses; adaptive). */
    atomic_size_t head;
    size_t tail_seen;
    unsigned spins;
    char pad2[64];
    /* Sleeping and waking. */
    pthread_mutex_t lock;
    pthread_cond_t not_empty; /* the consumer waits here */
    pthread_cond_t not_full;  /* the producer waits here */
    atomic_bool closed;
    atomic_bool consumer_waiting;
    atomic_bool producer_waiting;
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
