/* test_view.c - views: canonical order, ownership, member-list parsing. */
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

static void test_view_sorts_members_by_name(void **state)
{
    (void)state;
    hs_view_member m[] = {{"hub-c", 1}, {"hub-a", 1}, {"hub-b", 2}};
    hs_view *v;
    assert_int_equal(hs_view_new(&v, 7, "jump", NULL, NULL, m, 3), HS_OK);
    assert_int_equal(hs_view_epoch(v), 7);
    assert_int_equal(hs_view_size(v), 3);
    assert_string_equal(hs_view_member_name(v, 0), "hub-a");
    assert_string_equal(hs_view_member_name(v, 1), "hub-b");
    assert_string_equal(hs_view_member_name(v, 2), "hub-c");
    assert_true(hs_view_member_weight(v, 1) == 2.0);
    size_t i;
    assert_int_equal(hs_view_index(v, "hub-c", &i), HS_OK);
    assert_int_equal(i, 2);
    assert_int_equal(hs_view_index(v, "hub-z", &i), HS_ENOTFOUND);
    hs_view_release(v);
}

static void test_view_same_members_any_order_same_owners(void **state)
{
    (void)state;
    hs_view_member a[] = {{"x", 1}, {"y", 1}, {"z", 1}, {"w", 1}};
    hs_view_member b[] = {{"z", 1}, {"w", 1}, {"x", 1}, {"y", 1}};
    hs_view *va, *vb;
    assert_int_equal(hs_view_new(&va, 1, "jump", NULL, NULL, a, 4), HS_OK);
    assert_int_equal(hs_view_new(&vb, 1, "jump", NULL, NULL, b, 4), HS_OK);
    char key[32];
    for (int k = 0; k < 10000; k++) {
        int len = snprintf(key, sizeof key, "key-%d", k);
        size_t oa, ob;
        assert_int_equal(hs_view_owner(va, key, (size_t)len, &oa), HS_OK);
        assert_int_equal(hs_view_owner(vb, key, (size_t)len, &ob), HS_OK);
        assert_int_equal(oa, ob);
    }
    hs_view_release(va);
    hs_view_release(vb);
}

static void test_view_owns_exactly_one_member(void **state)
{
    (void)state;
    hs_view_member m[] = {{"a", 1}, {"b", 1}, {"c", 1}};
    hs_view *v;
    assert_int_equal(hs_view_new(&v, 1, "modulo", NULL, NULL, m, 3), HS_OK);
    for (int k = 0; k < 1000; k++) {
        char key[16];
        int len = snprintf(key, sizeof key, "%d", k);
        int owners = 0;
        for (size_t self = 0; self < 3; self++) {
            bool mine;
            assert_int_equal(hs_view_owns(v, self, key, (size_t)len, &mine), HS_OK);
            owners += mine;
        }
        assert_int_equal(owners, 1);
    }
    hs_view_release(v);
}

static void test_view_rejects_duplicates_and_empty(void **state)
{
    (void)state;
    hs_view_member m[] = {{"a", 1}, {"b", 1}, {"a", 1}};
    hs_view *v;
    assert_int_equal(hs_view_new(&v, 1, "jump", NULL, NULL, m, 3), HS_EEXISTS);
    assert_int_equal(hs_view_new(&v, 1, "jump", NULL, NULL, m, 0), HS_EEMPTY);
    assert_int_equal(hs_view_new(&v, 1, "jumpp", NULL, NULL, m, 2), HS_EUNKNOWN_PLACEMENT);
    hs_view_member bad[] = {{"a", 0}};
    assert_int_equal(hs_view_new(&v, 1, "jump", NULL, NULL, bad, 1), HS_EWEIGHT);
}

static void test_members_parse_weights_and_errors(void **state)
{
    (void)state;
    hs_view_member *m;
    size_t n, at;
    char *storage;
    assert_int_equal(hs_members_parse("a,b=2.5,c", &m, &n, &storage, &at), HS_OK);
    assert_int_equal(n, 3);
    assert_string_equal(m[1].name, "b");
    assert_true(m[1].weight == 2.5);
    assert_true(m[2].weight == 1.0);
    free(m);
    free(storage);
    assert_int_equal(hs_members_parse(" a , b = 2 ,\tc ", &m, &n, &storage, &at), HS_OK);
    assert_int_equal(n, 3);
    assert_string_equal(m[0].name, "a");
    assert_string_equal(m[1].name, "b");
    assert_true(m[1].weight == 2.0);
    assert_string_equal(m[2].name, "c");
    free(m);
    free(storage);
    assert_int_equal(hs_members_parse("", &m, &n, &storage, &at), HS_EEMPTY);
    assert_int_equal(hs_members_parse("  ", &m, &n, &storage, &at), HS_EEMPTY);
    assert_int_equal(hs_members_parse("a, ,c", &m, &n, &storage, &at), HS_ENAME);
    assert_int_equal(hs_members_parse("a,b=0", &m, &n, &storage, &at), HS_EWEIGHT);
    assert_int_equal(at, 1);
    assert_int_equal(hs_members_parse("a,b=-1", &m, &n, &storage, &at), HS_EWEIGHT);
    assert_int_equal(hs_members_parse("a,b=x", &m, &n, &storage, &at), HS_EWEIGHT);
    assert_int_equal(hs_members_parse("a,,c", &m, &n, &storage, &at), HS_ENAME);
    assert_int_equal(at, 1);
}

static void test_view_retain_release_counts(void **state)
{
    (void)state;
    hs_view_member m[] = {{"a", 1}};
    hs_view *v;
    assert_int_equal(hs_view_new(&v, 1, "jump", NULL, NULL, m, 1), HS_OK);
    assert_ptr_equal(hs_view_retain(v), v);
    hs_view_release(v);
    /* Still alive: one reference left. */
    size_t owner;
    assert_int_equal(hs_view_owner(v, "k", 1, &owner), HS_OK);
    assert_int_equal(owner, 0);
    hs_view_release(v);
    hs_view_release(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_sorts_members_by_name),
        cmocka_unit_test(test_view_same_members_any_order_same_owners),
        cmocka_unit_test(test_view_owns_exactly_one_member),
        cmocka_unit_test(test_view_rejects_duplicates_and_empty),
        cmocka_unit_test(test_members_parse_weights_and_errors),
        cmocka_unit_test(test_view_retain_release_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
