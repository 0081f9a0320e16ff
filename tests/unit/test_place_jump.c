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
        cmocka_unit_test(test_jump_matches_jumper_slots),
        cmocka_unit_test(test_jump_replicas_are_distinct_and_start_with_owner),
        cmocka_unit_test(test_modulo_is_hash_mod_n),
        cmocka_unit_test(test_place_member_errors),
        cmocka_unit_test(test_place_remove_middle_then_readd_keeps_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
