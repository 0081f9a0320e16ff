/* test_queue.c - the bounded per-worker queue: order, full = block or drop,
 * close, and a producer and a consumer thread passing 200,000 messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "hashspace/error.h"
#include "msg.h"
#include "queue.h"

static hs__msg *numbered(unsigned n)
{
    char body[32];
    int len = snprintf(body, sizeof body, "%u", n);
    hs__msg *m = hs__msg_new("t", 1, body, (size_t)len, 0, 1);
    assert_non_null(m);
    m->key_hash = n;
    return m;
}

static void test_queue_is_fifo_and_peek_keeps_the_head(void **state)
{
    (void)state;
    hs__queue q;
    assert_int_equal(hs__queue_init(&q, 4), HS_OK);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(hs__queue_push(&q, numbered(i), 100 + i, true, NULL), HS_OK);
    size_t count;
    uint64_t oldest;
    hs__queue_stats(&q, &count, &oldest);
    assert_int_equal(count, 3);
    assert_int_equal(oldest, 100);
    for (unsigned i = 0; i < 3; i++) {
        hs__queue_item item;
        assert_int_equal(hs__queue_peek(&q, &item), HS_OK);
        assert_int_equal(item.msg->key_hash, i);
        /* In flight: still counted until done. */
        hs__queue_stats(&q, &count, &oldest);
        assert_int_equal(count, 3 - i);
        assert_int_equal(oldest, 100 + i);
        hs__queue_done(&q);
        hs__msg_release(item.msg);
    }
    hs__queue_stats(&q, &count, &oldest);
    assert_int_equal(count, 0);
    assert_int_equal(oldest, 0);
    hs__queue_destroy(&q);
}

static void test_queue_done_peek_removes_the_head_and_returns_the_next(void **state)
{
    (void)state;
    hs__queue q;
    assert_int_equal(hs__queue_init(&q, 4), HS_OK);
    for (unsigned i = 0; i < 2; i++)
        assert_int_equal(hs__queue_push(&q, numbered(i), 100 + i, true, NULL), HS_OK);
    hs__queue_item first, second, none;
    assert_int_equal(hs__queue_peek(&q, &first), HS_OK);
    assert_int_equal(first.msg->key_hash, 0);
    hs__msg_release(first.msg);
    assert_int_equal(hs__queue_done_peek(&q, &second), HS_OK);
    assert_int_equal(second.msg->key_hash, 1);
    size_t count;
    uint64_t oldest;
    hs__queue_stats(&q, &count, &oldest);
    assert_int_equal(count, 1);
    assert_int_equal(oldest, 101);
    hs__msg_release(second.msg);
    hs__queue_close(&q);
    assert_int_equal(hs__queue_done_peek(&q, &none), HS_ECLOSED);
    hs__queue_stats(&q, &count, &oldest);
    assert_int_equal(count, 0);
    hs__queue_destroy(&q);
}

static void test_msg_block_is_reused_only_when_its_size_fits(void **state)
{
    (void)state;
    char body[1000];
    memset(body, 'x', sizeof body);
    hs__msg *a = hs__msg_new("t", 1, body, 200, 0, 1);
    assert_non_null(a);
    void *block = a;
    hs__msg_release(a);
    /* Same size: the released block comes back, filled anew. */
    hs__msg *b = hs__msg_new("u", 1, body + 1, 200, 7, 1);
    assert_ptr_equal(b, block);
    assert_string_equal(hs__msg_topic(b), "u");
    assert_int_equal(b->body_len, 200);
    assert_int_equal(b->received_ns, 7);
    assert_int_equal(b->body[200], '\0');
    hs__msg_release(b);
    /* Much smaller: not held in the big block. */
    hs__msg *c = hs__msg_new("t", 1, body, 10, 0, 1);
    assert_non_null(c);
    assert_string_equal(c->body, "xxxxxxxxxx");
    hs__msg_release(c);
    hs__msg *d = hs__msg_new("t", 1, body, sizeof body, 0, 2);
    assert_non_null(d);
    hs__msg_release(d);
    hs__msg_release(d);
}

static void test_queue_full_drop_mode_refuses_at_once(void **state)
{
    (void)state;
    hs__queue q;
    assert_int_equal(hs__queue_init(&q, 2), HS_OK);
    assert_int_equal(hs__queue_push(&q, numbered(1), 1, false, NULL), HS_OK);
    assert_int_equal(hs__queue_push(&q, numbered(2), 2, false, NULL), HS_OK);
    hs__msg *third = numbered(3);
    assert_int_equal(hs__queue_push(&q, third, 3, false, NULL), HS_EFULL);
    hs__msg_release(third); /* refused: still ours */
    hs__queue_destroy(&q);  /* releases the two queued */
}

static void test_queue_full_block_mode_gives_up_on_abort(void **state)
{
    (void)state;
    hs__queue q;
    assert_int_equal(hs__queue_init(&q, 1), HS_OK);
    assert_int_equal(hs__queue_push(&q, numbered(1), 1, true, NULL), HS_OK);
    atomic_bool abort_flag;
    atomic_init(&abort_flag, true);
    hs__msg *second = numbered(2);
    assert_int_equal(hs__queue_push(&q, second, 2, true, &abort_flag), HS_ETIMEOUT);
    hs__msg_release(second);
    hs__queue_destroy(&q);
}

static void test_queue_close_drains_then_reports_closed(void **state)
{
    (void)state;
    hs__queue q;
    assert_int_equal(hs__queue_init(&q, 8), HS_OK);
    assert_int_equal(hs__queue_push(&q, numbered(7), 1, true, NULL), HS_OK);
    hs__queue_close(&q);
    hs__msg *late = numbered(8);
    assert_int_equal(hs__queue_push(&q, late, 2, true, NULL), HS_ECLOSED);
    hs__msg_release(late);
    hs__queue_item item;
    assert_int_equal(hs__queue_peek(&q, &item), HS_OK);
    assert_int_equal(item.msg->key_hash, 7);
    hs__queue_done(&q);
    hs__msg_release(item.msg);
    assert_int_equal(hs__queue_peek(&q, &item), HS_ECLOSED);
    assert_int_equal(hs__queue_pop_now(&q, &item), HS_EEMPTY);
    hs__queue_destroy(&q);
}

#define THREADED_COUNT 200000u

typedef struct consumer_ctx {
    hs__queue *q;
    unsigned got, last;
    unsigned out_of_order; /* not after the one before: with got == what was pushed
                              (numbered 0, 1, ...), exactly 0, 1, ... were taken */
} consumer_ctx;

static void *consume_all(void *arg)
{
    consumer_ctx *c = arg;
    hs__queue_item item;
    /* The worker's loop: release, then done_peek. */
    int rc = hs__queue_peek(c->q, &item);
    while (rc == HS_OK) {
        unsigned n = (unsigned)item.msg->key_hash;
        if (c->got > 0 && n <= c->last)
            c->out_of_order++;
        c->last = n;
        c->got++;
        hs__msg_release(item.msg);
        rc = hs__queue_done_peek(c->q, &item);
    }
    return NULL;
}

/* consume_all on a thread of its own against q, counting into *c. */
static pthread_t consumer_start(consumer_ctx *c, hs__queue *q)
{
    *c = (consumer_ctx){.q = q};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, consume_all, c), 0);
    return t;
}

/* No more pushes: the consumer takes what is left and ends. */
static void consumer_finish(hs__queue *q, pthread_t t)
{
    hs__queue_close(q);
    assert_int_equal(pthread_join(t, NULL), 0);
}

static void test_queue_threaded_small_ring_loses_nothing_and_keeps_order(void **state)
{
    (void)state;
    hs__queue q;
    /* A ring of 16 makes the producer block often: every wake-up path runs. */
    assert_int_equal(hs__queue_init(&q, 16), HS_OK);
    consumer_ctx c;
    pthread_t t = consumer_start(&c, &q);
    for (unsigned i = 0; i < THREADED_COUNT; i++)
        assert_int_equal(hs__queue_push(&q, numbered(i), i + 1, true, NULL), HS_OK);
    consumer_finish(&q, t);
    assert_int_equal(c.got, THREADED_COUNT);
    assert_int_equal(c.out_of_order, 0);
    hs__queue_destroy(&q);
}

static void test_queue_held_wakeups_lose_nothing_when_the_ring_fills(void **state)
{
    (void)state;
    hs__queue q;
    /* The producer holds every wake-up and never gives one: a consumer
     * asleep is woken only because the ring is full (else this hangs). */
    assert_int_equal(hs__queue_init(&q, 4), HS_OK);
    hs__queue_hold_wakeups(&q, true);
    consumer_ctx c;
    pthread_t t = consumer_start(&c, &q);
    for (unsigned i = 0; i < THREADED_COUNT / 10; i++)
        assert_int_equal(hs__queue_push(&q, numbered(i), i + 1, true, NULL), HS_OK);
    hs__queue_hold_wakeups(&q, false);
    consumer_finish(&q, t);
    assert_int_equal(c.got, THREADED_COUNT / 10);
    assert_int_equal(c.out_of_order, 0);
    hs__queue_destroy(&q);
}

static bool consumer_sleeps(hs__queue *q)
{
    pthread_mutex_lock(&q->lock);
    bool waiting = atomic_load(&q->consumer_waiting);
    pthread_mutex_unlock(&q->lock);
    return waiting;
}

static void test_queue_held_wakeup_is_given_by_wake(void **state)
{
    (void)state;
    hs__queue q;
    assert_int_equal(hs__queue_init(&q, 8), HS_OK);
    consumer_ctx c;
    pthread_t t = consumer_start(&c, &q);
    for (int i = 0; i < 2000 && !consumer_sleeps(&q); i++) {
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
    }
    assert_true(consumer_sleeps(&q));
    hs__queue_hold_wakeups(&q, true);
    assert_int_equal(hs__queue_push(&q, numbered(0), 1, true, NULL), HS_OK);
    assert_int_equal(hs__queue_push(&q, numbered(1), 2, true, NULL), HS_OK);
    /* Held: the consumer sleeps on with both queued. */
    struct timespec held = {0, 20000000};
    nanosleep(&held, NULL);
    size_t queued;
    uint64_t since;
    hs__queue_stats(&q, &queued, &since);
    assert_int_equal(queued, 2);
    assert_int_equal(since, 1);
    assert_true(consumer_sleeps(&q));
    hs__queue_wake(&q);
    /* Woken, the consumer takes both and sleeps again. */
    size_t count = 2;
    uint64_t oldest;
    for (int i = 0; i < 2000 && (count > 0 || !consumer_sleeps(&q)); i++) {
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
        hs__queue_stats(&q, &count, &oldest);
    }
    assert_int_equal(count, 0);
    consumer_finish(&q, t);
    assert_int_equal(c.got, 2);
    hs__queue_destroy(&q);
}

/* Drop mode under load: every message is either taken by the worker, in
 * order, or refused at once and still the producer's; none is lost or seen
 * twice. */
static void test_queue_drop_mode_under_load_takes_or_refuses_each_once(void **state)
{
    (void)state;
    hs__queue q;
    assert_int_equal(hs__queue_init(&q, 8), HS_OK);
    consumer_ctx c;
    pthread_t t = consumer_start(&c, &q);
    unsigned refused = 0;
    for (unsigned i = 0; i < THREADED_COUNT; i++) {
        hs__msg *m = numbered(i);
        int rc = hs__queue_push(&q, m, i + 1, false, NULL);
        if (rc == HS_EFULL) {
            refused++;
            hs__msg_release(m);
        } else {
            assert_int_equal(rc, HS_OK);
        }
    }
    consumer_finish(&q, t);
    assert_int_equal(c.got + refused, THREADED_COUNT);
    assert_int_equal(c.out_of_order, 0);
    assert_true(c.got > 0);
    hs__queue_destroy(&q);
}

/* hs__queue_abandon: the main thread dead-letters what is behind a worker
 * stuck in its head item; the worker, when it comes back, finds nothing. */
typedef struct abandoned {
    unsigned in_flight, behind, first;
} abandoned;

static void note_abandoned(void *arg, hs__msg *m, bool in_flight)
{
    abandoned *a = arg;
    if (in_flight) {
        a->in_flight++;
        a->first = (unsigned)m->key_hash;
    } else {
        a->behind++;
        hs__msg_release(m);
    }
}

static void test_queue_abandon_keeps_the_head_and_takes_the_rest(void **state)
{
    (void)state;
    hs__queue q;
    /* 5 is not a power of two: the ring has 8 slots, 5 usable. */
    assert_int_equal(hs__queue_init(&q, 5), HS_OK);
    for (unsigned i = 0; i < 5; i++)
        assert_int_equal(hs__queue_push(&q, numbered(i), 10 + i, true, NULL), HS_OK);
    hs__msg *extra = numbered(99);
    assert_int_equal(hs__queue_push(&q, extra, 1, false, NULL), HS_EFULL);
    hs__msg_release(extra); /* refused: still the caller's */
    hs__queue_item item;
    assert_int_equal(hs__queue_peek(&q, &item), HS_OK); /* the worker's head, in flight */
    abandoned a = {0};
    assert_int_equal(hs__queue_abandon(&q, note_abandoned, &a), 5);
    assert_int_equal(a.in_flight, 1);
    assert_int_equal(a.first, 0);
    assert_int_equal(a.behind, 4);
    size_t count;
    uint64_t oldest;
    hs__queue_stats(&q, &count, &oldest);
    assert_int_equal(count, 1);
    assert_int_equal(oldest, 10);
    hs__queue_close(&q);
    /* The worker finishes its message: nothing behind it any more. */
    hs__msg_release(item.msg);
    assert_int_equal(hs__queue_done_peek(&q, &item), HS_ECLOSED);
    hs__queue_stats(&q, &count, &oldest);
    assert_int_equal(count, 0);
    assert_int_equal(oldest, 0);
    hs__queue_destroy(&q);
}

/* The metrics thread reads the backlog and the head's time while both sides
 * run, without the queue's lock: every reading is one the queue had (a
 * count within the ring, a head time among the pushed ones, in order). */
typedef struct reader_ctx {
    hs__queue *q;
    atomic_bool stop;
    unsigned readings, bad;
} reader_ctx;

static void *read_stats(void *arg)
{
    reader_ctx *r = arg;
    uint64_t last_ts = 0;
    while (!atomic_load(&r->stop)) {
        size_t count;
        uint64_t oldest, ts;
        hs__queue_stats(r->q, &count, &oldest);
        if (count > r->q->cap || (count > 0 && (oldest == 0 || oldest > THREADED_COUNT)))
            r->bad++;
        if (hs__queue_head_time(r->q, &ts)) {
            if (ts < last_ts || ts > THREADED_COUNT)
                r->bad++;
            last_ts = ts;
        }
        r->readings++;
    }
    return NULL;
}

static void test_queue_stats_read_while_both_sides_run(void **state)
{
    (void)state;
    hs__queue q;
    assert_int_equal(hs__queue_init(&q, 64), HS_OK);
    consumer_ctx c;
    reader_ctx r = {.q = &q};
    atomic_init(&r.stop, false);
    pthread_t tc = consumer_start(&c, &q), tr;
    assert_int_equal(pthread_create(&tr, NULL, read_stats, &r), 0);
    for (unsigned i = 0; i < THREADED_COUNT; i++) {
        hs__msg *m = numbered(i);
        m->ts_ns = i + 1;
        assert_int_equal(hs__queue_push(&q, m, i + 1, true, NULL), HS_OK);
    }
    consumer_finish(&q, tc);
    atomic_store(&r.stop, true);
    assert_int_equal(pthread_join(tr, NULL), 0);
    assert_int_equal(c.got, THREADED_COUNT);
    assert_int_equal(c.out_of_order, 0);
    assert_true(r.readings > 0);
    assert_int_equal(r.bad, 0);
    hs__queue_destroy(&q);
}

static void test_msg_is_one_block_with_nul_terminated_parts(void **state)
{
    (void)state;
    hs__msg *m = hs__msg_new("topic", 5, "a\0b", 3, 42, 2);
    assert_non_null(m);
    assert_string_equal(hs__msg_topic(m), "topic");
    assert_int_equal(m->body_len, 3);
    assert_memory_equal(m->body, "a\0b", 4);
    hs_message v = hs__msg_view(m, 2);
    assert_int_equal(v.topic_len, 5);
    assert_int_equal(v.received_ns, 42);
    assert_int_equal(v.attempt, 2);
    /* Header overhead, the memory goal's part: at most 48 bytes. */
    assert_true(sizeof(hs__msg) <= 48);
    assert_true(sizeof(hs__queue_item) == 24);
    hs__msg_release(m);
    hs__msg_release(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_is_fifo_and_peek_keeps_the_head),
        cmocka_unit_test(test_queue_done_peek_removes_the_head_and_returns_the_next),
        cmocka_unit_test(test_msg_block_is_reused_only_when_its_size_fits),
        cmocka_unit_test(test_queue_full_drop_mode_refuses_at_once),
        cmocka_unit_test(test_queue_full_block_mode_gives_up_on_abort),
        cmocka_unit_test(test_queue_close_drains_then_reports_closed),
        cmocka_unit_test(test_queue_threaded_small_ring_loses_nothing_and_keeps_order),
        cmocka_unit_test(test_queue_held_wakeups_lose_nothing_when_the_ring_fills),
        cmocka_unit_test(test_queue_held_wakeup_is_given_by_wake),
        cmocka_unit_test(test_queue_drop_mode_under_load_takes_or_refuses_each_once),
        cmocka_unit_test(test_queue_abandon_keeps_the_head_and_takes_the_rest),
        cmocka_unit_test(test_queue_stats_read_while_both_sides_run),
        cmocka_unit_test(test_msg_is_one_block_with_nul_terminated_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
