/* test_timeline.c - timelines of views: the view in force at a time, the
 * confirmation horizon, the lease, pruning, ordering checks, and the mailbox
 * between a writer thread and a reader thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "timeline.h"

#include "hashspace/error.h"

static hs_view *view_of(uint64_t epoch, const char *list)
{
    hs_view_member *members;
    size_t n;
    char *storage;
    assert_int_equal(hs_members_parse(list, &members, &n, &storage, NULL), HS_OK);
    hs_view *v;
    assert_int_equal(hs_view_new(&v, epoch, "jump", NULL, NULL, members, n), HS_OK);
    free(members);
    free(storage);
    return v;
}

/* Views 1 (from 100), 2 (from 200), 3 (from 300), confirmed until 350. */
static hs__timeline *three(void)
{
    hs__timeline_entry e[3] = {{1, 100, view_of(1, "a"), NULL, 0},
                               {2, 200, view_of(2, "a,b"), NULL, 0},
                               {3, 300, view_of(3, "a,b,c"), NULL, 0}};
    hs__timeline *t;
    assert_int_equal(hs__timeline_derive(&t, NULL, e, 3, 350, 1000, 0), HS_OK);
    for (int i = 0; i < 3; i++)
        hs_view_release(e[i].view); /* the timeline holds its own references */
    return t;
}

static void test_timeline_view_at_picks_the_view_in_force(void **state)
{
    (void)state;
    hs__timeline *t = three();
    assert_null(hs__timeline_at(t, 99));
    assert_int_equal(hs__timeline_at(t, 100)->epoch, 1); /* effective_from is inclusive */
    assert_int_equal(hs__timeline_at(t, 199)->epoch, 1);
    assert_int_equal(hs__timeline_at(t, 200)->epoch, 2);
    assert_int_equal(hs__timeline_at(t, 299)->epoch, 2);
    assert_int_equal(hs__timeline_at(t, 300)->epoch, 3);
    assert_int_equal(hs__timeline_at(t, UINT64_MAX)->epoch, 3);
    assert_int_equal(hs_view_size(hs__timeline_at(t, 250)->view), 2);
    assert_int_equal(hs__timeline_pending(t, 150), 2);
    assert_int_equal(hs__timeline_pending(t, 300), 0);
    assert_int_equal(hs__timeline_newest(t)->epoch, 3);
    hs__timeline_free(t);
}

static void test_timeline_confirmed_until_and_lease(void **state)
{
    (void)state;
    hs__timeline *t = three();
    assert_true(hs__timeline_confirmed(t, 350));
    assert_false(hs__timeline_confirmed(t, 351)); /* a later message must wait */
    assert_false(hs__timeline_fenced(t, 1000));
    assert_true(hs__timeline_fenced(t, 1001));
    /* A derived snapshot never confirms less than its base. */
    hs__timeline *next;
    assert_int_equal(hs__timeline_derive(&next, t, NULL, 0, 10, 2000, 0), HS_OK);
    assert_int_equal(hs__timeline_confirmed_until(next), 350);
    assert_int_equal(hs__timeline_lease_until(next), 2000);
    hs__timeline_free(t);
    hs__timeline_free(next);
}

static void test_timeline_derive_appends_shares_and_prunes(void **state)
{
    (void)state;
    hs__timeline *t = three();
    hs__timeline_entry e = {4, 400, view_of(4, "b,c"), NULL, 0};
    hs__timeline *next;
    /* Prune at 250: view 2 is in force then, so view 1 goes. */
    assert_int_equal(hs__timeline_derive(&next, t, &e, 1, 450, 1000, 250), HS_OK);
    hs_view_release(e.view);
    hs__timeline_free(t); /* next keeps the views it shares */
    assert_int_equal(hs__timeline_size(next), 3);
    assert_int_equal(hs__timeline_entry_at(next, 0)->epoch, 2);
    assert_int_equal(hs__timeline_at(next, 420)->epoch, 4);
    assert_int_equal(hs_view_size(hs__timeline_at(next, 210)->view), 2);
    assert_null(hs__timeline_at(next, 150)); /* pruned: no longer known */
    hs__timeline *again;
    /* Pruning past every view keeps the newest. */
    assert_int_equal(hs__timeline_derive(&again, next, NULL, 0, 0, 0, UINT64_MAX), HS_OK);
    assert_int_equal(hs__timeline_size(again), 1);
    assert_int_equal(hs__timeline_newest(again)->epoch, 4);
    hs__timeline_free(next);
    hs__timeline_free(again);
}

static void test_timeline_refuses_views_out_of_order(void **state)
{
    (void)state;
    hs__timeline *t = three(), *next = NULL;
    hs_view *v = view_of(9, "z");
    hs__timeline_entry old_epoch = {3, 500, v, NULL, 0}, earlier = {4, 299, v, NULL, 0},
                       same_time = {4, 300, v, NULL, 0};
    assert_int_equal(hs__timeline_derive(&next, t, &old_epoch, 1, 0, 0, 0), HS_EINVAL);
    assert_null(next);
    assert_int_equal(hs__timeline_derive(&next, t, &earlier, 1, 0, 0, 0), HS_EINVAL);
    hs__timeline_entry twice[2] = {{5, 600, v, NULL, 0}, {5, 700, v, NULL, 0}};
    assert_int_equal(hs__timeline_derive(&next, t, twice, 2, 0, 0, 0), HS_EINVAL);
    hs__timeline_entry none = {5, 600, NULL, NULL, 0};
    assert_int_equal(hs__timeline_derive(&next, t, &none, 1, 0, 0, 0), HS_EINVAL);
    /* Equal effective_from: the higher epoch wins from then on. */
    assert_int_equal(hs__timeline_derive(&next, t, &same_time, 1, 0, 0, 0), HS_OK);
    assert_int_equal(hs__timeline_at(next, 300)->epoch, 4);
    hs_view_release(v);
    hs__timeline_free(t);
    hs__timeline_free(next);
}

static void test_timeline_empty(void **state)
{
    (void)state;
    hs__timeline *t;
    assert_int_equal(hs__timeline_derive(&t, NULL, NULL, 0, 0, 0, 0), HS_OK);
    assert_int_equal(hs__timeline_size(t), 0);
    assert_null(hs__timeline_at(t, 5));
    assert_null(hs__timeline_newest(t));
    assert_true(hs__timeline_confirmed(t, 0));
    assert_false(hs__timeline_confirmed(t, 1));
    hs__timeline_free(t);
    hs__timeline_free(NULL);
}

/* --- the mailbox: a writer puts 20,000 snapshots, a reader takes them --- */

#define BOX_PUTS 20000

typedef struct box_test {
    hs__timeline_box box;
    hs_view *view;
} box_test;

static void *writer(void *arg)
{
    box_test *bt = arg;
    for (uint64_t i = 1; i <= BOX_PUTS; i++) {
        hs__timeline_entry e = {1, 0, bt->view, NULL, 0};
        hs__timeline *t;
        if (hs__timeline_derive(&t, NULL, &e, 1, i, i, 0) != HS_OK)
            abort();
        hs__timeline_box_put(&bt->box, t);
    }
    return NULL;
}

static void test_timeline_box_hands_over_newest_snapshots_in_order(void **state)
{
    (void)state;
    box_test bt;
    hs__timeline_box_init(&bt.box);
    bt.view = view_of(1, "a,b");
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, writer, &bt), 0);
    hs__timeline *mine = NULL;
    uint64_t last = 0, taken = 0;
    while (last < BOX_PUTS) {
        hs__timeline *t = hs__timeline_box_take(&bt.box);
        if (t == NULL)
            continue;
        /* Never older than what the reader has: the box keeps only the newest. */
        assert_true(hs__timeline_confirmed_until(t) > last);
        last = hs__timeline_confirmed_until(t);
        assert_int_equal(hs_view_size(hs__timeline_newest(t)->view), 2);
        hs__timeline_free(mine); /* the reader frees what it replaces */
        mine = t;
        taken++;
    }
    pthread_join(th, NULL);
    assert_null(hs__timeline_box_take(&bt.box));
    assert_int_equal(atomic_load(&bt.box.puts), BOX_PUTS);
    assert_true(taken >= 1 && taken <= BOX_PUTS);
    hs__timeline_free(mine);
    hs__timeline_box_destroy(&bt.box);
    hs_view_release(bt.view);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timeline_view_at_picks_the_view_in_force),
        cmocka_unit_test(test_timeline_confirmed_until_and_lease),
        cmocka_unit_test(test_timeline_derive_appends_shares_and_prunes),
        cmocka_unit_test(test_timeline_refuses_views_out_of_order),
        cmocka_unit_test(test_timeline_empty),
        cmocka_unit_test(test_timeline_box_hands_over_newest_snapshots_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
