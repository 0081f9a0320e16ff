/* test_view_batch.c - hs_view_owner_many: the batch form of hs_view_owner
 * used by the Python binding gives the same owners, and stops at a bad key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hashspace/error.h"
#include "hashspace/view.h"

enum { N_KEYS = 2000 };

/* Lay keys "key-0", "key-1", ... end to end, with an empty key every 97th
 * so that zero lengths are exercised. */
static char *pack_keys(size_t *lens, size_t n)
{
    char *buf = malloc(n * 16);
    assert_non_null(buf);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        int len = i % 97 == 5 ? 0 : snprintf(buf + off, 16, "key-%zu", i);
        lens[i] = (size_t)len;
        off += (size_t)len;
    }
    return buf;
}

static void check_batch_matches_single(const char *placement, const char *hash_name)
{
    /* host:port names, so that the memcached-compatible methods accept them. */
    hs_view_member m[] = {{"10.0.0.4:11211", 1},
                          {"10.0.0.1:11211", 1},
                          {"10.0.0.3:11211", 3},
                          {"10.0.0.2:11211", 1},
                          {"10.0.0.5:11211", 2}};
    hs_hasher h;
    hs_hash_id id;
    assert_int_equal(hs_hash_find(hash_name, &id), HS_OK);
    assert_int_equal(hs_hasher_init(&h, id), HS_OK);
    hs_view *v;
    assert_int_equal(hs_view_new(&v, 1, placement, NULL, &h, m, 5), HS_OK);
    size_t *lens = malloc(N_KEYS * sizeof *lens);
    size_t *owners = malloc(N_KEYS * sizeof *owners);
    assert_non_null(lens);
    assert_non_null(owners);
    char *keys = pack_keys(lens, N_KEYS);
    size_t done = 0;
    assert_int_equal(hs_view_owner_many(v, keys, lens, N_KEYS, owners, &done), HS_OK);
    assert_int_equal(done, N_KEYS);
    const char *key = keys;
    for (size_t i = 0; i < N_KEYS; i++) {
        size_t one;
        assert_int_equal(hs_view_owner(v, key, lens[i], &one), HS_OK);
        assert_int_equal(owners[i], one);
        key += lens[i];
    }
    free(keys);
    free(lens);
    free(owners);
    hs_view_release(v);
}

static void test_view_owner_many_matches_owner_for_every_method(void **state)
{
    (void)state;
    for (size_t i = 0; i < hs_place_method_count(); i++) {
        const hs_place_info *info = hs_place_method_at(i);
        check_batch_matches_single(info->name, "xxh3");
        check_batch_matches_single(info->name, "md5");
    }
}

static void test_view_owner_many_stops_at_bad_key(void **state)
{
    (void)state;
    hs_view_member m[] = {{"a", 1}, {"b", 1}, {"c", 1}};
    hs_hasher h;
    assert_int_equal(hs_hasher_init(&h, HS_HASH_INT), HS_OK);
    hs_view *v;
    assert_int_equal(hs_view_new(&v, 1, "jump", NULL, &h, m, 3), HS_OK);
    const char keys[] = "17"
                        "42"
                        "x9"
                        "7";
    size_t lens[] = {2, 2, 2, 1};
    size_t owners[4] = {99, 99, 99, 99};
    size_t done = 99;
    assert_int_equal(hs_view_owner_many(v, keys, lens, 4, owners, &done), HS_EKEY);
    assert_int_equal(done, 2);
    size_t one;
    assert_int_equal(hs_view_owner(v, "42", 2, &one), HS_OK);
    assert_int_equal(owners[1], one);
    assert_int_equal(owners[3], 99); /* never reached */
    /* done may be NULL. */
    assert_int_equal(hs_view_owner_many(v, keys, lens, 4, owners, NULL), HS_EKEY);
    hs_view_release(v);
}

static void test_view_owner_many_of_nothing_is_ok(void **state)
{
    (void)state;
    hs_view_member m[] = {{"a", 1}};
    hs_view *v;
    assert_int_equal(hs_view_new(&v, 1, "jump", NULL, NULL, m, 1), HS_OK);
    size_t done = 99;
    assert_int_equal(hs_view_owner_many(v, NULL, NULL, 0, NULL, &done), HS_OK);
    assert_int_equal(done, 0);
    hs_view_release(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_owner_many_matches_owner_for_every_method),
        cmocka_unit_test(test_view_owner_many_stops_at_bad_key),
        cmocka_unit_test(test_view_owner_many_of_nothing_is_ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
