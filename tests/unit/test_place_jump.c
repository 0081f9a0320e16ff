/* test_place_jump.c - jump and modulo: known answers, replicas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hashspace/error.h"
#include "hashspace/place.h"

/* Elixir's Jumper.slot(k, 3) for k = 1..7 is 0,0,2,1,1,2,0. */
static void test_jump_matches_jumper_slots(void **state)
{
    (void)state;
    hs_place *p;
    assert_int_equal(hs_place_new(&p, "jump", NULL), HS_OK);
    const char *names[] = {"a", "b", "c"};
    assert_int_equal(hs_place_add_many(p, names, NULL, 3), HS_OK);
    const char *want = "aacbbca";
    for (uint64_t k = 1; k <= 7; k++) {
        hs_member_id id;
        assert_int_equal(hs_place_lookup(p, k, &id), HS_OK);
        assert_int_equal(hs_place_member_name(p, id)[0], want[k - 1]);
    }
    hs_place_free(p);
}

/* The paper's reference code (Lamping & Veach 2014, figure 1), in C. */
static int32_t paper_jump(uint64_t key, int32_t num_buckets)
{
    int64_t b = -1, j = 0;
    while (j < num_buckets) {
        b = j;
        key = key * 2862933555777941757ULL + 1;
        j = (int64_t)((double)(b + 1) * ((double)(1LL << 31) / (double)((key >> 33) + 1)));
    }
    return (int32_t)b;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* hs_jump_bucket unrolls and reorders the paper's loop; its answers must be
 * the paper's, bit for bit, at small counts (where the unrolled steps
 * decide), large ones (where the loop goes on) and the int32 limit. Keys
 * include 0 and all-ones, whose LCG steps hit the extremes of the division. */
static void test_jump_bucket_is_the_papers_code(void **state)
{
    (void)state;
    const int32_t counts[] = {1,    2,     3,      4,       5,       6,         7,
                              8,    9,     10,     11,      16,      17,        100,
                              1000, 65537, 999983, 1 << 24, 1 << 30, INT32_MAX, 123456789};
    uint64_t seed = 7;
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        int32_t n = counts[c];
        assert_int_equal(hs_jump_bucket(0, (uint32_t)n), paper_jump(0, n));
        assert_int_equal(hs_jump_bucket(UINT64_MAX, (uint32_t)n), paper_jump(UINT64_MAX, n));
        for (int k = 0; k < 20000; k++) {
            uint64_t key = k < 1000 ? (uint64_t)k : splitmix(&seed);
            assert_int_equal(hs_jump_bucket(key, (uint32_t)n), paper_jump(key, n));
        }
    }
    assert_int_equal(hs_jump_bucket(12345, 0), 0);
    /* Above 2^31 the count is capped, so the answer is still in range. */
    assert_true(hs_jump_bucket(splitmix(&seed), UINT32_MAX) <= (1u << 31));
}

/* Up to 4 buckets, hs_jump_bucket decides each of the paper's jumps by
 * comparing t = (key >> 33) + 1 with the integer (b + 1) * 2^31 / m: the
 * jump from bucket b reaches bucket m when t is at most that. The paper's
 * double arithmetic only falls as t grows, so the comparison is exact if it
 * holds at the boundary: there the paper's jump reaches m, and one above it
 * does not. */
static void test_jump_integer_thresholds_are_the_papers_boundaries(void **state)
{
    (void)state;
    for (int64_t b = 0; b < 4; b++) {
        for (int64_t m = b + 1; m <= 4; m++) {
            uint64_t t = ((uint64_t)(b + 1) << 31) / (uint64_t)m;
            double q_at = (double)(1LL << 31) / (double)t;
            double q_above = (double)(1LL << 31) / (double)(t + 1);
            assert_true((int64_t)((double)(b + 1) * q_at) >= m);
            assert_true((int64_t)((double)(b + 1) * q_above) < m);
        }
    }
}

/* The LCG step of the paper's loop, backwards: the key whose step lands on
 * `after`. */
static uint64_t lcg_back(uint64_t after)
{
    const uint64_t mul = 2862933555777941757ULL;
    uint64_t inv = mul; /* Newton: each round doubles the correct low bits */
    for (int i = 0; i < 6; i++)
        inv *= 2 - mul * inv;
    return (after - 1) * inv;
}

/* With a few members the jump placement runs the loop's first steps
 * unrolled, without branches. It must still be the paper's code exactly: on
 * random keys, and on keys crafted so that the step-k value r = key >> 33
 * sits right at the points where a step from bucket m - 1 crosses into
 * bucket t (r near m * 2^31 / t), for steps 1 to 3. */
static void test_jump_few_members_is_the_papers_code(void **state)
{
    (void)state;
    uint64_t seed = 11;
    for (int32_t n = 1; n <= 10; n++) {
        hs_place *p;
        assert_int_equal(hs_place_new(&p, "jump", NULL), HS_OK);
        char name[8];
        for (int32_t i = 0; i < n; i++) {
            snprintf(name, sizeof name, "b%d", i);
            assert_int_equal(hs_place_add(p, name, 1), HS_OK);
        }
        size_t checked = 0;
        for (int k = 0; k < 300000; k++) {
            uint64_t key = splitmix(&seed);
            if (k >= 100000) {
                /* Steps 1..3; m < t <= 8; r within 2 of the crossing. */
                int steps = 1 + k % 3, m = 1 + (k / 3) % 7, t = 2 + (k / 21) % 7;
                if (t <= m)
                    continue;
                uint64_t r = (uint64_t)m * (1ull << 31) / (uint64_t)t - 1;
                r += (uint64_t)(k / 147 % 5) - 2;
                uint64_t state_k = (r << 33) | (splitmix(&seed) >> 31);
                key = state_k;
                for (int i = 0; i < steps; i++)
                    key = lcg_back(key);
            }
            hs_member_id id;
            assert_int_equal(hs_place_lookup(p, key, &id), HS_OK);
            assert_int_equal(id, paper_jump(key, n));
            checked++;
        }
        assert_true(checked > 200000);
        hs_place_free(p);
    }
}

/* The placements answer as the bucket functions do, one key at a time or
 * many at once, also once a middle member is gone (buckets no longer equal
 * member ids) and for a method that has no batch loop of its own (ring). */
static void test_lookup_many_and_bucket_functions_agree(void **state)
{
    (void)state;
    const char *methods[] = {"jump", "jumpback", "memento", "ring", "modulo"};
    const uint32_t sizes[] = {5, 37}; /* jump: unrolled steps decide, the loop goes on */
    enum { N_KEYS = 3000 };
    uint64_t hashes[N_KEYS], seed = 3;
    for (size_t i = 0; i < N_KEYS; i++)
        hashes[i] = splitmix(&seed);
    for (size_t z = 0; z < 2; z++) {
        for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++) {
            hs_place *p;
            assert_int_equal(hs_place_new(&p, methods[m], NULL), HS_OK);
            hs_member_id many[N_KEYS];
            assert_int_equal(hs_place_lookup_many(p, hashes, N_KEYS, many), HS_EEMPTY);
            char name[16];
            for (uint32_t i = 0; i < sizes[z]; i++) {
                snprintf(name, sizeof name, "m%02u", i);
                assert_int_equal(hs_place_add(p, name, 1), HS_OK);
            }
            for (int round = 0; round < 2; round++) {
                assert_int_equal(hs_place_lookup_many(p, hashes, N_KEYS, many), HS_OK);
                for (size_t i = 0; i < N_KEYS; i++) {
                    hs_member_id one;
                    assert_int_equal(hs_place_lookup(p, hashes[i], &one), HS_OK);
                    assert_int_equal(many[i], one);
                    if (round == 1)
                        continue;
                    if (strcmp(methods[m], "jump") == 0)
                        assert_int_equal(one, hs_jump_bucket(hashes[i], sizes[z]));
                    if (strcmp(methods[m], "jumpback") == 0)
                        assert_int_equal(one, hs_jumpback_bucket(hashes[i], sizes[z]));
                }
                if (round == 0)
                    assert_int_equal(hs_place_remove(p, "m02"), HS_OK);
            }
            hs_place_free(p);
        }
    }
}

static void test_jump_replicas_are_distinct_and_start_with_owner(void **state)
{
    (void)state;
    hs_place *p;
    assert_int_equal(hs_place_new(&p, "jump", NULL), HS_OK);
    char name[16];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "m%02d", i);
        assert_int_equal(hs_place_add(p, name, 1), HS_OK);
    }
    for (uint64_t h = 0; h < 2000; h++) {
        hs_member_id out[20], owner;
        size_t got;
        uint64_t hash = h * 0x9e3779b97f4a7c15ull;
        assert_int_equal(hs_place_lookup_n(p, hash, out, 20, &got), HS_OK);
        assert_int_equal(got, 20);
        assert_int_equal(hs_place_lookup(p, hash, &owner), HS_OK);
        assert_int_equal(out[0], owner);
        for (size_t i = 0; i < got; i++)
            for (size_t j = i + 1; j < got; j++)
                assert_int_not_equal(out[i], out[j]);
    }
    hs_place_free(p);
}

static void test_modulo_is_hash_mod_n(void **state)
{
    (void)state;
    hs_place *p;
    assert_int_equal(hs_place_new(&p, "modulo", NULL), HS_OK);
    const char *names[] = {"m0", "m1", "m2", "m3", "m4"};
    assert_int_equal(hs_place_add_many(p, names, NULL, 5), HS_OK);
    for (uint64_t h = 0; h < 100; h++) {
        hs_member_id id;
        assert_int_equal(hs_place_lookup(p, h * 7919, &id), HS_OK);
        char want[4];
        snprintf(want, sizeof want, "m%d", (int)((h * 7919) % 5));
        assert_string_equal(hs_place_member_name(p, id), want);
    }
    hs_place_free(p);
}

static void test_place_member_errors(void **state)
{
    (void)state;
    hs_place *p;
    hs_member_id id;
    assert_int_equal(hs_place_new(&p, "nope", NULL), HS_EUNKNOWN_PLACEMENT);
    assert_int_equal(hs_place_new(&p, "jump", NULL), HS_OK);
    assert_int_equal(hs_place_lookup(p, 1, &id), HS_EEMPTY);
    assert_int_equal(hs_place_add(p, "a", 1), HS_OK);
    assert_int_equal(hs_place_add(p, "a", 1), HS_EEXISTS);
    assert_int_equal(hs_place_add(p, "", 1), HS_ENAME);
    assert_int_equal(hs_place_add(p, "b", 0), HS_EWEIGHT);
    assert_int_equal(hs_place_add(p, "b", -2), HS_EWEIGHT);
    assert_int_equal(hs_place_remove(p, "zz"), HS_ENOTFOUND);
    assert_int_equal(hs_place_size(p), 1);
    assert_int_equal(hs_place_remove(p, "a"), HS_OK);
    assert_int_equal(hs_place_size(p), 0);
    assert_int_equal(hs_place_lookup(p, 1, &id), HS_EEMPTY);
    hs_place_free(p);
}

static void test_place_remove_middle_then_readd_keeps_names(void **state)
{
    (void)state;
    hs_place *p;
    assert_int_equal(hs_place_new(&p, "jump", NULL), HS_OK);
    const char *names[] = {"a", "b", "c", "d"};
    assert_int_equal(hs_place_add_many(p, names, NULL, 4), HS_OK);
    assert_int_equal(hs_place_remove(p, "b"), HS_OK);
    hs_member_id ids[4];
    assert_int_equal(hs_place_members(p, ids, 4), 3);
    assert_string_equal(hs_place_member_name(p, ids[0]), "a");
    assert_string_equal(hs_place_member_name(p, ids[1]), "c");
    assert_string_equal(hs_place_member_name(p, ids[2]), "d");
    assert_int_equal(hs_place_add(p, "e", 1), HS_OK);
    hs_member_id e;
    assert_int_equal(hs_place_find(p, "e", &e), HS_OK);
    assert_string_equal(hs_place_member_name(p, e), "e");
    for (uint64_t h = 0; h < 1000; h++) {
        hs_member_id id;
        assert_int_equal(hs_place_lookup(p, h * 0x9e3779b97f4a7c15ull, &id), HS_OK);
        assert_non_null(hs_place_member_name(p, id));
    }
    hs_place_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jump_bucket_is_the_papers_code),
        cmocka_unit_test(test_jump_few_members_is_the_papers_code),
        cmocka_unit_test(test_jump_integer_thresholds_are_the_papers_boundaries),
        cmocka_unit_test(test_lookup_many_and_bucket_functions_agree),
        cmocka_unit_test(test_jump_matches_jumper_slots),
        cmocka_unit_test(test_jump_replicas_are_distinct_and_start_with_owner),
        cmocka_unit_test(test_modulo_is_hash_mod_n),
        cmocka_unit_test(test_place_member_errors),
        cmocka_unit_test(test_place_remove_middle_then_readd_keeps_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
