/* test_fedmsg.c - the fedmsg message generator: key distributions, body
 * shape, msg_id format, padding to a size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <math.h>

#include "fedmsg.h"
#include "hashspace/error.h"

static void test_zipf_frequencies_follow_the_power_law(void **state)
{
    (void)state;
    enum { N = 10, DRAWS = 400000 };
    const double s = 1.1;
    hs__zipf z;
    assert_int_equal(hs__zipf_init(&z, N, s), HS_OK);
    hs__rng r;
    hs__rng_seed(&r, 42);
    unsigned long count[N + 1] = {0};
    for (int i = 0; i < DRAWS; i++) {
        uint64_t k = hs__zipf_sample(&z, &r);
        assert_true(k >= 1 && k <= N);
        count[k]++;
    }
    double norm = 0;
    for (int k = 1; k <= N; k++)
        norm += pow(k, -s);
    for (int k = 1; k <= N; k++) {
        double expected = DRAWS * pow(k, -s) / norm;
        /* 5 standard deviations of a binomial count. */
        double sd = sqrt(expected * (1 - expected / DRAWS));
        assert_true(fabs((double)count[k] - expected) < 5 * sd);
    }
}

static void test_zipf_handles_s_equal_one_and_huge_n(void **state)
{
    (void)state;
    hs__zipf z;
    hs__rng r;
    hs__rng_seed(&r, 7);
    assert_int_equal(hs__zipf_init(&z, 1, 1.0), HS_OK);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(hs__zipf_sample(&z, &r), 1);
    assert_int_equal(hs__zipf_init(&z, 1000000000000ull, 1.0), HS_OK);
    unsigned ones = 0;
    for (int i = 0; i < 10000; i++) {
        uint64_t k = hs__zipf_sample(&z, &r);
        assert_true(k >= 1 && k <= 1000000000000ull);
        ones += k == 1;
    }
    /* P(1) = 1/H(10^12) is about 1/28.2: 354 expected. */
    assert_in_range(ones, 250, 460);
    assert_int_equal(hs__zipf_init(&z, 0, 1.0), HS_EINVAL);
    assert_int_equal(hs__zipf_init(&z, 10, 0), HS_EINVAL);
    assert_int_equal(hs__zipf_init(&z, 10, NAN), HS_EINVAL);
}

static void test_rng_below_stays_in_range_and_covers_it(void **state)
{
    (void)state;
    hs__rng r;
    hs__rng_seed(&r, 1);
    unsigned seen[7] = {0};
    for (int i = 0; i < 7000; i++) {
        uint64_t v = hs__rng_below(&r, 7);
        assert_true(v < 7);
        seen[v]++;
    }
    for (int i = 0; i < 7; i++)
        assert_in_range(seen[i], 800, 1200);
    for (int i = 0; i < 1000; i++) {
        double u = hs__rng_unit(&r);
        assert_true(u >= 0 && u < 1);
    }
}

static void test_messages_have_the_fedmsg_shape(void **state)
{
    (void)state;
    const char *topics[] = {"t.one", "t.two"};
    hs__fedmsg_opts o = {.topics = topics,
                         .ntopics = 2,
                         .keys = 3,
                         .dist = HS__KEY_UNIFORM,
                         .username = "tester",
                         .seed = 99};
    hs__fedmsg_gen *g;
    assert_int_equal(hs__fedmsg_gen_new(&g, &o), HS_OK);
    char last_id[64] = "";
    int topic_seen[2] = {0, 0};
    for (int i = 1; i <= 200; i++) {
        assert_int_equal(hs__fedmsg_gen_seq(g), (uint64_t)i);
        const char *topic, *body;
        size_t tlen, blen;
        assert_int_equal(hs__fedmsg_gen_next(g, &topic, &tlen, &body, &blen), HS_OK);
        assert_int_equal(strlen(body), blen);
        json_error_t err;
        json_t *j = json_loadb(body, blen, 0, &err);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "topic")), topic);
        topic_seen[strcmp(topic, "t.one") == 0 ? 0 : 1]++;
        assert_int_equal(json_integer_value(json_object_get(j, "i")), i);
        assert_string_equal(json_string_value(json_object_get(j, "username")), "tester");
        assert_true(json_is_real(json_object_get(j, "timestamp")));
        const char *id = json_string_value(json_object_get(j, "msg_id"));
        /* "<year>-<uuid4>": 4 + 1 + 36 characters, version 4, variant 10xx. */
        assert_int_equal(strlen(id), 41);
        assert_int_equal(id[4], '-');
        assert_int_equal(id[5 + 14], '4');
        assert_non_null(strchr("89ab", id[5 + 19]));
        assert_true(strcmp(id, last_id) != 0);
        snprintf(last_id, sizeof last_id, "%s", id);
        json_t *msg = json_object_get(j, "msg");
        const char *key = json_string_value(json_object_get(msg, "key"));
        const char *user = json_string_value(json_object_get(msg, "user"));
        assert_true(strcmp(key, "key-0") == 0 || strcmp(key, "key-1") == 0 ||
                    strcmp(key, "key-2") == 0);
        assert_string_equal(user + 5, key + 4); /* user-N for key-N */
        assert_null(json_object_get(msg, "pad"));
        json_decref(j);
    }
    assert_true(topic_seen[0] > 50 && topic_seen[1] > 50);
    hs__fedmsg_gen_free(g);
}

static void test_bodies_are_padded_to_the_size_exactly(void **state)
{
    (void)state;
    const char *topics[] = {"org.example.padded"};
    size_t sizes[] = {300, 2048, 100000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        hs__fedmsg_opts o = {.topics = topics, .ntopics = 1, .keys = 1000000, .size = sizes[s]};
        hs__fedmsg_gen *g;
        assert_int_equal(hs__fedmsg_gen_new(&g, &o), HS_OK);
        for (int i = 0; i < 50; i++) {
            const char *topic, *body;
            size_t tlen, blen;
            assert_int_equal(hs__fedmsg_gen_next(g, &topic, &tlen, &body, &blen), HS_OK);
            assert_int_equal(blen, sizes[s]);
            assert_int_equal(strlen(body), sizes[s]);
            json_t *j = json_loadb(body, blen, 0, NULL);
            assert_non_null(j);
            const char *pad = json_string_value(json_object_get(json_object_get(j, "msg"), "pad"));
            assert_non_null(pad);
            assert_true(strspn(pad, "x") == strlen(pad));
            json_decref(j);
        }
        hs__fedmsg_gen_free(g);
    }
}

static void test_bad_options_are_refused(void **state)
{
    (void)state;
    const char *topics[] = {"t"};
    hs__fedmsg_gen *g = (hs__fedmsg_gen *)1;
    hs__fedmsg_opts none = {.topics = topics, .ntopics = 0, .keys = 1};
    assert_int_equal(hs__fedmsg_gen_new(&g, &none), HS_EINVAL);
    assert_null(g);
    hs__fedmsg_opts nokeys = {.topics = topics, .ntopics = 1, .keys = 0};
    assert_int_equal(hs__fedmsg_gen_new(&g, &nokeys), HS_EINVAL);
    hs__fedmsg_opts bad_s = {
        .topics = topics, .ntopics = 1, .keys = 5, .dist = HS__KEY_ZIPF, .zipf_s = -1};
    assert_int_equal(hs__fedmsg_gen_new(&g, &bad_s), HS_EINVAL);
    hs__fedmsg_gen_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zipf_frequencies_follow_the_power_law),
        cmocka_unit_test(test_zipf_handles_s_equal_one_and_huge_n),
        cmocka_unit_test(test_rng_below_stays_in_range_and_covers_it),
        cmocka_unit_test(test_messages_have_the_fedmsg_shape),
        cmocka_unit_test(test_bodies_are_padded_to_the_size_exactly),
        cmocka_unit_test(test_bad_options_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
