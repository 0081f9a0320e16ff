/* test_coord_url.c - coordinator URLs (redis://HOST[:PORT][/DB]), member
 * name rules and the JSON form of a view: what the coordinator module
 * parses from users and from Redis. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "coord.h"

#include "hashspace/error.h"

static hs__coord_url parse_ok(const char *text)
{
    hs__coord_url u;
    char err[256] = "";
    int rc = hs__coord_url_parse(text, &u, err, sizeof err);
    if (rc != HS_OK)
        fail_msg("'%s': %s", text, err);
    return u;
}

static void parse_fails(const char *text, const char *needle)
{
    hs__coord_url u;
    char err[256] = "";
    assert_int_equal(hs__coord_url_parse(text, &u, err, sizeof err), HS_EPARSE);
    if (strstr(err, needle) == NULL)
        fail_msg("'%s': message '%s' lacks '%s'", text, err, needle);
}

static void test_coord_url_host_port_and_db(void **state)
{
    (void)state;
    hs__coord_url u = parse_ok("redis://127.0.0.1:6380/2");
    assert_string_equal(u.scheme, "redis");
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6380);
    assert_string_equal(u.path, "2");
    u = parse_ok("redis://cache-1.example.org");
    assert_string_equal(u.host, "cache-1.example.org");
    assert_int_equal(u.port, 6379); /* the backend's default */
    assert_string_equal(u.path, "");
    u = parse_ok("redis://[::1]:7000/");
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 7000);
    assert_string_equal(u.path, "");
}

static void test_coord_url_refuses_with_a_reason(void **state)
{
    (void)state;
    parse_fails("127.0.0.1:6379", "expected a URL such as redis://");
    parse_fails("etcd://127.0.0.1:2379", "unknown scheme 'etcd' (expected redis://)");
    parse_fails("redis://", "no host");
    parse_fails("redis://:6379", "no host");
    parse_fails("redis://h:0", "port must be a number from 1 to 65535");
    parse_fails("redis://h:65536", "port must be");
    parse_fails("redis://h:99999999999999999999", "port must be");
    parse_fails("redis://h:", "port must be");
    parse_fails("redis://h:12x", "unexpected 'x' after the host");
    parse_fails("redis://h/db0", "database number");
    parse_fails("redis://h/1/2", "database number");
    parse_fails("redis://user:pw@h", "credentials");
    parse_fails("redis://h h", "unexpected ' '");
    parse_fails("redis://[::1", "without ']'");
    parse_fails("redis://[zz]:1", "not an IPv6 address");
}

static void test_coord_url_formats_back_to_the_same(void **state)
{
    (void)state;
    const char *texts[] = {"redis://127.0.0.1:6379", "redis://h:1/15", "redis://[::1]:6379/3"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        hs__coord_url u = parse_ok(texts[i]), again;
        char buf[HS__COORD_URL_MAX];
        hs__coord_url_format(&u, buf, sizeof buf);
        assert_string_equal(buf, texts[i]);
        again = parse_ok(buf);
        assert_memory_equal(&u, &again, sizeof u);
    }
}

static void test_coord_open_checks_the_cluster_name(void **state)
{
    (void)state;
    hs__coord *c;
    char err[256];
    assert_int_equal(hs__coord_open(&c, "redis://h", "prod-eu", err, sizeof err), HS_OK);
    assert_string_equal(c->cluster, "prod-eu");
    hs__coord_close(c); /* never connected: no I/O */
    assert_int_equal(hs__coord_open(&c, "redis://h", "a}b", err, sizeof err), HS_EINVAL);
    assert_non_null(strstr(err, "'{' or '}'"));
    assert_int_equal(hs__coord_open(&c, "redis://h", "", err, sizeof err), HS_EINVAL);
    assert_int_equal(hs__coord_open(&c, "nope", "x", err, sizeof err), HS_EPARSE);
}

static void test_coord_name_rules(void **state)
{
    (void)state;
    assert_true(hs__coord_name_valid("hub-a"));
    assert_true(hs__coord_name_valid("h.1:x_y"));
    assert_false(hs__coord_name_valid(""));
    assert_false(hs__coord_name_valid("a b"));
    assert_false(hs__coord_name_valid("a,b"));
    assert_false(hs__coord_name_valid("a=b"));
    assert_false(hs__coord_name_valid("caf\xc3\xa9"));
    char longname[HS_MEMBER_NAME_MAX + 2];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_false(hs__coord_name_valid(longname));
    longname[HS_MEMBER_NAME_MAX] = '\0';
    assert_true(hs__coord_name_valid(longname));
}

static void test_coord_view_json_round_trip_sorts_and_checks(void **state)
{
    (void)state;
    hs_view_member members[] = {{"b\"q", 2.5}, {"a\\z", 0.1}};
    hs__coord_view v = {.epoch = 7,
                        .effective_from_ns = 1700000000123456000ull,
                        .created_ns = 1700000000000001000ull,
                        .n = 2,
                        .members = members};
    char *json = hs__coord_view_json(&v);
    assert_non_null(json);
    hs__coord_view back;
    char err[256];
    assert_int_equal(hs__coord_view_parse(json, strlen(json), &back, err, sizeof err), HS_OK);
    assert_int_equal(back.epoch, 7);
    assert_int_equal(back.effective_from_ns, 1700000000123456000ull); /* exact: int64 */
    assert_int_equal(back.n, 2);
    assert_string_equal(back.members[0].name, "a\\z"); /* sorted */
    assert_true(back.members[0].weight == 0.1);
    assert_string_equal(back.members[1].name, "b\"q");
    hs__coord_view_clear(&back);
    free(json);
    const char *bad[] = {
        "{}",
        "not json",
        "{\"epoch\":0,\"effective_from\":1,\"created\":1,\"members\":[{\"name\":\"a\",\"weight\":1}"
        "]}",
        "{\"epoch\":1,\"effective_from\":1,\"created\":1,\"members\":[]}",
        "{\"epoch\":1,\"effective_from\":1,\"created\":1,\"members\":[{\"name\":\"a\",\"weight\":0}"
        "]}",
        "{\"epoch\":1,\"effective_from\":1,\"created\":1,\"members\":[{\"name\":\"a\",\"weight\":1}"
        ","
        "{\"name\":\"a\",\"weight\":2}]}",
        "{\"epoch\":1,\"effective_from\":-5,\"created\":1,\"members\":[{\"name\":\"a\",\"weight\":"
        "1}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(hs__coord_view_parse(bad[i], strlen(bad[i]), &back, err, sizeof err),
                         HS_EPARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_coord_url_host_port_and_db),
        cmocka_unit_test(test_coord_url_refuses_with_a_reason),
        cmocka_unit_test(test_coord_url_formats_back_to_the_same),
        cmocka_unit_test(test_coord_open_checks_the_cluster_name),
        cmocka_unit_test(test_coord_name_rules),
        cmocka_unit_test(test_coord_view_json_round_trip_sorts_and_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
