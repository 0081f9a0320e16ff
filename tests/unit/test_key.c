/* test_key.c - key specs and extraction: body, topic, RFC 6901 pointers,
 * and the reasons a key cannot be found. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hashspace/error.h"
#include "jsonline.h"
#include "key.h"

static hs__key_result extract(const char *spec_text, const char *body, char *out, size_t cap)
{
    hs__key_spec spec;
    char err[256];
    assert_int_equal(hs__key_spec_parse(&spec, spec_text, err, sizeof err), HS_OK);
    hs__key_buf buf = {0};
    const char *key;
    size_t len;
    hs__key_result r = hs__key_extract(&spec, "org.topic", 9, body, strlen(body), &buf, &key, &len);
    if (r == HS__KEY_OK) {
        assert_true(len < cap);
        memcpy(out, key, len);
        out[len] = '\0';
    }
    hs__key_buf_free(&buf);
    hs__key_spec_clear(&spec);
    return r;
}

static void test_key_body_and_topic_are_slices(void **state)
{
    (void)state;
    char k[64];
    assert_int_equal(extract("body", "not json at all", k, sizeof k), HS__KEY_OK);
    assert_string_equal(k, "not json at all");
    assert_int_equal(extract("topic", "{}", k, sizeof k), HS__KEY_OK);
    assert_string_equal(k, "org.topic");
}

static void test_key_json_pointer_strings_numbers_booleans(void **state)
{
    (void)state;
    const char *body = "{\"msg_id\":\"2024-abc\",\"msg\":{\"installation_id\":12345,"
                       "\"user\":\"jdoe\",\"ratio\":0.5,\"ok\":true,\"list\":[\"x\",\"y\"],"
                       "\"a/b\":\"slash\",\"m~n\":\"tilde\"}}";
    char k[64];
    assert_int_equal(extract("json:/msg_id", body, k, sizeof k), HS__KEY_OK);
    assert_string_equal(k, "2024-abc");
    assert_int_equal(extract("json:/msg/installation_id", body, k, sizeof k), HS__KEY_OK);
    assert_string_equal(k, "12345");
    assert_int_equal(extract("json:/msg/user", body, k, sizeof k), HS__KEY_OK);
    assert_string_equal(k, "jdoe");
    assert_int_equal(extract("json:/msg/ratio", body, k, sizeof k), HS__KEY_OK);
    assert_string_equal(k, "0.5");
    assert_int_equal(extract("json:/msg/ok", body, k, sizeof k), HS__KEY_OK);
    assert_string_equal(k, "true");
    assert_int_equal(extract("json:/msg/list/1", body, k, sizeof k), HS__KEY_OK);
    assert_string_equal(k, "y");
    assert_int_equal(extract("json:/msg/a~1b", body, k, sizeof k), HS__KEY_OK);
    assert_string_equal(k, "slash");
    assert_int_equal(extract("json:/msg/m~0n", body, k, sizeof k), HS__KEY_OK);
    assert_string_equal(k, "tilde");
}

static void test_key_missing_not_scalar_and_bad_json_are_told_apart(void **state)
{
    (void)state;
    char k[64];
    const char *body = "{\"msg\":{\"user\":null,\"list\":[1,2],\"obj\":{}}}";
    assert_int_equal(extract("json:/msg/nobody", body, k, sizeof k), HS__KEY_MISSING);
    assert_int_equal(extract("json:/msg/user", body, k, sizeof k), HS__KEY_MISSING);
    assert_int_equal(extract("json:/msg/list/2", body, k, sizeof k), HS__KEY_MISSING);
    assert_int_equal(extract("json:/msg/list/01", body, k, sizeof k), HS__KEY_MISSING);
    assert_int_equal(extract("json:/msg/list/-", body, k, sizeof k), HS__KEY_MISSING);
    assert_int_equal(extract("json:/msg/user/deeper", body, k, sizeof k), HS__KEY_MISSING);
    assert_int_equal(extract("json:/msg/obj", body, k, sizeof k), HS__KEY_NOT_SCALAR);
    assert_int_equal(extract("json:/msg/list", body, k, sizeof k), HS__KEY_NOT_SCALAR);
    assert_int_equal(extract("json:/msg", "{\"msg\": tru", k, sizeof k), HS__KEY_BAD_JSON);
    assert_int_equal(extract("json:/msg", "", k, sizeof k), HS__KEY_BAD_JSON);
}

static void test_key_spec_errors_say_what_is_expected(void **state)
{
    (void)state;
    hs__key_spec spec;
    char err[256];
    assert_int_equal(hs__key_spec_parse(&spec, "bodyy", err, sizeof err), HS_EPARSE);
    assert_non_null(strstr(err, "expected body, topic or json:"));
    assert_int_equal(hs__key_spec_parse(&spec, "json:msg", err, sizeof err), HS_EPARSE);
    assert_non_null(strstr(err, "starts with '/'"));
    assert_int_equal(hs__key_spec_parse(&spec, "json:/a~2", err, sizeof err), HS_EPARSE);
    assert_non_null(strstr(err, "'~'"));
}

static void test_utf8_validation(void **state)
{
    (void)state;
    assert_true(hs__utf8_valid("plain", 5));
    assert_true(hs__utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
    assert_false(hs__utf8_valid("\xff", 1));
    assert_false(hs__utf8_valid("\xc3", 1));             /* truncated */
    assert_false(hs__utf8_valid("\xc0\xaf", 2));         /* overlong */
    assert_false(hs__utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(hs__utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_body_and_topic_are_slices),
        cmocka_unit_test(test_key_json_pointer_strings_numbers_booleans),
        cmocka_unit_test(test_key_missing_not_scalar_and_bad_json_are_told_apart),
        cmocka_unit_test(test_key_spec_errors_say_what_is_expected),
        cmocka_unit_test(test_utf8_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
