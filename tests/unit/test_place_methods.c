/* test_place_methods.c - each native method against its documented
 * definition (a slow, literal reference written here), plus the edge cases of
 * each: jumpback, memento, ring, rendezvous, maglev. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>
#include <xxhash.h>

#include "hashspace/error.h"
#include "hashspace/place.h"
#include "place_impl.h" /* hs__mix64, the documented key mixer */

#define GOLDEN 0x9e3779b97f4a7c15ull

static uint64_t key_hash(size_t i)
{
    return XXH3_64bits_withSeed(&i, sizeof i, 42);
}

static hs_place *make(const char *method, const hs_place_opts *opts, size_t n,
                      const double *weights)
{
    hs_place *p;
    assert_int_equal(hs_place_new(&p, method, opts), HS_OK);
    char name[32];
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "m%zu", i);
        assert_int_equal(hs_place_add(p, name, weights ? weights[i] : 1.0), HS_OK);
    }
    return p;
}

static const char *owner_name(const hs_place *p, uint64_t hash)
{
    hs_member_id id;
    assert_int_equal(hs_place_lookup(p, hash, &id), HS_OK);
    return hs_place_member_name(p, id);
}

/* ---- every method: the smallest memberships ---- */

static void test_every_method_handles_one_member_and_none(void **state)
{
    (void)state;
    for (size_t m = 0; m < hs_place_method_count(); m++) {
        const char *method = hs_place_method_at(m)->name;
        hs_place *p;
        assert_int_equal(hs_place_new(&p, method, NULL), HS_OK);
        hs_member_id id, out[4];
        size_t got = 9;
        assert_int_equal(hs_place_lookup(p, 1, &id), HS_EEMPTY);
        assert_int_equal(hs_place_lookup_n(p, 1, out, 4, &got), HS_EEMPTY);
        assert_int_equal(got, 0);
        assert_int_equal(hs_place_add(p, "only:1", 1), HS_OK);
        for (size_t k = 0; k < 1000; k++) {
            assert_string_equal(owner_name(p, key_hash(k)), "only:1");
            assert_int_equal(hs_place_lookup_n(p, key_hash(k), out, 4, &got), HS_OK);
            assert_int_equal(got, 1);
        }
        assert_int_equal(hs_place_remove(p, "only:1"), HS_OK);
        assert_int_equal(hs_place_lookup(p, 1, &id), HS_EEMPTY);
        assert_int_equal(hs_place_add(p, "again:2", 1), HS_OK);
        assert_string_equal(owner_name(p, 12345), "again:2");
        hs_place_free(p);
    }
}

/* ---- jumpback ---- */

static uint64_t stream_at(uint64_t seed, uint64_t k)
{
    return hs__mix64(seed + (k + 1) * GOLDEN);
}

/* The definition, literally: list every active index of every interval
 * (with r = value 0 and x = low32(r) ^ high32(r), interval i has an active
 * index when bit i of x is set; its largest is 2^i + (h mod 2^i), h being
 * high32(r) when bits 0..i of x have odd parity and low32(r) when even;
 * below the largest of the top interval, the record lows of the 32-bit draws
 * from value 64 on), then take the largest below n. */
static uint32_t jumpback_reference(uint64_t hash, uint32_t n)
{
    uint32_t active[128];
    size_t n_active = 0;
    active[n_active++] = 0;
    int top = 0;
    while ((2ull << top) <= n - 1)
        top++;
    uint64_t r = stream_at(hash, 0);
    uint32_t x = (uint32_t)r ^ (uint32_t)(r >> 32);
    for (int i = 0; i <= top && n > 1; i++) {
        if (!((x >> i) & 1))
            continue;
        int ones = 0;
        for (int k = 0; k <= i; k++)
            ones += (x >> k) & 1;
        uint32_t half = ones % 2 ? (uint32_t)(r >> 32) : (uint32_t)r;
        uint64_t lo = 1ull << i;
        uint32_t largest = (uint32_t)(lo + half % lo);
        active[n_active++] = largest;
        if (i != top)
            continue;
        uint32_t low = largest;
        for (uint64_t k = 0; k < 32 && low >= lo; k++) {
            uint64_t d = stream_at(hash, 64 + k);
            uint32_t halves[2] = {(uint32_t)d % (uint32_t)(2 * lo),
                                  (uint32_t)(d >> 32) % (uint32_t)(2 * lo)};
            for (int h = 0; h < 2 && low >= lo; h++) {
                if (halves[h] < low) {
                    low = halves[h];
                    if (low >= lo)
                        active[n_active++] = low;
                }
            }
        }
    }
    uint32_t best = 0;
    for (size_t i = 0; i < n_active; i++)
        if (active[i] < n && active[i] > best)
            best = active[i];
    return best;
}

static void test_jumpback_matches_its_definition(void **state)
{
    (void)state;
    const uint32_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 10, 100, 1000, 1024, 1025, 2000};
    hs_place *p;
    assert_int_equal(hs_place_new(&p, "jumpback", NULL), HS_OK);
    char name[32];
    uint32_t added = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint32_t n = sizes[s];
        while (added < n) {
            snprintf(name, sizeof name, "%u", added++);
            assert_int_equal(hs_place_add(p, name, 1), HS_OK);
        }
        for (size_t k = 0; k < 5000; k++) {
            uint64_t h = key_hash(k);
            assert_int_equal(atoi(owner_name(p, h)), jumpback_reference(h, n));
        }
    }
    hs_place_free(p);
}

static void test_jumpback_growth_moves_keys_only_to_the_new_bucket(void **state)
{
    (void)state;
    const size_t n_keys = 2000, max_n = 600;
    hs_place *p;
    assert_int_equal(hs_place_new(&p, "jumpback", NULL), HS_OK);
    assert_int_equal(hs_place_add(p, "0", 1), HS_OK);
    int *prev = calloc(n_keys, sizeof *prev);
    assert_non_null(prev);
    double moved = 0, expected = 0;
    char name[32];
    for (size_t n = 2; n <= max_n; n++) {
        snprintf(name, sizeof name, "%zu", n - 1);
        assert_int_equal(hs_place_add(p, name, 1), HS_OK);
        for (size_t k = 0; k < n_keys; k++) {
            int now = atoi(owner_name(p, key_hash(k)));
            if (now != prev[k]) {
                assert_int_equal(now, (int)n - 1);
                moved++;
            }
            prev[k] = now;
        }
        expected += (double)n_keys / (double)n;
    }
    /* About 12,000 moves expected: within 5%. */
    assert_true(fabs(moved / expected - 1) < 0.05);
    free(prev);
    hs_place_free(p);
}

/* ---- memento ---- */

static void test_memento_without_removals_is_jumpback(void **state)
{
    (void)state;
    hs_place *a = make("memento", NULL, 77, NULL), *b = make("jumpback", NULL, 77, NULL);
    for (size_t k = 0; k < 20000; k++) {
        hs_member_id x[5], y[5];
        size_t got;
        assert_int_equal(hs_place_lookup_n(a, key_hash(k), x, 5, &got), HS_OK);
        assert_int_equal(hs_place_lookup_n(b, key_hash(k), y, 5, &got), HS_OK);
        for (size_t i = 0; i < 5; i++)
            assert_string_equal(hs_place_member_name(a, x[i]), hs_place_member_name(b, y[i]));
    }
    hs_place_free(a);
    hs_place_free(b);
}

static void test_memento_add_restores_the_last_removed_bucket(void **state)
{
    (void)state;
    enum { N_KEYS = 20000 };
    hs_place *p = make("memento", NULL, 20, NULL);
    static char before[N_KEYS][8];
    for (size_t k = 0; k < N_KEYS; k++)
        snprintf(before[k], sizeof before[k], "%s", owner_name(p, key_hash(k)));
    assert_int_equal(hs_place_remove(p, "m7"), HS_OK);
    assert_int_equal(hs_place_remove(p, "m3"), HS_OK);
    /* The newcomer takes m3's place, then the next one m7's. */
    assert_int_equal(hs_place_add(p, "new3", 1), HS_OK);
    assert_int_equal(hs_place_add(p, "new7", 1), HS_OK);
    for (size_t k = 0; k < N_KEYS; k++) {
        const char *now = owner_name(p, key_hash(k));
        if (strcmp(before[k], "m3") == 0)
            assert_string_equal(now, "new3");
        else if (strcmp(before[k], "m7") == 0)
            assert_string_equal(now, "new7");
        else
            assert_string_equal(now, before[k]);
    }
    hs_place_free(p);
}

/* The member table reuses ids its own way (place.c); buckets come back in
 * removal order. Here the newcomer gets id 3 but bucket 19. */
static void test_memento_newcomer_in_a_bucket_other_than_its_id(void **state)
{
    (void)state;
    enum { N_KEYS = 20000 };
    hs_place *p = make("memento", NULL, 20, NULL);
    static char before[N_KEYS][8];
    for (size_t k = 0; k < N_KEYS; k++)
        snprintf(before[k], sizeof before[k], "%s", owner_name(p, key_hash(k)));
    assert_int_equal(hs_place_remove(p, "m3"), HS_OK);
    assert_int_equal(hs_place_remove(p, "m19"), HS_OK);
    assert_int_equal(hs_place_add(p, "x", 1), HS_OK);
    hs_member_id x;
    assert_int_equal(hs_place_find(p, "x", &x), HS_OK);
    assert_int_equal(x, 3);
    size_t to_x = 0;
    for (size_t k = 0; k < N_KEYS; k++) {
        const char *now = owner_name(p, key_hash(k));
        if (strcmp(before[k], "m19") == 0) {
            assert_string_equal(now, "x");
            to_x++;
        } else if (strcmp(before[k], "m3") != 0) {
            assert_string_equal(now, before[k]);
        } else {
            assert_string_not_equal(now, "m3");
        }
    }
    assert_true(to_x > 500);
    hs_place_free(p);
}

/* Random churn: every removal moves only the removed member's keys, every
 * addition moves keys only to the newcomer. */
static void test_memento_churn_moves_minimally(void **state)
{
    (void)state;
    enum { N_KEYS = 3000, START = 60, STEPS = 150 };
    hs_place *p = make("memento", NULL, START, NULL);
    static char owner[N_KEYS][16];
    for (size_t k = 0; k < N_KEYS; k++)
        snprintf(owner[k], sizeof owner[k], "%s", owner_name(p, key_hash(k)));
    uint64_t rng = 7;
    size_t next_name = START;
    char name[16];
    size_t removals = 0;
    for (size_t step = 0; step < STEPS; step++) {
        rng = hs__mix64(rng);
        bool add = hs_place_size(p) < 5 || (hs_place_size(p) < 120 && rng % 3 == 0);
        if (add) {
            snprintf(name, sizeof name, "m%zu", next_name++);
            assert_int_equal(hs_place_add(p, name, 1), HS_OK);
        } else {
            hs_member_id ids[128];
            size_t n = hs_place_members(p, ids, 128);
            snprintf(name, sizeof name, "%s", hs_place_member_name(p, ids[(rng >> 8) % n]));
            assert_int_equal(hs_place_remove(p, name), HS_OK);
            removals++;
        }
        for (size_t k = 0; k < N_KEYS; k++) {
            const char *now = owner_name(p, key_hash(k));
            if (strcmp(now, owner[k]) != 0) {
                /* Only to the newcomer, or only from the removed member. */
                assert_string_equal(add ? now : owner[k], name);
                snprintf(owner[k], sizeof owner[k], "%s", now);
            }
        }
    }
    assert_true(removals > 50);
    hs_place_free(p);
}

/* ---- ring ---- */

typedef struct ref_point {
    uint64_t pos;
    const char *name;
} ref_point;

static int ref_point_cmp(const void *a, const void *b)
{
    const ref_point *x = a, *y = b;
    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void check_ring(const hs_place_opts *opts, size_t ppw, const double *weights, size_t n)
{
    hs_place *p = make("ring", opts, n, weights);
    static char names[16][24]; /* room for any size_t: gcc -O0 cannot bound i */
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += (size_t)fmax(1, nearbyint((double)ppw * weights[i]));
    ref_point *pts = malloc(total * sizeof *pts);
    assert_non_null(pts);
    size_t t = 0;
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "m%zu", i);
        size_t count = (size_t)fmax(1, nearbyint((double)ppw * weights[i]));
        for (size_t j = 0; j < count; j++)
            pts[t++] = (ref_point){XXH3_64bits_withSeed(names[i], strlen(names[i]), j), names[i]};
    }
    qsort(pts, total, sizeof *pts, ref_point_cmp);
    size_t wrapped = 0;
    for (size_t k = 0; k < 20000; k++) {
        uint64_t h = key_hash(k), at = hs__mix64(h);
        size_t i = 0;
        while (i < total && pts[i].pos < at)
            i++;
        if (i == total) {
            i = 0;
            wrapped++;
        }
        assert_string_equal(owner_name(p, h), pts[i].name);
        /* Replicas: the next distinct names clockwise. */
        hs_member_id out[16];
        size_t got;
        assert_int_equal(hs_place_lookup_n(p, h, out, n, &got), HS_OK);
        assert_int_equal(got, n);
        const char *seen[16];
        size_t n_seen = 0;
        for (; n_seen < n; i = (i + 1) % total) {
            bool dup = false;
            for (size_t s = 0; s < n_seen; s++)
                dup |= seen[s] == pts[i].name;
            if (!dup) {
                assert_string_equal(hs_place_member_name(p, out[n_seen]), pts[i].name);
                seen[n_seen++] = pts[i].name;
            }
        }
    }
    if (total < 50)
        assert_true(wrapped > 0); /* a small ring has a real gap at the end */
    free(pts);
    hs_place_free(p);
}

static void test_ring_matches_its_definition(void **state)
{
    (void)state;
    const double weights[] = {1, 2.5, 0.3, 1, 0.001};
    check_ring(NULL, 160, weights, 5);
    hs_place_opts small = {.points_per_weight = 3};
    check_ring(&small, 3, weights, 5);
}

/* ---- rendezvous ---- */

static void test_rendezvous_matches_its_definition(void **state)
{
    (void)state;
    const double weights[] = {1, 2, 0.5, 3, 1, 1.25, 7};
    const size_t n = 7;
    for (int weighted = 0; weighted < 2; weighted++) {
        hs_place *p = make("rendezvous", NULL, n, weighted ? weights : NULL);
        for (size_t k = 0; k < 5000; k++) {
            uint64_t h = key_hash(k);
            double score[7];
            for (size_t i = 0; i < n; i++) {
                char name[8];
                snprintf(name, sizeof name, "m%zu", i);
                uint64_t x = hs__mix64(h ^ XXH3_64bits(name, strlen(name)));
                double u = ((double)(x >> 11) + 0.5) / 9007199254740992.0;
                score[i] = (weighted ? weights[i] : 1.0) / -log(u);
            }
            hs_member_id out[7];
            size_t got;
            assert_int_equal(hs_place_lookup_n(p, h, out, n, &got), HS_OK);
            assert_int_equal(got, n);
            /* The whole list in decreasing score order. */
            for (size_t i = 1; i < n; i++) {
                size_t prev = (size_t)atoi(hs_place_member_name(p, out[i - 1]) + 1);
                size_t idx = (size_t)atoi(hs_place_member_name(p, out[i]) + 1);
                assert_true(score[prev] > score[idx]);
            }
        }
        hs_place_free(p);
    }
}

/* ---- maglev ---- */

/* The paper's population, written out: members in name order, each takes
 * its next free preferred entry in turn. */
static void maglev_reference(uint32_t *table, size_t m, const char *const *names, size_t n)
{
    uint64_t *next = calloc(n, sizeof *next), *skip = calloc(n, sizeof *skip);
    assert_non_null(next);
    assert_non_null(skip);
    for (size_t i = 0; i < n; i++) {
        next[i] = XXH3_64bits(names[i], strlen(names[i])) % m;
        skip[i] = XXH3_64bits_withSeed(names[i], strlen(names[i]), 1) % (m - 1) + 1;
    }
    for (size_t e = 0; e < m; e++)
        table[e] = UINT32_MAX;
    for (size_t filled = 0; filled < m;)
        for (size_t i = 0; i < n && filled < m; i++) {
            while (table[next[i]] != UINT32_MAX)
                next[i] = (next[i] + skip[i]) % m;
            table[next[i]] = (uint32_t)i;
            filled++;
        }
    free(next);
    free(skip);
}

static void check_maglev(const hs_place_opts *opts, size_t m, size_t n)
{
    /* Names added out of order: the table depends on names, not history. */
    hs_place *p;
    assert_int_equal(hs_place_new(&p, "maglev", opts), HS_OK);
    char names[12][8];
    const char *sorted[12];
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "s%02zu", i);
        sorted[i] = names[i];
    }
    for (size_t i = n; i-- > 0;)
        assert_int_equal(hs_place_add(p, names[i], 1), HS_OK);
    uint32_t *table = malloc(m * sizeof *table);
    assert_non_null(table);
    maglev_reference(table, m, sorted, n);
    for (size_t k = 0; k < 20000; k++) {
        uint64_t h = key_hash(k);
        size_t e = (size_t)(((unsigned __int128)hs__mix64(h) * m) >> 64);
        assert_string_equal(owner_name(p, h), sorted[table[e]]);
    }
    free(table);
    hs_place_free(p);
}

static void test_maglev_matches_the_paper_population(void **state)
{
    (void)state;
    check_maglev(NULL, 65537, 12);
    /* A requested size that is not prime is rounded up to a prime. */
    hs_place_opts opts = {.table_size = 1000};
    check_maglev(&opts, 1009, 5);
}

static void test_maglev_limits(void **state)
{
    (void)state;
    const hs_place_info *info = hs_place_method_find("maglev");
    assert_non_null(info);
    assert_int_equal(info->max_members, 65536);
    enum { TOO_MANY = 65537 };
    char(*buf)[12] = malloc(TOO_MANY * sizeof *buf);
    const char **names = malloc(TOO_MANY * sizeof *names);
    assert_non_null(buf);
    assert_non_null(names);
    for (size_t i = 0; i < TOO_MANY; i++) {
        snprintf(buf[i], sizeof buf[i], "n%zu", i);
        names[i] = buf[i];
    }
    hs_place *p;
    assert_int_equal(hs_place_new(&p, "maglev", NULL), HS_OK);
    assert_int_equal(hs_place_add_many(p, names, NULL, TOO_MANY), HS_ERANGE);
    assert_int_equal(hs_place_size(p), 0);
    hs_place_free(p);
    /* A table smaller than the membership is refused, and what was there
     * still answers. */
    hs_place_opts tiny = {.table_size = 3};
    assert_int_equal(hs_place_new(&p, "maglev", &tiny), HS_OK);
    assert_int_equal(hs_place_add_many(p, names, NULL, 3), HS_OK);
    assert_int_equal(hs_place_add(p, "n3", 1), HS_ERANGE);
    assert_int_equal(hs_place_size(p), 3);
    assert_non_null(owner_name(p, 99));
    hs_place_free(p);
    hs_place_opts huge = {.table_size = (size_t)1 << 40};
    assert_int_equal(hs_place_new(&p, "maglev", &huge), HS_ERANGE);
    free(buf);
    free(names);
}

/* A weight given in bytes must not ask the ring for billions of points:
 * refused, and the place keeps answering as before. */
static void test_ring_refuses_absurd_weights(void **state)
{
    (void)state;
    hs_place *p;
    assert_int_equal(hs_place_new(&p, "ring", NULL), HS_OK);
    assert_int_equal(hs_place_add(p, "small", 2), HS_OK);
    assert_int_equal(hs_place_add(p, "huge", 1e9), HS_ERANGE);
    assert_int_equal(hs_place_size(p), 1);
    hs_member_id id;
    assert_int_equal(hs_place_lookup(p, 12345, &id), HS_OK);
    assert_string_equal(hs_place_member_name(p, id), "small");
    assert_int_equal(hs_place_add(p, "big", 1000), HS_OK);
    hs_place_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_method_handles_one_member_and_none),
        cmocka_unit_test(test_jumpback_matches_its_definition),
        cmocka_unit_test(test_jumpback_growth_moves_keys_only_to_the_new_bucket),
        cmocka_unit_test(test_memento_without_removals_is_jumpback),
        cmocka_unit_test(test_memento_add_restores_the_last_removed_bucket),
        cmocka_unit_test(test_memento_newcomer_in_a_bucket_other_than_its_id),
        cmocka_unit_test(test_memento_churn_moves_minimally),
        cmocka_unit_test(test_ring_matches_its_definition),
        cmocka_unit_test(test_rendezvous_matches_its_definition),
        cmocka_unit_test(test_maglev_matches_the_paper_population),
        cmocka_unit_test(test_maglev_limits),
        cmocka_unit_test(test_ring_refuses_absurd_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
