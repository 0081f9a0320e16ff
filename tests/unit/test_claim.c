/* test_claim.c - the claim rule over synthetic timelines (claim.c) and the
 * ring (ring.c): static membership decides by the one view; a key that
 * moves to a joining hub is held until its old owner's watermark passes the
 * view's effective_from, then released in order; a crashed member's
 * messages from its watermark on belong to its owner under the view
 * without it, below it to nobody new; the ring lets go of the oldest and
 * says when it no longer reaches back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "claim.h"
#include "ring.h"

#include "hashspace/error.h"

#define S 1000000000ull

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

static const char *owner(const hs_view *v, uint64_t hash)
{
    size_t i;
    assert_int_equal(hs_view_owner_hash(v, hash, &i), HS_OK);
    return hs_view_member_name(v, i);
}

/* A hash owned by `was` under v1 and by `now` under v2. */
static uint64_t moving(const hs_view *v1, const char *was, const hs_view *v2, const char *now)
{
    for (uint64_t h = 1; h < 100000; h++)
        if (strcmp(owner(v1, h * 0x9e3779b97f4a7c15ull), was) == 0 &&
            strcmp(owner(v2, h * 0x9e3779b97f4a7c15ull), now) == 0)
            return h * 0x9e3779b97f4a7c15ull;
    fail_msg("no key moves from %s to %s", was, now);
    return 0;
}

static hs__timeline_peer peer(const char *name, bool live, uint64_t watermark)
{
    hs__timeline_peer p = {.live = live, .has_watermark = true, .watermark_ns = watermark};
    snprintf(p.name, sizeof p.name, "%s", name);
    return p;
}

/* Views v1 (from 10 s) and v2 (from 20 s), confirmed to 100 s, leased
 * forever, with these peers. */
static hs__timeline *two(hs_view *v1, hs_view *v2, const hs__timeline_peer *peers, size_t n)
{
    hs__timeline_entry e[2] = {{1, 10 * S, v1, NULL, 0}, {2, 20 * S, v2, NULL, 0}};
    hs__timeline *t;
    assert_int_equal(hs__timeline_derive(&t, NULL, e, 2, 100 * S, UINT64_MAX, 0), HS_OK);
    assert_int_equal(hs__timeline_set_peers(t, peers, n), HS_OK);
    return t;
}

static void test_claim_static_timeline_decides_by_its_one_view(void **state)
{
    (void)state;
    hs_view *v = view_of(1, "a,b,c");
    hs__timeline *t;
    assert_int_equal(hs__timeline_static(&t, v), HS_OK);
    hs__claim_stats stats = {0};
    hs__claim *c;
    assert_int_equal(hs__claim_new(&c, "b", S, 10, 0, &stats), HS_OK);
    hs__claim_adopt(c, t, 1);
    bool fenced_now, unfenced;
    fenced_now = hs__claim_update_fence(c, UINT64_MAX - 1, &unfenced);
    assert_false(fenced_now);
    size_t mine = 0;
    for (uint64_t h = 1; h <= 3000; h++) {
        bool taken, dup;
        hs__verdict verdict = hs__claim_decide(c, h * S, h * 7919, 0, &taken, &dup);
        bool ours = strcmp(owner(v, h * 7919), "b") == 0;
        assert_int_equal(verdict, ours ? HS__VERDICT_OWN : HS__VERDICT_SKIP);
        mine += ours;
    }
    assert_true(mine > 800 && mine < 1200);
    assert_int_equal(atomic_load(&stats.view_epoch), 1);
    hs__claim_free(c);
    hs_view_release(v);
}

static hs__msg *msg_at(uint64_t ts, uint64_t hash)
{
    hs__msg *m = hs__msg_new("t", 1, "{}", 2, ts, 1);
    assert_non_null(m);
    m->ts_ns = ts;
    m->key_hash = hash;
    return m;
}

static uint64_t delivered[16];
static size_t ndelivered;

static void collect(void *arg, hs__msg *m, hs__consumer *const *targets, size_t n)
{
    (void)arg, (void)targets;
    assert_int_equal(n, 1);
    delivered[ndelivered++] = m->ts_ns;
    hs__msg_release(m);
}

static void test_claim_moved_key_is_held_until_the_old_owner_is_done(void **state)
{
    (void)state;
    hs_view *v1 = view_of(1, "a,b"), *v2 = view_of(2, "a,b,c");
    uint64_t key = moving(v1, "a", v2, "c");
    hs__timeline_peer behind[] = {peer("a", true, 15 * S), peer("b", true, 25 * S),
                                  peer("c", true, 0)};
    hs__claim_stats stats = {0};
    hs__claim *c;
    assert_int_equal(hs__claim_new(&c, "c", S, 10, 0, &stats), HS_OK);
    hs__claim_adopt(c, two(v1, v2, behind, 3), 1);
    bool taken, dup;
    /* Before 20 s the key is a's; from 20 s c's, after a is done. */
    assert_int_equal(hs__claim_decide(c, 19 * S, key, 0, &taken, &dup), HS__VERDICT_SKIP);
    assert_int_equal(hs__claim_decide(c, 21 * S, key, 0, &taken, &dup), HS__VERDICT_HOLD);
    hs__consumer *target = (hs__consumer *)&stats; /* never dereferenced */
    assert_int_equal(hs__claim_hold(c, msg_at(21 * S, key), &target, 1, 100), HS_OK);
    assert_int_equal(hs__claim_decide(c, 22 * S, key, 0, &taken, &dup), HS__VERDICT_HOLD);
    assert_int_equal(hs__claim_hold(c, msg_at(22 * S, key), &target, 1, 100), HS_OK);
    assert_int_equal(atomic_load(&stats.held), 2);
    ndelivered = 0;
    assert_int_equal(hs__claim_release(c, false, 200, collect, NULL), 0);
    /* a's watermark passes 20 s: released, in order. */
    hs__timeline_peer done[] = {peer("a", true, 20 * S), peer("b", true, 25 * S),
                                peer("c", true, 0)};
    hs__claim_adopt(c, two(v1, v2, done, 3), 300);
    assert_int_equal(hs__claim_release(c, false, 300, collect, NULL), 2);
    assert_int_equal(ndelivered, 2);
    assert_true(delivered[0] == 21 * S && delivered[1] == 22 * S);
    assert_int_equal(atomic_load(&stats.held), 0);
    assert_int_equal(atomic_load(&stats.hold_ns), 400);
    /* Settled: the same key is c's at once. */
    assert_int_equal(hs__claim_decide(c, 23 * S, key, 0, &taken, &dup), HS__VERDICT_OWN);
    hs__claim_free(c);
    hs_view_release(v1);
    hs_view_release(v2);
}

/* a owns a key that moves to c, and never finishes (a hung consumer: its
 * watermark stays at 15 s). c holds the key's messages for at most the
 * hold timeout (1000 ns here), then releases them, counted; later messages
 * of that handover go at once. */
static void test_claim_hold_ends_after_the_timeout_when_the_old_owner_never_advances(void **state)
{
    (void)state;
    hs_view *v1 = view_of(1, "a,b"), *v2 = view_of(2, "a,b,c");
    uint64_t key = moving(v1, "a", v2, "c");
    hs__timeline_peer hung[] = {peer("a", true, 15 * S), peer("b", true, 25 * S),
                                peer("c", true, 0)};
    hs__claim_stats stats = {0};
    hs__claim *c;
    assert_int_equal(hs__claim_new(&c, "c", S, 10, 1000, &stats), HS_OK);
    hs__claim_adopt(c, two(v1, v2, hung, 3), 1);
    hs__consumer *target = (hs__consumer *)&stats; /* never dereferenced */
    bool taken, dup;
    assert_int_equal(hs__claim_decide(c, 21 * S, key, 0, &taken, &dup), HS__VERDICT_HOLD);
    assert_int_equal(hs__claim_hold(c, msg_at(21 * S, key), &target, 1, 100), HS_OK);
    assert_int_equal(hs__claim_hold(c, msg_at(22 * S, key), &target, 1, 600), HS_OK);
    ndelivered = 0;
    assert_int_equal(hs__claim_release(c, false, 1099, collect, NULL), 0);
    assert_int_equal(atomic_load(&stats.hold_timeouts), 0);
    /* The first has waited 1000 ns: both go (the second waits for the same
     * handover), in order. */
    assert_int_equal(hs__claim_release(c, false, 1100, collect, NULL), 2);
    assert_int_equal(ndelivered, 2);
    assert_true(delivered[0] == 21 * S && delivered[1] == 22 * S);
    assert_int_equal(atomic_load(&stats.hold_timeouts), 2);
    assert_int_equal(atomic_load(&stats.held), 0);
    /* a still has not finished: a later message of the key is held, and
     * released at once, without waiting another timeout. */
    assert_int_equal(hs__claim_decide(c, 23 * S, key, 0, &taken, &dup), HS__VERDICT_HOLD);
    assert_int_equal(hs__claim_hold(c, msg_at(23 * S, key), &target, 1, 2000), HS_OK);
    assert_int_equal(hs__claim_release(c, false, 2000, collect, NULL), 1);
    assert_int_equal(atomic_load(&stats.hold_timeouts), 3);
    hs__claim_free(c);
    /* Without a bound (0) the hold waits for a. */
    hs__claim_stats unbounded = {0};
    assert_int_equal(hs__claim_new(&c, "c", S, 10, 0, &unbounded), HS_OK);
    hs__claim_adopt(c, two(v1, v2, hung, 3), 1);
    assert_int_equal(hs__claim_hold(c, msg_at(21 * S, key), &target, 1, 100), HS_OK);
    assert_int_equal(hs__claim_release(c, false, 100 * S, collect, NULL), 0);
    assert_int_equal(hs__claim_release(c, true, 100 * S, collect, NULL), 1);
    assert_int_equal(atomic_load(&unbounded.hold_timeouts), 0);
    hs__claim_free(c);
    hs_view_release(v1);
    hs_view_release(v2);
}

static void test_claim_crashed_member_goes_to_its_successor_from_its_watermark(void **state)
{
    (void)state;
    hs_view *v1 = view_of(1, "a,b,c"), *v2 = view_of(2, "a,b");
    uint64_t key = moving(v1, "c", v2, "a");
    /* c is gone with watermark 15 s; its last heartbeat was at 14 s. */
    hs__timeline_peer alive[] = {peer("a", true, 9 * S), peer("b", true, 9 * S),
                                 peer("c", true, 9 * S)};
    alive[2].heartbeat_ns = 14 * S;
    hs__timeline_peer gone[] = {peer("a", true, 9 * S), peer("b", true, 9 * S),
                                peer("c", false, 15 * S)};
    hs__claim_stats stats = {0};
    hs__claim *c;
    assert_int_equal(hs__claim_new(&c, "a", S, 10, 0, &stats), HS_OK);
    hs__timeline_entry e1[1] = {{1, 10 * S, v1, NULL, 0}};
    hs__timeline *t;
    assert_int_equal(hs__timeline_derive(&t, NULL, e1, 1, 100 * S, UINT64_MAX, 0), HS_OK);
    assert_int_equal(hs__timeline_set_peers(t, alive, 3), HS_OK);
    hs__claim_adopt(c, t, 1);
    bool taken, dup;
    assert_int_equal(hs__claim_decide(c, 16 * S, key, 0, &taken, &dup), HS__VERDICT_SKIP);
    hs__claim_adopt(c, two(v1, v2, gone, 3), 2);
    const char *name;
    uint64_t wm, hb;
    assert_int_equal(hs__claim_crashed(c, &name, &wm, &hb, 0), 1);
    assert_string_equal(name, "c");
    assert_true(wm == 15 * S && hb == 14 * S);
    /* Below its watermark c had finished it; from it on it is a's. */
    assert_int_equal(hs__claim_decide(c, 14 * S, key, 0, &taken, &dup), HS__VERDICT_SKIP);
    assert_int_equal(hs__claim_decide(c, 16 * S, key, 0, &taken, &dup), HS__VERDICT_OWN);
    assert_true(taken);
    assert_false(dup); /* after its heartbeat (14 s) + expiry (1 s) */
    assert_int_equal(hs__claim_decide(c, 15 * S, key, 0, &taken, &dup), HS__VERDICT_OWN);
    assert_true(taken && dup);
    assert_true(hs__claim_replay_mine(c, 16 * S, key, false, &dup));
    assert_false(hs__claim_replay_mine(c, 14 * S, key, false, &dup));
    assert_int_equal(atomic_load(&stats.crashes), 1);
    hs__claim_free(c);
    hs_view_release(v1);
    hs_view_release(v2);
}

/* Views v1 (from 10 s) and v2 (from 20 s) where v2 recorded that c's
 * registration was gone when it was made, with watermark 15 s. */
static hs__timeline *dropping_c(hs_view *v1, hs_view *v2, const hs__timeline_peer *peers, size_t n)
{
    hs__timeline_departed c = {.name = "c", .has_watermark = true, .watermark_ns = 15 * S};
    hs__timeline_entry e[2] = {{1, 10 * S, v1, NULL, 0}, {2, 20 * S, v2, &c, 1}};
    hs__timeline *t;
    assert_int_equal(hs__timeline_derive(&t, NULL, e, 2, 100 * S, UINT64_MAX, 0), HS_OK);
    assert_int_equal(hs__timeline_set_peers(t, peers, n), HS_OK);
    return t;
}

/* c was cut off from the coordinator at watermark 15 s; v2 (from 20 s) left
 * it out. It came back and published a newer watermark before this survivor
 * adopted v2. The survivor must take over c's messages from 15 s, as one
 * that adopted v2 at once did, and c must not claim them. */
static void
test_claim_cut_off_member_is_taken_over_from_the_watermark_its_view_recorded(void **state)
{
    (void)state;
    hs_view *v1 = view_of(1, "a,b,c"), *v2 = view_of(2, "a,b");
    uint64_t key = moving(v1, "c", v2, "a");
    /* Back with a watermark past v2's effective_from, and with one between. */
    uint64_t back_at[] = {25 * S, 18 * S};
    for (size_t r = 0; r < 2; r++) {
        hs__timeline_peer back[] = {peer("a", true, 9 * S), peer("b", true, 9 * S),
                                    peer("c", true, back_at[r])};
        hs__claim_stats stats = {0};
        hs__claim *a;
        assert_int_equal(hs__claim_new(&a, "a", S, 10, 0, &stats), HS_OK);
        hs__claim_adopt(a, dropping_c(v1, v2, back, 3), 1);
        const char *name;
        uint64_t wm, hb;
        assert_int_equal(hs__claim_crashed(a, &name, &wm, &hb, 0), 1);
        assert_string_equal(name, "c");
        assert_true(wm == 15 * S);
        bool taken, dup;
        assert_int_equal(hs__claim_decide(a, 14 * S, key, 0, &taken, &dup), HS__VERDICT_SKIP);
        assert_int_equal(hs__claim_decide(a, 16 * S, key, 0, &taken, &dup), HS__VERDICT_OWN);
        assert_true(taken);
        assert_true(hs__claim_replay_mine(a, 16 * S, key, false, &dup));
        assert_true(hs__claim_replay_mine(a, 19 * S, key, false, &dup));
        hs__claim_free(a);
        /* c itself agrees: from 15 s on its messages are a's. */
        hs__claim_stats cstats = {0};
        hs__claim *c;
        assert_int_equal(hs__claim_new(&c, "c", S, 10, 0, &cstats), HS_OK);
        hs__claim_adopt(c, dropping_c(v1, v2, back, 3), 1);
        assert_int_equal(hs__claim_decide(c, 14 * S, key, 0, &taken, &dup), HS__VERDICT_OWN);
        assert_int_equal(hs__claim_decide(c, 16 * S, key, 0, &taken, &dup), HS__VERDICT_SKIP);
        hs__claim_free(c);
    }
    hs_view_release(v1);
    hs_view_release(v2);
}

static void test_claim_planned_leave_is_no_crash(void **state)
{
    (void)state;
    hs_view *v1 = view_of(1, "a,b,c"), *v2 = view_of(2, "a,b");
    hs__timeline_peer left[] = {peer("a", true, 9 * S), peer("b", true, 9 * S),
                                peer("c", false, 21 * S)};
    hs__claim_stats stats = {0};
    hs__claim *c;
    assert_int_equal(hs__claim_new(&c, "a", S, 10, 0, &stats), HS_OK);
    hs__claim_adopt(c, two(v1, v2, left, 3), 1);
    const char *name;
    uint64_t wm, hb;
    assert_int_equal(hs__claim_crashed(c, &name, &wm, &hb, 0), 0);
    uint64_t key = moving(v1, "c", v2, "a");
    bool taken, dup;
    assert_int_equal(hs__claim_decide(c, 19 * S, key, 0, &taken, &dup), HS__VERDICT_SKIP);
    hs__claim_free(c);
    hs_view_release(v1);
    hs_view_release(v2);
}

static void test_ring_lets_go_of_the_oldest_and_says_so(void **state)
{
    (void)state;
    hs__ring r;
    hs__msg *probe = msg_at(0, 0);
    size_t cost = hs__ring_cost(probe);
    hs__msg_release(probe);
    hs__ring_init(&r, 10 * S, 3 * cost);
    for (uint64_t i = 1; i <= 5; i++)
        hs__ring_push(&r, msg_at(i * S, i), i, false);
    assert_int_equal(r.count, 3);
    assert_true(hs__ring_at(&r, 0)->msg->ts_ns == 3 * S);
    assert_false(hs__ring_reaches(&r, 2 * S));
    assert_true(hs__ring_reaches(&r, 3 * S));
    hs__msg *m = hs__ring_take(&r, 1);
    assert_true(m->ts_ns == 4 * S);
    hs__msg_release(m);
    assert_int_equal(atomic_load(&r.gauge_messages), 3);
    hs__ring_expire(&r, 10 * S + 4); /* older than 10 s: the first two go */
    assert_int_equal(r.count, 1);
    hs__ring_destroy(&r);
    assert_int_equal(atomic_load(&r.gauge_messages), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claim_static_timeline_decides_by_its_one_view),
        cmocka_unit_test(test_claim_moved_key_is_held_until_the_old_owner_is_done),
        cmocka_unit_test(test_claim_hold_ends_after_the_timeout_when_the_old_owner_never_advances),
        cmocka_unit_test(test_claim_crashed_member_goes_to_its_successor_from_its_watermark),
        cmocka_unit_test(
            test_claim_cut_off_member_is_taken_over_from_the_watermark_its_view_recorded),
        cmocka_unit_test(test_claim_planned_leave_is_no_crash),
        cmocka_unit_test(test_ring_lets_go_of_the_oldest_and_says_so),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
