/* test_hub_consumer.c - consumers with their worker threads: every routed
 * message is processed once, messages of one key stay in order across
 * several workers, globs see the topic's bytes and nothing after them,
 * failures are retried then dead-lettered, drop mode
 * counts, and the metrics text names every series. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "consumer.h"
#include "deadletter.h"
#include "hashspace/error.h"
#include "hub.h"
#include "msg.h"

static char dir[] = "/tmp/hs-test-consumer-XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static char *path(const char *name)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static hs__consumer *make(const char *name, const char *kind, const char *arg, unsigned workers,
                          size_t queue, hs__on_full on_full, unsigned tries, hs__deadletter *dl)
{
    hs__consumer_spec spec = {
        .name = (char *)name,
        .glob = "org.*",
        .kind = (char *)kind,
        .arg = (char *)arg,
        .workers = workers,
        .queue_size = queue,
        .on_full = on_full,
        .timeout_s = 0.05,
        .max_tries = tries,
    };
    hs__consumer *c;
    char err[256];
    assert_int_equal(hs__consumer_new(&c, &spec, dl, err, sizeof err), HS_OK);
    return c;
}

/* Match a topic given as a frame: len bytes, not NUL-terminated. */
static bool matches(const hs__consumer *c, const char *frame, size_t len)
{
    hs__topic_buf buf = {0};
    assert_int_equal(hs__topic_buf_set(&buf, frame, len), HS_OK);
    bool yes = hs__consumer_matches(c, &buf);
    hs__topic_buf_free(&buf);
    return yes;
}

static size_t lines_of(const char *file, json_t ***out)
{
    FILE *f = fopen(file, "r");
    assert_non_null(f);
    size_t n = 0, cap = 1024;
    json_t **lines = malloc(cap * sizeof *lines);
    char *line = NULL;
    size_t lcap = 0;
    while (getline(&line, &lcap, f) > 0) {
        if (n == cap)
            lines = realloc(lines, (cap *= 2) * sizeof *lines);
        json_error_t e;
        lines[n] = json_loads(line, 0, &e);
        assert_non_null(lines[n]);
        n++;
    }
    free(line);
    fclose(f);
    *out = lines;
    return n;
}

#define KEYS 37
#define PER_KEY 300

static void test_consumer_workers_keep_each_key_in_order(void **state)
{
    (void)state;
    hs__deadletter *dl;
    char err[256];
    assert_int_equal(hs__deadletter_new(&dl, "none", err, sizeof err), HS_OK);
    const char *out = path("ordered.jsonl");
    hs__consumer *c = make("ordered", "file", out, 4, 64, HS__ON_FULL_BLOCK, 3, dl);
    assert_int_equal(hs__consumer_start(c, err, sizeof err), HS_OK);
    assert_true(matches(c, "org.a.b", 7));
    assert_false(matches(c, "com.a", 5));
    for (unsigned i = 0; i < KEYS * PER_KEY; i++) {
        unsigned key = i % KEYS, seq = i / KEYS;
        char body[64];
        int len = snprintf(body, sizeof body, "{\"key\":%u,\"seq\":%u}", key, seq);
        hs__msg *m = hs__msg_new("org.t", 5, body, (size_t)len, 0, 1);
        m->key_hash = 0x9e3779b97f4a7c15ull * (key + 1);
        assert_int_equal(hs__consumer_route(c, m, hs__monotonic_ns(), NULL), HS_OK);
    }
    hs__consumer_close(c, 0);
    assert_int_equal(hs__consumer_join(c, 0), 0);
    assert_int_equal(atomic_load(&c->ok), KEYS * PER_KEY);
    assert_int_equal(atomic_load(&c->failed), 0);
    assert_int_equal(atomic_load(&c->left), 0);
    json_t **lines;
    size_t n = lines_of(out, &lines);
    assert_int_equal(n, KEYS * PER_KEY);
    int next[KEYS] = {0};
    for (size_t i = 0; i < n; i++) {
        json_t *body = json_object_get(lines[i], "body");
        int key = (int)json_integer_value(json_object_get(body, "key"));
        int seq = (int)json_integer_value(json_object_get(body, "seq"));
        assert_int_equal(seq, next[key]);
        next[key]++;
        json_decref(lines[i]);
    }
    free(lines);
    hs__consumer_free(c);
    hs__deadletter_free(dl);
}

static hs__consumer *with_glob(const char *glob, hs__deadletter *dl)
{
    hs__consumer_spec spec = {.name = "g",
                              .glob = (char *)glob,
                              .kind = "file",
                              .arg = "unused",
                              .workers = 1,
                              .queue_size = 1,
                              .max_tries = 1};
    hs__consumer *c;
    char err[256];
    assert_int_equal(hs__consumer_new(&c, &spec, dl, err, sizeof err), HS_OK);
    return c;
}

/* A ZeroMQ frame is not NUL-terminated: the bytes after the topic (here
 * the body, as in a received message) must not take part in the match. */
static void test_consumer_glob_sees_only_the_topic_bytes(void **state)
{
    (void)state;
    hs__deadletter *dl;
    char err[256];
    assert_int_equal(hs__deadletter_new(&dl, "none", err, sizeof err), HS_OK);
    char frame[400];
    memset(frame, 'x', sizeof frame);
    memcpy(frame, "org.a", 5);
    hs__consumer *exact = with_glob("org.a", dl);
    assert_true(matches(exact, frame, 5));
    assert_false(matches(exact, frame, 6)); /* "org.ax" */
    assert_false(matches(exact, frame, 4)); /* "org." */
    hs__consumer_free(exact);

    memcpy(frame, "org.x.award{\"msg\":1}", 20); /* a body right after */
    hs__consumer *suffix = with_glob("*.award", dl);
    hs__consumer *middle = with_glob("org.*.award", dl);
    hs__consumer *prefix = with_glob("org.*", dl);
    assert_true(matches(suffix, frame, 11));
    assert_true(matches(middle, frame, 11));
    assert_true(matches(prefix, frame, 11));
    assert_false(matches(suffix, frame, 10)); /* "org.x.awar" */
    assert_false(matches(middle, frame, 12)); /* "org.x.award{" */
    assert_false(matches(suffix, frame, sizeof frame));

    /* One buffer for many topics, long and short, as the ingress keeps it. */
    hs__topic_buf buf = {0};
    static char big[100000];
    memset(big, 'a', sizeof big);
    memcpy(big + sizeof big - 6, ".award", 6);
    assert_int_equal(hs__topic_buf_set(&buf, big, sizeof big), HS_OK);
    assert_true(hs__consumer_matches(suffix, &buf));
    assert_int_equal(hs__topic_buf_set(&buf, frame, 11), HS_OK);
    assert_true(hs__consumer_matches(middle, &buf));
    assert_int_equal(hs__topic_buf_set(&buf, frame, 5), HS_OK);
    assert_false(hs__consumer_matches(middle, &buf));
    assert_string_equal(buf.text, "org.x");

    /* A NUL inside the topic: fnmatch would see only "org.a"; only * matches. */
    hs__consumer *all = with_glob("*", dl);
    hs__consumer *org_a = with_glob("org.a", dl);
    assert_int_equal(hs__topic_buf_set(&buf, "org.a\0.award", 12), HS_OK);
    assert_false(hs__consumer_matches(org_a, &buf));
    assert_false(hs__consumer_matches(prefix, &buf));
    assert_true(hs__consumer_matches(all, &buf));
    hs__topic_buf_free(&buf);
    hs__consumer_free(all);
    hs__consumer_free(org_a);
    hs__consumer_free(suffix);
    hs__consumer_free(middle);
    hs__consumer_free(prefix);
    hs__deadletter_free(dl);
}

static void test_consumer_failures_are_retried_then_dead_lettered(void **state)
{
    (void)state;
    hs__deadletter *dl;
    char err[256], spec[300];
    snprintf(spec, sizeof spec, "file:%s", path("dead.jsonl"));
    assert_int_equal(hs__deadletter_new(&dl, spec, err, sizeof err), HS_OK);
    /* Nobody reads this endpoint: every send times out (50 ms). */
    hs__consumer *c = make("nowhere", "push", "tcp://127.0.0.1:1", 1, 8, HS__ON_FULL_BLOCK, 2, dl);
    assert_int_equal(hs__consumer_start(c, err, sizeof err), HS_OK);
    for (int i = 0; i < 3; i++) {
        hs__msg *m = hs__msg_new("org.x", 5, "{\"n\":1}", 7, 0, 1);
        assert_int_equal(hs__consumer_route(c, m, hs__monotonic_ns(), NULL), HS_OK);
    }
    hs__consumer_close(c, 0);
    assert_int_equal(hs__consumer_join(c, 0), 0);
    assert_int_equal(atomic_load(&c->ok), 0);
    assert_int_equal(atomic_load(&c->failed), 3);
    assert_int_equal(hs__deadletter_count(dl), 3);
    json_t **lines;
    size_t n = lines_of(path("dead.jsonl"), &lines);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(json_string_value(json_object_get(lines[i], "reason")), "failed");
        assert_string_equal(json_string_value(json_object_get(lines[i], "consumer")), "nowhere");
        assert_int_equal(json_integer_value(json_object_get(lines[i], "attempts")), 2);
        json_decref(lines[i]);
    }
    free(lines);
    hs__consumer_free(c);
    hs__deadletter_free(dl);
}

static void test_consumer_start_fails_with_a_sentence(void **state)
{
    (void)state;
    hs__deadletter *dl;
    char err[256];
    assert_int_equal(hs__deadletter_new(&dl, "none", err, sizeof err), HS_OK);
    hs__consumer *c =
        make("bad", "file", "/nonexistent/dir/x.jsonl", 2, 8, HS__ON_FULL_BLOCK, 1, dl);
    assert_int_not_equal(hs__consumer_start(c, err, sizeof err), HS_OK);
    assert_non_null(strstr(err, "consumer 'bad': file: cannot open /nonexistent/dir/x.jsonl"));
    hs__consumer_free(c);
    hs__consumer_spec spec = {.name = "k",
                              .glob = "*",
                              .kind = "mail",
                              .arg = "x",
                              .workers = 1,
                              .queue_size = 1,
                              .max_tries = 1};
    assert_int_equal(hs__consumer_new(&c, &spec, dl, err, sizeof err), HS_EINVAL);
    assert_non_null(strstr(err, "unknown kind 'mail'"));
    hs__deadletter_free(dl);
}

static void test_consumer_drop_mode_counts_and_metrics_name_everything(void **state)
{
    (void)state;
    hs__deadletter *dl;
    char err[256];
    assert_int_equal(hs__deadletter_new(&dl, "none", err, sizeof err), HS_OK);
    /* Not started: nothing takes from the queue of 4. */
    hs__consumer *c = make("dropper", "file", path("drop.jsonl"), 1, 4, HS__ON_FULL_DROP, 1, dl);
    unsigned refused = 0;
    for (int i = 0; i < 10; i++) {
        hs__msg *m = hs__msg_new("org.x", 5, "b", 1, 0, 1);
        if (hs__consumer_route(c, m, hs__monotonic_ns(), NULL) == HS_EFULL) {
            refused++;
            hs__msg_release(m);
        }
    }
    assert_int_equal(refused, 6);
    assert_int_equal(atomic_load(&c->dropped), 6);
    size_t backlog;
    uint64_t oldest;
    hs__consumer_backlog(c, &backlog, &oldest);
    assert_int_equal(backlog, 4);
    assert_true(oldest > 0);

    hs__hub_config cfg;
    hs__config_init(&cfg);
    hs__hub hub = {.cfg = &cfg, .deadletter = dl, .consumers = &c, .nconsumers = 1};
    atomic_store(&hub.received, 12);
    size_t len;
    char *text = hs__metrics_render(&hub, &len);
    assert_non_null(text);
    const char *expect[] = {
        "hashspace_messages_received_total 12\n",
        "hashspace_messages_claimed_total 0\n",
        "hashspace_messages_skipped_total 0\n",
        "hashspace_messages_malformed_total{reason=\"no_key\"} 0\n",
        "hashspace_messages_dead_lettered_total 0\n",
        "hashspace_dead_letter_failures_total 0\n",
        "hashspace_consumer_backlog{consumer=\"dropper\"} 4\n",
        "hashspace_consumer_oldest_age_seconds{consumer=\"dropper\"} ",
        "hashspace_consumer_processed_total{consumer=\"dropper\",result=\"ok\"} 0\n",
        "hashspace_consumer_processed_total{consumer=\"dropper\",result=\"failed\"} 0\n",
        "hashspace_consumer_duration_seconds_bucket{consumer=\"dropper\",le=\"0.001\"} 0\n",
        "hashspace_consumer_duration_seconds_bucket{consumer=\"dropper\",le=\"+Inf\"} 0\n",
        "hashspace_consumer_duration_seconds_sum{consumer=\"dropper\"} ",
        "hashspace_consumer_duration_seconds_count{consumer=\"dropper\"} 0\n",
        "hashspace_consumer_restarts_total{consumer=\"dropper\"} 0\n",
        "hashspace_consumer_dropped_total{consumer=\"dropper\"} 6\n",
        "hashspace_view_epoch 0\n",
        "hashspace_view_members 0\n",
    };
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
        if (strstr(text, expect[i]) == NULL)
            fail_msg("missing in /metrics: %s", expect[i]);
    free(text);
    hs__config_free(&cfg);
    hs__consumer_free(c); /* releases the 4 queued */
    hs__deadletter_free(dl);
}

/* What a worker has not taken when the drain deadline passes is
 * dead-lettered with reason "left" (so a restart can replay it), counted in
 * left, and shown in /metrics and /status. */
static void test_consumer_left_at_deadline_is_dead_lettered_and_counted(void **state)
{
    (void)state;
    hs__deadletter *dl;
    char err[256], spec[300];
    snprintf(spec, sizeof spec, "file:%s", path("left-dead.jsonl"));
    assert_int_equal(hs__deadletter_new(&dl, spec, err, sizeof err), HS_OK);
    hs__consumer *c = make("late", "file", path("left.jsonl"), 1, 200, HS__ON_FULL_BLOCK, 1, dl);
    for (int i = 0; i < 150; i++) {
        char body[32];
        int n = snprintf(body, sizeof body, "{\"n\":%d}", i);
        hs__msg *m = hs__msg_new("org.x", 5, body, (size_t)n, 0, 1);
        assert_int_equal(hs__consumer_route(c, m, hs__monotonic_ns(), NULL), HS_OK);
    }
    /* The deadline has passed before the worker starts: it takes nothing. */
    hs__consumer_close(c, 1);
    assert_int_equal(hs__consumer_start(c, err, sizeof err), HS_OK);
    assert_int_equal(hs__consumer_join(c, 0), 0);
    assert_int_equal(atomic_load(&c->left), 150);
    assert_int_equal(atomic_load(&c->ok), 0);
    assert_int_equal(hs__deadletter_count(dl), 150);

    json_t **lines;
    size_t n = lines_of(path("left-dead.jsonl"), &lines);
    assert_int_equal(n, 150);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(json_string_value(json_object_get(lines[i], "reason")), "left");
        assert_string_equal(json_string_value(json_object_get(lines[i], "consumer")), "late");
        json_t *body = json_object_get(lines[i], "body");
        assert_int_equal(json_integer_value(json_object_get(body, "n")), (json_int_t)i);
        json_decref(lines[i]);
    }
    free(lines);

    hs__hub_config cfg;
    hs__config_init(&cfg);
    hs__hub hub = {.cfg = &cfg, .deadletter = dl, .consumers = &c, .nconsumers = 1};
    size_t len;
    char *text = hs__metrics_render(&hub, &len);
    assert_non_null(text);
    assert_non_null(strstr(text, "hashspace_consumer_left_total{consumer=\"late\"} 150\n"));
    free(text);
    text = hs__status_render(&hub, &len);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"left\":150"));
    free(text);
    hs__config_free(&cfg);
    hs__consumer_free(c);
    hs__deadletter_free(dl);
}

static int teardown(void **state)
{
    (void)state;
    const char *names[] = {"ordered.jsonl", "dead.jsonl", "drop.jsonl", "left.jsonl",
                           "left-dead.jsonl"};
    for (size_t i = 0; i < 5; i++)
        unlink(path(names[i]));
    rmdir(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_consumer_workers_keep_each_key_in_order),
        cmocka_unit_test(test_consumer_glob_sees_only_the_topic_bytes),
        cmocka_unit_test(test_consumer_failures_are_retried_then_dead_lettered),
        cmocka_unit_test(test_consumer_start_fails_with_a_sentence),
        cmocka_unit_test(test_consumer_drop_mode_counts_and_metrics_name_everything),
        cmocka_unit_test(test_consumer_left_at_deadline_is_dead_lettered_and_counted),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
