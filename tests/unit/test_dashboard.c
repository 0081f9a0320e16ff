/* test_dashboard.c - the dashboard's embedded files and /view's shares. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "dashboard.h"
#include "hashspace/error.h"

static void test_assets_include_the_page_and_uplot(void **state)
{
    (void)state;
    const hs__asset *page = hs__asset_find("/");
    assert_non_null(page);
    assert_string_equal(page->type, "text/html; charset=utf-8");
    assert_non_null(memmem(page->data, page->len, "dashboard.js", 12));
    const hs__asset *js = hs__asset_find("/vendor/uplot/uPlot.iife.min.js");
    assert_non_null(js);
    assert_true(js->len > 10000);
    assert_non_null(memmem(js->data, js->len, "uPlot", 5));
    assert_non_null(hs__asset_find("/vendor/uplot/LICENSE"));
    assert_null(hs__asset_find("/nothing"));
    assert_null(hs__asset_find("/vendor/uplot/"));
    for (size_t i = 0; i < hs__assets_count; i++) {
        assert_int_equal(hs__assets[i].etag[0], '"');
        assert_int_equal(strlen(hs__assets[i].etag), 18); /* 16 hex digits, quoted */
    }
}

static json_t *view_json(const char *placement, const hs_view_member *m, size_t n)
{
    hs_view *v;
    assert_int_equal(hs_view_new(&v, 3, placement, NULL, NULL, m, n), HS_OK);
    size_t len = 0;
    char *text = hs__dashboard_view_json(v, "b", &len);
    hs_view_release(v);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(j);
    return j;
}

/* Shares follow the weights (within a point at 65,536 samples; jump has
 * none, so equal ones), sum to 1, and the arcs name every member and only
 * members. */
static void check_shares(const char *placement, bool weighted)
{
    hs_view_member m[] = {{"a", 1}, {"b", weighted ? 2 : 1}, {"c", 1}};
    json_t *j = view_json(placement, m, 3);
    assert_int_equal(json_integer_value(json_object_get(j, "epoch")), 3);
    assert_string_equal(json_string_value(json_object_get(j, "placement")), placement);
    assert_string_equal(json_string_value(json_object_get(j, "self")), "b");
    json_t *members = json_object_get(j, "members");
    assert_int_equal(json_array_size(members), 3);
    double want[] = {0.25, 0.5, 0.25}, sum = 0;
    if (!weighted)
        want[0] = want[1] = want[2] = 1.0 / 3;
    for (size_t i = 0; i < 3; i++) {
        double share = json_real_value(json_object_get(json_array_get(members, i), "share"));
        assert_true(share > want[i] - 0.01 && share < want[i] + 0.01);
        sum += share;
    }
    assert_true(sum > 0.9999 && sum < 1.0001);
    json_t *arcs = json_object_get(j, "arcs");
    assert_int_equal(json_array_size(arcs), HS__DASHBOARD_ARCS);
    size_t seen[3] = {0};
    for (size_t i = 0; i < json_array_size(arcs); i++) {
        json_int_t owner = json_integer_value(json_array_get(arcs, i));
        assert_true(owner >= 0 && owner < 3);
        seen[owner]++;
    }
    assert_true(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
    json_decref(j);
}

static void test_view_shares_even_jump(void **state)
{
    (void)state;
    check_shares("jump", false);
}

static void test_view_shares_follow_weights_rendezvous(void **state)
{
    (void)state;
    check_shares("rendezvous", true);
}

/* Modulo with n = 4: evenly spaced sample hashes would all land on one
 * member; the sampled shares must still be a quarter each. */
static void test_view_shares_modulo_power_of_two(void **state)
{
    (void)state;
    hs_view_member m[] = {{"a", 1}, {"b", 1}, {"c", 1}, {"d", 1}};
    json_t *j = view_json("modulo", m, 4);
    json_t *members = json_object_get(j, "members");
    for (size_t i = 0; i < 4; i++) {
        double share = json_real_value(json_object_get(json_array_get(members, i), "share"));
        assert_true(share > 0.24 && share < 0.26);
    }
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_assets_include_the_page_and_uplot),
        cmocka_unit_test(test_view_shares_even_jump),
        cmocka_unit_test(test_view_shares_follow_weights_rendezvous),
        cmocka_unit_test(test_view_shares_modulo_power_of_two),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
