/* test_coord_redis.c - the Redis coordinator against a real redis-server
 * (started here on a free loopback port, stopped by PID): registration,
 * one view per change however many hubs propose at once, epochs across a
 * restart with an empty database, expiry, planned leave, the confirmation
 * promise, trimming, and `hashspace members --json`. Prints the figures it
 * measures (propose round trip, time for an expired member to leave the
 * view). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>
#include <pthread.h>

#include "coord.h"
#include "redis_server.h"

#include "hashspace/error.h"

#define MS 1000000ull

static redis_server server;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static hs__coord *open_coord(const char *cluster)
{
    hs__coord *c;
    char err[256];
    assert_int_equal(hs__coord_open(&c, server.url, cluster, err, sizeof err), HS_OK);
    int rc = hs__coord_connect(c, 2000);
    if (rc != HS_OK)
        fprintf(stderr, "connect: %s\n", hs__coord_error(c));
    assert_int_equal(rc, HS_OK);
    return c;
}

static void beat(hs__coord *c, const char *name, double weight, uint64_t watermark,
                 uint64_t expiry_ns, bool leaving)
{
    hs__coord_beat b = {.name = name,
                        .weight = weight,
                        .watermark_ns = watermark,
                        .expiry_ns = expiry_ns,
                        .leaving = leaving};
    uint64_t now = 0;
    int rc = hs__coord_heartbeat(c, &b, &now);
    if (rc != HS_OK)
        fprintf(stderr, "heartbeat: %s\n", hs__coord_error(c));
    assert_int_equal(rc, HS_OK);
    assert_true(now > 1600000000ull * 1000000000ull); /* a Redis TIME in ns */
}

static hs__coord_proposed propose(hs__coord *c, uint64_t known, uint64_t lead_ns,
                                  uint64_t expiry_ns)
{
    hs__coord_proposal p = {
        .known_epoch = known, .lead_ns = lead_ns, .expiry_ns = expiry_ns, .keep = 32};
    hs__coord_proposed out;
    int rc = hs__coord_propose(c, &p, &out);
    if (rc != HS_OK)
        fprintf(stderr, "propose: %s\n", hs__coord_error(c));
    assert_int_equal(rc, HS_OK);
    return out;
}

/* Propose until something other than GRACE comes back (at most 2 s). */
static hs__coord_proposed propose_past_grace(hs__coord *c, uint64_t known, uint64_t lead_ns,
                                             uint64_t expiry_ns)
{
    for (int i = 0; i < 200; i++) {
        hs__coord_proposed r = propose(c, known, lead_ns, expiry_ns);
        if (r.outcome != HS__COORD_GRACE)
            return r;
        sleep_ms(10);
    }
    fail_msg("still in grace after 2 s");
    return (hs__coord_proposed){0};
}

/* Fetch, with a grace of 1 ms unless said otherwise. */
static uint64_t fetch_grace = 1 * MS;

static hs__coord_fetch fetch(hs__coord *c, uint64_t since, uint64_t lead_ns)
{
    hs__coord_fetch f;
    int rc = hs__coord_fetch_since(c, since, lead_ns, fetch_grace, &f);
    if (rc != HS_OK)
        fprintf(stderr, "fetch: %s\n", hs__coord_error(c));
    assert_int_equal(rc, HS_OK);
    return f;
}

static void test_coord_redis_first_view_waits_for_grace_then_is_made_once(void **state)
{
    (void)state;
    hs__coord *c = open_coord("first");
    beat(c, "a", 1, 0, 5000 * MS, false);
    /* Within an expiry of a fresh start: members may still be re-registering. */
    assert_int_equal(propose(c, 0, 100 * MS, 200 * MS).outcome, HS__COORD_GRACE);
    fetch_grace = 200 * MS;
    hs__coord_fetch f = fetch(c, 0, 100 * MS);
    fetch_grace = 1 * MS;
    assert_int_equal(f.n, 0);
    assert_int_equal(f.confirmed_until_ns, 0); /* no promise during grace */
    hs__coord_fetch_free(&f);
    hs__coord_proposed r = propose_past_grace(c, 0, 100 * MS, 200 * MS);
    assert_int_equal(r.outcome, HS__COORD_CREATED);
    assert_int_equal(r.epoch, 1);
    assert_int_equal(propose(c, 0, 100 * MS, 200 * MS).outcome, HS__COORD_SAME);
    f = fetch(c, 0, 100 * MS);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.views[0].epoch, 1);
    assert_int_equal(f.views[0].n, 1);
    assert_string_equal(f.views[0].members[0].name, "a");
    assert_true(f.views[0].effective_from_ns >= f.views[0].created_ns + 100 * MS);
    assert_true(f.confirmed_until_ns >= f.now_ns + 100 * MS);
    hs__coord_fetch_free(&f);
    hs__coord_close(c);
}

/* --- many hubs proposing the same change at the same moment --- */

#define RACERS 8
#define RACE_ROUNDS 20

typedef struct racer {
    pthread_barrier_t *start, *done;
    int created[RACE_ROUNDS];
    uint64_t epoch[RACE_ROUNDS];
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    hs__coord *c;
    char err[256];
    if (hs__coord_open(&c, server.url, "race", err, sizeof err) != HS_OK ||
        hs__coord_connect(c, 2000) != HS_OK)
        abort();
    for (int round = 0; round < RACE_ROUNDS; round++) {
        pthread_barrier_wait(r->start); /* the main thread changed the members */
        hs__coord_proposal p = {.lead_ns = 10 * MS, .expiry_ns = 0, .keep = 64};
        hs__coord_proposed out;
        if (hs__coord_propose(c, &p, &out) != HS_OK)
            abort();
        r->created[round] = out.outcome == HS__COORD_CREATED;
        r->epoch[round] = out.epoch;
        pthread_barrier_wait(r->done);
    }
    hs__coord_close(c);
    return NULL;
}

static void test_coord_redis_hubs_proposing_at_once_make_one_view(void **state)
{
    (void)state;
    hs__coord *c = open_coord("race");
    beat(c, "base", 1, 0, 60000 * MS, false);
    pthread_barrier_t start, done;
    pthread_barrier_init(&start, NULL, RACERS + 1);
    pthread_barrier_init(&done, NULL, RACERS + 1);
    racer racers[RACERS];
    pthread_t threads[RACERS];
    for (int i = 0; i < RACERS; i++) {
        racers[i] = (racer){.start = &start, .done = &done};
        assert_int_equal(pthread_create(&threads[i], NULL, race, &racers[i]), 0);
    }
    for (int round = 0; round < RACE_ROUNDS; round++) {
        /* Alternate: "x" joins, "x" leaves. */
        if (round % 2 == 0)
            beat(c, "x", 2, 0, 60000 * MS, false);
        else
            assert_int_equal(hs__coord_deregister(c, "x"), HS_OK);
        pthread_barrier_wait(&start);
        pthread_barrier_wait(&done);
    }
    for (int i = 0; i < RACERS; i++)
        pthread_join(threads[i], NULL);
    unsigned total = 0;
    for (int round = 0; round < RACE_ROUNDS; round++) {
        int made = 0;
        for (int i = 0; i < RACERS; i++) {
            made += racers[i].created[round];
            assert_int_equal(racers[i].epoch[round], round + 1); /* all agree on the epoch */
        }
        assert_int_equal(made, 1);
        total += (unsigned)made;
    }
    hs__coord_fetch f = fetch(c, 0, 0);
    assert_int_equal(f.n, RACE_ROUNDS);
    for (size_t i = 0; i < f.n; i++) {
        assert_int_equal(f.views[i].epoch, i + 1);
        assert_int_equal(f.views[i].n, i % 2 == 0 ? 2 : 1);
    }
    hs__coord_fetch_free(&f);
    printf("race: %d hubs x %d changes: %u views made, one per change\n", RACERS, RACE_ROUNDS,
           total);
    pthread_barrier_destroy(&start);
    pthread_barrier_destroy(&done);
    hs__coord_close(c);
}

static void test_coord_redis_epochs_keep_increasing_across_an_empty_restart(void **state)
{
    (void)state;
    hs__coord *c = open_coord("restart");
    uint64_t expiry = 150 * MS, life = 5000 * MS;
    beat(c, "a", 1, 0, life, false);
    assert_int_equal(propose_past_grace(c, 0, 10 * MS, expiry).epoch, 1);
    beat(c, "b", 1, 0, life, false);
    assert_int_equal(propose(c, 1, 10 * MS, expiry).epoch, 2);
    hs__coord_fetch f = fetch(c, 0, 10 * MS);
    assert_int_equal(f.n, 2);
    hs__coord_view newest;
    assert_int_equal(hs__coord_view_copy(&newest, &f.views[1]), HS_OK);
    uint64_t promised = f.confirmed_until_ns;
    hs__coord_fetch_free(&f);
    hs__coord_close(c);

    int port = server.port;
    redis_server_stop(&server, SIGKILL);
    assert_int_equal(redis_server_start(&server, port), 0); /* same port, empty database */

    c = open_coord("restart");
    beat(c, "a", 1, 0, life, false);
    /* The hub carries its newest view back; within grace nothing is made, even
     * though b has not re-registered yet. */
    hs__coord_proposal p = {.known_epoch = 2,
                            .known = &newest,
                            .lead_ns = 10 * MS,
                            .expiry_ns = expiry,
                            .floor_ns = promised,
                            .keep = 32};
    hs__coord_proposed out;
    assert_int_equal(hs__coord_propose(c, &p, &out), HS_OK);
    assert_int_equal(out.outcome, HS__COORD_GRACE);
    f = fetch(c, 0, 10 * MS);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.views[0].epoch, 2); /* the seed, not a new epoch 1 */
    assert_int_equal(f.views[0].n, 2);
    hs__coord_fetch_free(&f);
    /* b never comes back: after grace its absence makes view 3, which starts
     * after everything promised before the restart. */
    sleep_ms(200);
    beat(c, "a", 1, 0, life, false);
    p.known = NULL; /* a hub that lost its view still passes its epoch */
    assert_int_equal(hs__coord_propose(c, &p, &out), HS_OK);
    assert_int_equal(out.outcome, HS__COORD_CREATED);
    assert_int_equal(out.epoch, 3);
    assert_true(out.effective_from_ns > promised);
    f = fetch(c, 2, 10 * MS);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.views[0].n, 1);
    assert_string_equal(f.views[0].members[0].name, "a");
    hs__coord_fetch_free(&f);
    hs__coord_view_clear(&newest);
    hs__coord_close(c);
}

static void test_coord_redis_expired_member_leaves_the_next_view(void **state)
{
    (void)state;
    hs__coord *c = open_coord("expiry");
    uint64_t expiry = 300 * MS;
    beat(c, "a", 1, 0, expiry, false);
    beat(c, "b", 1, 0, expiry, false);
    sleep_ms(2);
    assert_int_equal(propose_past_grace(c, 0, 10 * MS, 1 * MS).epoch, 1);
    /* b stops; a keeps beating every 50 ms and proposes each time. */
    beat(c, "b", 1, 0, expiry, false);
    uint64_t last_b = mono_ns(), gone_after = 0;
    for (int i = 0; i < 40 && gone_after == 0; i++) {
        sleep_ms(50);
        beat(c, "a", 1, 0, expiry, false);
        hs__coord_proposed r = propose(c, 1, 10 * MS, 1 * MS);
        if (r.outcome == HS__COORD_CREATED) {
            gone_after = mono_ns() - last_b;
            assert_int_equal(r.epoch, 2);
        }
    }
    assert_true(gone_after > 0);
    assert_true(gone_after >= expiry - 20 * MS);
    hs__coord_fetch f = fetch(c, 1, 10 * MS);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.views[0].n, 1);
    assert_string_equal(f.views[0].members[0].name, "a");
    hs__coord_fetch_free(&f);
    printf("expiry: a member that stops beating leaves the view %.0f ms after its last "
           "heartbeat (expiry %.0f ms, polled every 50 ms)\n",
           (double)gone_after / 1e6, (double)expiry / 1e6);
    hs__coord_close(c);
}

static void test_coord_redis_leaving_member_is_left_out_and_its_watermark_kept(void **state)
{
    (void)state;
    hs__coord *c = open_coord("leave");
    uint64_t expiry = 60000 * MS;
    beat(c, "a", 1, 0, expiry, false);
    beat(c, "b", 2.5, 111, expiry, false);
    assert_int_equal(propose_past_grace(c, 0, 10 * MS, 1 * MS).epoch, 1);
    beat(c, "b", 2.5, 222, expiry, true); /* planned leave */
    hs__coord_proposed r = propose(c, 1, 10 * MS, 1 * MS);
    assert_int_equal(r.outcome, HS__COORD_CREATED);
    hs__coord_fetch f = fetch(c, 1, 0);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.views[0].n, 1);
    assert_string_equal(f.views[0].members[0].name, "a");
    hs__coord_fetch_free(&f);
    /* Still registered (draining) and leaving: no view brings it back. */
    beat(c, "b", 2.5, 333, expiry, true);
    assert_int_equal(propose(c, 2, 10 * MS, 1 * MS).outcome, HS__COORD_SAME);
    assert_int_equal(hs__coord_deregister(c, "b"), HS_OK);
    hs__coord_member *m;
    size_t n;
    uint64_t now;
    assert_int_equal(hs__coord_members(c, &m, &n, &now), HS_OK);
    assert_int_equal(n, 2);
    assert_string_equal(m[1].name, "b");
    assert_false(m[1].live);
    assert_true(m[1].has_watermark);
    assert_int_equal(m[1].watermark_ns, 333);
    assert_true(m[0].live);
    free(m);
    /* The last member leaving: no empty view. */
    beat(c, "a", 1, 0, expiry, true);
    assert_int_equal(propose(c, 2, 10 * MS, 1 * MS).outcome, HS__COORD_NOBODY);
    hs__coord_close(c);
}

/* A view that drops members records each one's watermark at that moment;
 * a later heartbeat under the same name (the hub was cut off and came back)
 * changes the live watermark, not the record. A planned leave is recorded
 * as one. */
static void test_coord_redis_view_records_departed_members_watermarks(void **state)
{
    (void)state;
    hs__coord *c = open_coord("departed");
    uint64_t expiry = 200 * MS, forever = 60000 * MS;
    beat(c, "a", 1, 100, forever, false);
    beat(c, "b", 1, 200, forever, false);
    beat(c, "c", 1, 300, expiry, false);
    assert_int_equal(propose_past_grace(c, 0, 10 * MS, 1 * MS).epoch, 1);
    beat(c, "c", 1, 555, expiry, false); /* its last beat before it is cut off */
    sleep_ms(250);
    hs__coord_proposed r = propose(c, 1, 10 * MS, 1 * MS);
    assert_int_equal(r.outcome, HS__COORD_CREATED);
    beat(c, "c", 1, 999, forever, false); /* back, with a newer watermark */
    hs__coord_fetch f = fetch(c, 1, 0);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.views[0].n, 2);
    assert_int_equal(f.views[0].ndeparted, 1);
    assert_string_equal(f.views[0].departed[0].name, "c");
    assert_true(f.views[0].departed[0].has_watermark);
    assert_int_equal(f.views[0].departed[0].watermark_ns, 555);
    assert_false(f.views[0].departed[0].leaving);
    hs__coord_fetch_free(&f);
    /* c rejoins (view 3, dropping nobody: no record); b leaves (view 4). */
    assert_int_equal(propose(c, 2, 10 * MS, 1 * MS).outcome, HS__COORD_CREATED);
    beat(c, "b", 1, 777, forever, true);
    assert_int_equal(propose(c, 3, 10 * MS, 1 * MS).outcome, HS__COORD_CREATED);
    f = fetch(c, 2, 0);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.views[0].ndeparted, 0);
    assert_int_equal(f.views[1].ndeparted, 1);
    assert_string_equal(f.views[1].departed[0].name, "b");
    assert_true(f.views[1].departed[0].leaving);
    assert_int_equal(f.views[1].departed[0].watermark_ns, 777);
    /* The record survives the view's JSON form (a seed after a restart). */
    char *json = hs__coord_view_json(&f.views[1]);
    assert_non_null(
        strstr(json, "\"departed\":[{\"name\":\"b\",\"watermark\":777,\"leaving\":true}]"));
    free(json);
    hs__coord_fetch_free(&f);
    hs__coord_close(c);
}

static void test_coord_redis_views_start_after_every_promise(void **state)
{
    (void)state;
    hs__coord *c = open_coord("promise");
    beat(c, "a", 1, 0, 60000 * MS, false);
    assert_int_equal(propose_past_grace(c, 0, 10 * MS, 1 * MS).epoch, 1);
    /* A hub with a long lead fetches: promise now + 500 ms. */
    hs__coord_fetch f = fetch(c, 1, 500 * MS);
    uint64_t promised = f.confirmed_until_ns;
    assert_true(promised >= f.now_ns + 500 * MS);
    hs__coord_fetch_free(&f);
    /* A hub with a short lead makes the next view: it must not start inside
     * the promise, or the first hub would have decided messages wrongly. */
    beat(c, "b", 1, 0, 60000 * MS, false);
    hs__coord_proposed r = propose(c, 1, 10 * MS, 1 * MS);
    assert_int_equal(r.outcome, HS__COORD_CREATED);
    assert_true(r.effective_from_ns > promised);
    hs__coord_close(c);
}

static void test_coord_redis_keeps_the_last_views_and_says_what_was_trimmed(void **state)
{
    (void)state;
    hs__coord *c = open_coord("trim");
    beat(c, "a", 1, 0, 60000 * MS, false);
    hs__coord_proposal p = {.lead_ns = 1 * MS, .expiry_ns = 1 * MS, .keep = 3};
    hs__coord_proposed out;
    sleep_ms(5);
    for (int i = 0; i < 5; i++) {
        beat(c, "z", 1 + i, 0, 60000 * MS, false); /* a weight change is a change */
        assert_int_equal(hs__coord_propose(c, &p, &out), HS_OK);
        assert_int_equal(out.outcome, HS__COORD_CREATED);
    }
    hs__coord_fetch f = fetch(c, 0, 0);
    assert_int_equal(f.n, 3);
    assert_int_equal(f.oldest_epoch, 3);
    assert_int_equal(f.views[2].epoch, 5);
    assert_true(f.views[2].members[1].weight == 5.0);
    hs__coord_fetch_free(&f);
    hs__coord_close(c);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_coord_redis_round_trip_figures(void **state)
{
    (void)state;
    hs__coord *c = open_coord("timing");
    enum { N = 200 };
    static uint64_t t_round[N], t_propose[N];
    for (int i = 0; i < N; i++) {
        uint64_t t0 = mono_ns();
        beat(c, "a", 1, (uint64_t)i, 60000 * MS, false);
        uint64_t t1 = mono_ns();
        propose(c, 0, 10 * MS, 1 * MS);
        uint64_t t2 = mono_ns();
        hs__coord_fetch f = fetch(c, 1, 10 * MS);
        hs__coord_fetch_free(&f);
        t_round[i] = mono_ns() - t0;
        t_propose[i] = t2 - t1;
    }
    qsort(t_round, N, sizeof t_round[0], cmp_u64);
    qsort(t_propose, N, sizeof t_propose[0], cmp_u64);
    printf("round trip over loopback (%d rounds): propose median %.0f us p99 %.0f us; heartbeat "
           "+ propose + fetch median %.0f us p99 %.0f us\n",
           N, (double)t_propose[N / 2] / 1e3, (double)t_propose[N * 99 / 100] / 1e3,
           (double)t_round[N / 2] / 1e3, (double)t_round[N * 99 / 100] / 1e3);
    assert_true(t_round[N / 2] < 100 * MS);
    hs__coord_close(c);
}

static void test_coord_redis_unreachable_server_is_an_error_with_the_address(void **state)
{
    (void)state;
    char url[64], err[256];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", redis_free_port());
    hs__coord *c;
    assert_int_equal(hs__coord_open(&c, url, "x", err, sizeof err), HS_OK);
    assert_int_equal(hs__coord_connect(c, 500), HS_EIO);
    assert_non_null(strstr(hs__coord_error(c), "127.0.0.1:"));
    hs__coord_beat b = {.name = "a", .weight = 1, .expiry_ns = 1000 * MS};
    assert_int_equal(hs__coord_heartbeat(c, &b, NULL), HS_EIO);
    hs__coord_close(c);
}

static void test_members_cli_json_shows_what_was_registered(void **state)
{
    (void)state;
    const char *bin = getenv("HS_BIN");
    if (bin == NULL)
        skip();
    hs__coord *c = open_coord("cli");
    beat(c, "hub-a", 1, 1000, 60000 * MS, false);
    beat(c, "hub-b", 3, 2000, 60000 * MS, false);
    assert_int_equal(propose_past_grace(c, 0, 1 * MS, 1 * MS).epoch, 1);
    sleep_ms(5); /* view 1 in force */
    beat(c, "hub-c", 1, 0, 60000 * MS, false);
    assert_int_equal(propose(c, 1, 5000 * MS, 1 * MS).epoch, 2); /* pending for 5 s */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s members --coordinator %s --cluster cli --json", bin, server.url);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[16384];
    size_t len = fread(out, 1, sizeof out - 1, p);
    out[len] = '\0';
    assert_int_equal(pclose(p), 0);
    json_error_t jerr;
    json_t *root = json_loads(out, 0, &jerr);
    if (root == NULL)
        fail_msg("not JSON: %s\n%s", jerr.text, out);
    assert_string_equal(json_string_value(json_object_get(root, "cluster")), "cli");
    json_t *current = json_object_get(root, "current");
    json_t *pending = json_object_get(root, "pending");
    assert_int_equal(json_integer_value(json_object_get(current, "epoch")), 1);
    assert_int_equal(json_array_size(json_object_get(current, "members")), 2);
    assert_int_equal(json_array_size(pending), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(pending, 0), "epoch")), 2);
    json_t *members = json_object_get(root, "members");
    assert_int_equal(json_array_size(members), 3);
    json_t *b = json_array_get(members, 1);
    assert_string_equal(json_string_value(json_object_get(b, "name")), "hub-b");
    assert_true(json_real_value(json_object_get(b, "weight")) == 3.0 ||
                json_integer_value(json_object_get(b, "weight")) == 3);
    assert_int_equal(json_integer_value(json_object_get(b, "watermark")), 2000);
    assert_true(json_is_true(json_object_get(b, "live")));
    assert_true(json_integer_value(json_object_get(b, "heartbeat")) > 0);
    json_decref(root);
    /* And the table form names every member. */
    snprintf(cmd, sizeof cmd, "%s members --coordinator %s --cluster cli", bin, server.url);
    p = popen(cmd, "r");
    len = fread(out, 1, sizeof out - 1, p);
    out[len] = '\0';
    assert_int_equal(pclose(p), 0);
    assert_non_null(strstr(out, "hub-a"));
    assert_non_null(strstr(out, "hub-c"));
    assert_non_null(strstr(out, "pending"));
    hs__coord_close(c);
}

static int setup(void **state)
{
    (void)state;
    return redis_server_start(&server, 0);
}

static int teardown(void **state)
{
    (void)state;
    redis_server_stop(&server, SIGTERM);
    return 0;
}

int main(void)
{
    redis_server_skip_if_missing("test_coord_redis");
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coord_redis_first_view_waits_for_grace_then_is_made_once),
        cmocka_unit_test(test_coord_redis_hubs_proposing_at_once_make_one_view),
        cmocka_unit_test(test_coord_redis_epochs_keep_increasing_across_an_empty_restart),
        cmocka_unit_test(test_coord_redis_expired_member_leaves_the_next_view),
        cmocka_unit_test(test_coord_redis_leaving_member_is_left_out_and_its_watermark_kept),
        cmocka_unit_test(test_coord_redis_view_records_departed_members_watermarks),
        cmocka_unit_test(test_coord_redis_views_start_after_every_promise),
        cmocka_unit_test(test_coord_redis_keeps_the_last_views_and_says_what_was_trimmed),
        cmocka_unit_test(test_coord_redis_round_trip_figures),
        cmocka_unit_test(test_coord_redis_unreachable_server_is_an_error_with_the_address),
        cmocka_unit_test(test_members_cli_json_shows_what_was_registered),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
