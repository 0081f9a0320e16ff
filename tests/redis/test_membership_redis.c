/* test_membership_redis.c - membership threads against a real redis-server:
 * two hubs join and agree on every view, a planned leave, a crash (the
 * registration expires and the survivors make a view without it), and a
 * hub fenced while Redis is down that rejoins after Redis restarts with an
 * empty database, epochs still increasing. Short timings (heartbeat 50 ms,
 * expiry 250 ms, lead 100 ms) keep it quick; prints what it measures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "log.h"
#include "membership.h"
#include "redis_server.h"

#include "hashspace/error.h"

#define MS 1000000ull
#define HEARTBEAT (50 * MS)
#define EXPIRY (250 * MS)
#define LEAD (100 * MS)

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

/* A hub as the tests see it: its membership and the timeline it reads. */
typedef struct hub {
    const char *name;
    hs__timeline_box box;
    hs__membership *m;
    hs__timeline *mine;
} hub;

static void hub_start(hub *h, const char *cluster, const char *name)
{
    h->name = name;
    h->mine = NULL;
    hs__timeline_box_init(&h->box);
    hs__membership_config cfg;
    hs__membership_config_defaults(&cfg);
    cfg.coordinator = server.url;
    cfg.cluster = cluster;
    cfg.self = name;
    cfg.heartbeat_ns = HEARTBEAT;
    cfg.expiry_ns = EXPIRY;
    cfg.lead_ns = LEAD;
    cfg.box = &h->box;
    char err[256];
    int rc = hs__membership_start(&h->m, &cfg, err, sizeof err);
    if (rc != HS_OK)
        fail_msg("start %s: %s", name, err);
}

static void hub_stop(hub *h, bool deregister)
{
    hs__membership_stop(h->m, deregister);
    h->m = NULL;
    hs__timeline_free(h->mine);
    h->mine = NULL;
    hs__timeline_box_destroy(&h->box);
}

/* Take the newest snapshot, as the ingress thread does. */
static const hs__timeline *follow(hub *h)
{
    hs__timeline *t = hs__timeline_box_take(&h->box);
    if (t != NULL) {
        hs__timeline_free(h->mine);
        h->mine = t;
    }
    return h->mine;
}

static size_t newest_size(hub *h)
{
    const hs__timeline *t = follow(h);
    const hs__timeline_entry *e = t ? hs__timeline_newest(t) : NULL;
    return e ? hs_view_size(e->view) : 0;
}

static bool newest_has(hub *h, const char *name)
{
    const hs__timeline *t = follow(h);
    const hs__timeline_entry *e = t ? hs__timeline_newest(t) : NULL;
    size_t at;
    return e != NULL && hs_view_index(e->view, name, &at) == HS_OK;
}

/* Poll until cond holds (10 ms steps) or timeout; the time it took. */
#define WAIT_FOR(cond, timeout_ms)                                                                 \
    ({                                                                                             \
        uint64_t t0_ = mono_ns();                                                                  \
        while (!(cond) && mono_ns() - t0_ < (uint64_t)(timeout_ms)*MS)                             \
            sleep_ms(10);                                                                          \
        if (!(cond))                                                                               \
            fail_msg("timed out after %d ms waiting for %s", (int)(timeout_ms), #cond);            \
        mono_ns() - t0_;                                                                           \
    })

static void assert_same_newest(hub *a, hub *b)
{
    const hs__timeline_entry *x = hs__timeline_newest(follow(a)),
                             *y = hs__timeline_newest(follow(b));
    assert_non_null(x);
    assert_non_null(y);
    assert_int_equal(x->epoch, y->epoch);
    assert_int_equal(x->effective_from_ns, y->effective_from_ns);
    assert_int_equal(hs_view_size(x->view), hs_view_size(y->view));
    for (size_t i = 0; i < hs_view_size(x->view); i++)
        assert_string_equal(hs_view_member_name(x->view, i), hs_view_member_name(y->view, i));
}

static void test_membership_two_hubs_join_agree_and_one_leaves(void **state)
{
    (void)state;
    hub a, b;
    hub_start(&a, "join", "a");
    hub_start(&b, "join", "b");
    uint64_t took = WAIT_FOR(newest_size(&a) == 2 && newest_size(&b) == 2, 5000);
    printf("join: two hubs started at once share a 2-member view after %.0f ms (grace %.0f ms "
           "after a fresh start)\n",
           (double)took / 1e6, (double)EXPIRY / 1e6);
    WAIT_FOR(hs__timeline_newest(follow(&a))->epoch == hs__timeline_newest(follow(&b))->epoch,
             2000);
    assert_same_newest(&a, &b);
    assert_true(hs__timeline_confirmed_until(follow(&a)) > 0);
    hs__membership_set_watermark(b.m, 12345);
    uint64_t eff = 0, t0 = mono_ns();
    assert_int_equal(hs__membership_leave(b.m, 3000 * MS, &eff), HS_OK);
    printf("leave: a planned leave got its view in %.2f ms\n", (double)(mono_ns() - t0) / 1e6);
    assert_true(eff > 0);
    WAIT_FOR(!newest_has(&a, "b"), 2000);
    const hs__timeline_entry *e = hs__timeline_newest(follow(&a));
    assert_int_equal(e->effective_from_ns, eff); /* the same view on both sides */
    assert_int_equal(hs_view_size(e->view), 1);
    /* Before effective_from b still owns its share in a's timeline too. */
    assert_int_equal(hs_view_size(hs__timeline_at(follow(&a), eff - 1)->view), 2);
    hs__membership_stats sa, sb;
    hs__membership_stats_get(a.m, &sa);
    hs__membership_stats_get(b.m, &sb);
    assert_int_equal(sa.epoch, e->epoch);
    /* Each epoch was made exactly once, by one of the two. */
    assert_int_equal(sa.views_created + sb.views_created, e->epoch);
    assert_false(sa.fenced);
    assert_true(sb.leaving);
    hub_stop(&b, true);
    hub_stop(&a, true);
}

static void test_membership_crashed_hub_expires_and_survivors_agree(void **state)
{
    (void)state;
    hub a, b, c;
    hub_start(&a, "crash", "a");
    hub_start(&b, "crash", "b");
    hub_start(&c, "crash", "c");
    WAIT_FOR(newest_size(&a) == 3 && newest_size(&b) == 3 && newest_size(&c) == 3, 5000);
    uint64_t t0 = mono_ns();
    hub_stop(&c, false); /* like SIGKILL: no deregistration, the registration expires */
    uint64_t took = WAIT_FOR(!newest_has(&a, "c") && !newest_has(&b, "c"), 5000);
    const hs__timeline_entry *e = hs__timeline_newest(follow(&a));
    WAIT_FOR(hs__timeline_newest(follow(&b))->epoch == e->epoch, 2000);
    assert_same_newest(&a, &b);
    printf("crash: survivors had a view without the stopped hub %.0f ms after it stopped "
           "(expiry %.0f ms, heartbeat %.0f ms), effective %.0f ms later (lead)\n",
           (double)(mono_ns() - t0) / 1e6, (double)EXPIRY / 1e6, (double)HEARTBEAT / 1e6,
           (double)LEAD / 1e6);
    assert_true(took + 20 * MS >= EXPIRY - HEARTBEAT);
    hub_stop(&a, true);
    hub_stop(&b, true);
}

static void test_membership_fenced_while_redis_is_down_rejoins_after_restart(void **state)
{
    (void)state;
    hub a;
    hub_start(&a, "fence", "a");
    WAIT_FOR(newest_size(&a) == 1, 5000);
    hs__membership_stats s;
    hs__membership_stats_get(a.m, &s);
    assert_false(s.fenced);
    uint64_t epoch_before = s.epoch, errors_before = s.coordinator_errors;
    int port = server.port;
    redis_server_stop(&server, SIGKILL);
    uint64_t t0 = mono_ns();
    uint64_t took = WAIT_FOR((hs__membership_stats_get(a.m, &s), s.fenced), 5000);
    printf("fence: with Redis killed, the hub fenced itself after %.0f ms (expiry %.0f ms)\n",
           (double)took / 1e6, (double)EXPIRY / 1e6);
    assert_true(took + 20 * MS >= EXPIRY - HEARTBEAT);
    assert_true(s.coordinator_errors > errors_before);
    assert_false(s.connected);
    /* The snapshot says so too: its lease is over. */
    assert_true(hs__timeline_fenced(follow(&a), mono_ns()));
    sleep_ms(100);
    assert_int_equal(redis_server_start(&server, port), 0); /* empty database */
    took = WAIT_FOR((hs__membership_stats_get(a.m, &s), !s.fenced), 5000);
    printf("fence: after Redis restarted empty the hub was registered again in %.0f ms (%.0f ms "
           "after the kill)\n",
           (double)took / 1e6, (double)(mono_ns() - t0) / 1e6);
    assert_false(hs__timeline_fenced(follow(&a), mono_ns()));
    /* A hub joining now makes the next epoch, not epoch 1 again. */
    hub b;
    hub_start(&b, "fence", "b");
    WAIT_FOR(newest_size(&a) == 2 && newest_size(&b) == 2, 5000);
    assert_int_equal(hs__timeline_newest(follow(&a))->epoch, epoch_before + 1);
    assert_same_newest(&a, &b);
    hub_stop(&b, true);
    hub_stop(&a, true);
}

static void test_membership_start_checks_its_config(void **state)
{
    (void)state;
    hs__timeline_box box;
    hs__timeline_box_init(&box);
    hs__membership_config cfg;
    hs__membership_config_defaults(&cfg);
    cfg.coordinator = server.url;
    cfg.cluster = "cfg";
    cfg.self = "a";
    cfg.box = &box;
    hs__membership *m;
    char err[256];
    cfg.expiry_ns = cfg.heartbeat_ns;
    assert_int_equal(hs__membership_start(&m, &cfg, err, sizeof err), HS_EINVAL);
    assert_non_null(strstr(err, "shorter than expiry"));
    hs__membership_config_defaults(&cfg);
    cfg.cluster = "cfg";
    cfg.box = &box;
    cfg.self = "a,b";
    cfg.coordinator = server.url;
    assert_int_equal(hs__membership_start(&m, &cfg, err, sizeof err), HS_EINVAL);
    cfg.self = "a";
    cfg.lead_ns = cfg.heartbeat_ns / 2;
    assert_int_equal(hs__membership_start(&m, &cfg, err, sizeof err), HS_EINVAL);
    assert_non_null(strstr(err, "lead-time"));
    cfg.lead_ns = HS__DEFAULT_LEAD_NS;
    cfg.coordinator = "redis://h:0";
    assert_int_equal(hs__membership_start(&m, &cfg, err, sizeof err), HS_EPARSE);
    assert_non_null(strstr(err, "port"));
    hs__timeline_box_destroy(&box);
}

static int setup(void **state)
{
    (void)state;
    hs__log_setup(getenv("HS_TEST_VERBOSE") ? HS__LOG_DEBUG : HS__LOG_ERROR, "test");
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
    redis_server_skip_if_missing("test_membership_redis");
    setvbuf(stdout, NULL, _IOLBF, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_membership_two_hubs_join_agree_and_one_leaves),
        cmocka_unit_test(test_membership_crashed_hub_expires_and_survivors_agree),
        cmocka_unit_test(test_membership_fenced_while_redis_is_down_rejoins_after_restart),
        cmocka_unit_test(test_membership_start_checks_its_config),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
