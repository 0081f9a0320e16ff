/* test_key.c - key specs and extraction: body, topic, RFC 6901 pointers,
 * the reasons a key cannot be found, and the scanner against the jansson
 * DOM path it replaced (hs__key_extract_dom) on crafted and mutated bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

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

/* Scanner and DOM on one body; returns the scanner's result. Where jansson
 * refuses a number it cannot hold (the one place the scanner departs), the
 * DOM is asked again with integers as reals, and the two must agree on
 * whether there is a key at all. */
static hs__key_result differ(const hs__key_spec *spec, const char *body, size_t len)
{
    hs__key_buf sbuf = {0}, dbuf = {0};
    const char *skey = NULL, *dkey = NULL;
    size_t slen = 0, dlen = 0;
    int code = -1;
    /* The body as a frame: no NUL after it. */
    char *frame = malloc(len > 0 ? len : 1);
    assert_non_null(frame);
    memcpy(frame, body, len);
    hs__key_result sr = hs__key_extract(spec, "t", 1, frame, len, &sbuf, &skey, &slen);
    hs__key_result dr = hs__key_extract_dom(spec, frame, len, JSON_DECODE_ANY | JSON_ALLOW_NUL,
                                            &dbuf, &dkey, &dlen, &code);
    if (dr == HS__KEY_BAD_JSON && code == json_error_numeric_overflow) {
        dr = hs__key_extract_dom(spec, frame, len,
                                 JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &dbuf,
                                 &dkey, &dlen, &code);
        if (dr != HS__KEY_BAD_JSON || code != json_error_numeric_overflow) {
            if (sr != dr)
                fail_msg("scanner %d, DOM (ints as reals) %d on '%.*s'", sr, dr, (int)len, body);
        }
    } else {
        if (sr != dr)
            fail_msg("scanner %d, DOM %d on '%.*s'", sr, dr, (int)len, body);
        if (sr == HS__KEY_OK && (slen != dlen || memcmp(skey, dkey, slen) != 0))
            fail_msg("scanner '%.*s', DOM '%.*s' on '%.*s'", (int)slen, skey, (int)dlen, dkey,
                     (int)len, body);
    }
    /* the key is in buf (NUL-terminated) or a slice of the frame */
    if (sr == HS__KEY_OK)
        assert_true((skey == sbuf.data && slen < sbuf.cap && skey[slen] == '\0') ||
                    (skey >= frame && skey + slen <= frame + len));
    free(frame);
    hs__key_buf_free(&sbuf);
    hs__key_buf_free(&dbuf);
    return sr;
}

static hs__key_result differ_text(const char *pointer, const char *body)
{
    hs__key_spec spec;
    char err[256];
    assert_int_equal(hs__key_spec_parse(&spec, pointer, err, sizeof err), HS_OK);
    hs__key_result r = differ(&spec, body, strlen(body));
    hs__key_spec_clear(&spec);
    return r;
}

static const char fedmsg[] =
    "{\"i\":1,\"msg\":{\"agent\":\"fas\",\"user\":\"user-4711\",\"fields\":[\"ircnick\","
    "\"timezone\"],\"changed\":true,\"ratio\":0.25,\"n\":-12},\"msg_id\":\"2024-5f1c2d3e-1a2b-"
    "4c5d-8e9f-0123456789ab\",\"timestamp\":1700000000.5,\"topic\":\"org.fedoraproject.prod.fas."
    "user.update\",\"username\":\"apache\"}";

static void test_key_scanner_matches_dom_on_crafted_bodies(void **state)
{
    (void)state;
    static const struct {
        const char *pointer, *body;
    } cases[] = {
        {"json:/msg/user", fedmsg},
        {"json:/msg/fields/1", fedmsg},
        {"json:/msg/ratio", fedmsg},
        {"json:/timestamp", fedmsg},
        {"json:/msg/n", fedmsg},
        {"json:/msg/changed", fedmsg},
        {"json:/msg", fedmsg},
        {"json:/msg/nobody", fedmsg},
        /* escapes, decoded */
        {"json:/a", "{\"a\":\"q\\\"b\\\\s\\/b\\bf\\fn\\nr\\rt\\t\"}"},
        {"json:/a", "{\"a\":\"\\u00e9\\u20AC\\ud83d\\ude00\\u0041\"}"},
        {"json:/a", "{\"a\":\"nul\\u0000inside\"}"},
        {"json:/a", "{\"a\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}"},
        {"json:/\xc3\xa9", "{\"\\u00e9\":\"escaped key\"}"},
        {"json:/a\"b", "{\"a\\\"b\":1}"},
        {"json:/a~1b", "{\"a/b\":1,\"a\\/b\":2}"},
        {"json:/m~0n", "{\"m~n\":\"tilde\"}"},
        {"json:/", "{\"\":\"empty key\"}"},
        {"json:/a/", "{\"a\":{\"\":3}}"},
        /* invalid escapes and surrogates: refused */
        {"json:/a", "{\"a\":\"\\ud800\"}"},
        {"json:/a", "{\"a\":\"\\udc00\"}"},
        {"json:/a", "{\"a\":\"\\ud800\\u0041\"}"},
        {"json:/a", "{\"a\":\"\\ud800\\n\"}"},
        {"json:/a", "{\"a\":\"\\u12\"}"},
        {"json:/a", "{\"a\":\"\\u12g4\"}"},
        {"json:/a", "{\"a\":\"\\x41\"}"},
        {"json:/a", "{\"a\":\"\\'\"}"},
        {"json:/a", "{\"a\":1,\"b\":\"\\ud800\"}"},
        {"json:/a", "{\"a\":1,\"b\\u0000\":2}"},
        {"json:/a", "{\"a\":\"tab\there\"}"},
        {"json:/a", "{\"a\":\"\xff\"}"},
        {"json:/a", "{\"a\":\"\xc0\xaf\"}"},
        {"json:/a", "{\"a\":\"\xed\xa0\x80\"}"},
        {"json:/a", "{\"a\":\"\xf4\x90\x80\x80\"}"},
        {"json:/a", "{\"a\":\"\xe2\x82\"}"},
        {"json:/a", "{\"a\":\"x\x7fy\"}"},
        /* numbers */
        {"json:/a", "{\"a\":-0}"},
        {"json:/a", "{\"a\":0}"},
        {"json:/a", "{\"a\":-0.0}"},
        {"json:/a", "{\"a\":0.1}"},
        {"json:/a", "{\"a\":1e300}"},
        {"json:/a", "{\"a\":1E-5}"},
        {"json:/a", "{\"a\":2.5e+3}"},
        {"json:/a", "{\"a\":1e16}"},
        {"json:/a", "{\"a\":1e17}"},
        {"json:/a", "{\"a\":1e-400}"},
        {"json:/a", "{\"a\":5e-324}"},
        {"json:/a", "{\"a\":123456789.123456789}"},
        {"json:/a", "{\"a\":9223372036854775807}"},
        {"json:/a", "{\"a\":-9223372036854775808}"},
        {"json:/a", "{\"a\":01}"},
        {"json:/a", "{\"a\":-}"},
        {"json:/a", "{\"a\":1.}"},
        {"json:/a", "{\"a\":.5}"},
        {"json:/a", "{\"a\":1e}"},
        {"json:/a", "{\"a\":1e+}"},
        {"json:/a", "{\"a\":+1}"},
        {"json:/a", "{\"a\":0x10}"},
        {"json:/a", "{\"a\":1.5.2}"},
        {"json:/a", "{\"a\":Infinity}"},
        {"json:/a", "{\"a\":NaN}"},
        /* literals */
        {"json:/a", "{\"a\":false}"},
        {"json:/a", "{\"a\":null}"},
        {"json:/a", "{\"a\":tru}"},
        {"json:/a", "{\"a\":truex}"},
        {"json:/a", "{\"a\":True}"},
        {"json:/a", "{\"a\":nul}"},
        /* structure: the key comes early, the rest must still be JSON */
        {"json:/a", "{\"a\":1,}"},
        {"json:/a", "{\"a\":1"},
        {"json:/a", "{\"a\":1}}"},
        {"json:/a", "{\"a\":1} x"},
        {"json:/a", "{\"a\":1}{}"},
        {"json:/a", "{\"a\":1} \n\t\r"},
        {"json:/a", " \n{\"a\" : 1 , \"b\" : [ ] }"},
        {"json:/a", "{\"a\":1 \"b\":2}"},
        {"json:/a", "{\"a\" 1}"},
        {"json:/a", "{\"a\":1,\"b\"}"},
        {"json:/a", "{\"a\":1,\"b\":[1 2]}"},
        {"json:/a", "{\"a\":1,\"b\":[1,,2]}"},
        {"json:/a", "{\"a\":1,\"b\":[1,]}"},
        {"json:/a", "{\"a\":1,\"b\":{1:2}}"},
        {"json:/a", "{\"a\":1,\"b\":{'c':2}}"},
        {"json:/a", "{a:1}"},
        {"json:/a", "{\"a\":1,\"b\":\"unterminated}"},
        {"json:/a", "{\"a\":1}\xef\xbb\xbf"},
        {"json:/a", "\xef\xbb\xbf{\"a\":1}"},
        {"json:/a", "{\"a\":1}\0"},
        {"json:/a", "{\"a\"\f:1}"},
        {"json:/a", ""},
        {"json:/a", "   "},
        {"json:/a", "{"},
        {"json:/a", "}"},
        /* repeated keys: the last member counts, with what lies below it */
        {"json:/a", "{\"a\":1,\"a\":2}"},
        {"json:/a", "{\"a\":1,\"a\":null}"},
        {"json:/a", "{\"a\":null,\"a\":\"x\"}"},
        {"json:/a", "{\"a\":{},\"a\":\"x\"}"},
        {"json:/a", "{\"a\":\"x\",\"a\":[]}"},
        {"json:/a/b", "{\"a\":{\"b\":1},\"a\":{\"c\":2}}"},
        {"json:/a/b", "{\"a\":{\"b\":1},\"a\":5}"},
        {"json:/a/b", "{\"a\":5,\"a\":{\"b\":1}}"},
        {"json:/a/b", "{\"a\":{\"b\":1,\"b\":2}}"},
        {"json:/a/b", "{\"a\":{\"b\":1},\"x\":{\"a\":{\"b\":2}}}"},
        {"json:/a", "{\"\\u0061\":1,\"a\":2,\"\\u0061\":3}"},
        /* arrays and other roots */
        {"json:/0", "[\"first\",\"second\"]"},
        {"json:/1/b", "[{\"b\":1},{\"b\":2}]"},
        {"json:/a/1/0", "{\"a\":[[1],[2,3]]}"},
        {"json:/a/2", "{\"a\":[1,2]}"},
        {"json:/a/01", "{\"a\":[1,2]}"},
        {"json:/a/-", "{\"a\":[1,2]}"},
        {"json:/a/1e0", "{\"a\":[1,2]}"},
        {"json:/a/18446744073709551617", "{\"a\":[1,2]}"},
        {"json:/0", "{\"0\":\"object, not array\"}"},
        {"json:/a", "\"a string root\""},
        {"json:/a", "42"},
        {"json:/a", "null"},
        {"json:/a", "[]"},
        {"json:/a/b", "{\"a\":\"s\"}"},
        {"json:/a/b", "{\"a\":null}"},
        {"json:/a/0", "{\"a\":\"s\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        differ_text(cases[i].pointer, cases[i].body);
    /* A body with a NUL byte after valid JSON, measured by its length. */
    hs__key_spec spec;
    char err[256];
    assert_int_equal(hs__key_spec_parse(&spec, "json:/a", err, sizeof err), HS_OK);
    assert_int_equal(differ(&spec, "{\"a\":1}\0", 8), HS__KEY_BAD_JSON);
    /* jansson loses a NUL right after a number or a literal (key.c). */
    assert_int_equal(differ(&spec, "{\"a\":1\0}", 8), HS__KEY_OK);
    assert_int_equal(differ(&spec, "{\"a\":true\0,\"b\":null\0}", 21), HS__KEY_OK);
    assert_int_equal(differ(&spec, "{\"a\":1\0\0}", 9), HS__KEY_BAD_JSON);
    assert_int_equal(differ(&spec, "{\"a\":1 \0}", 9), HS__KEY_BAD_JSON);
    assert_int_equal(differ(&spec, "{\"a\":\"s\"\0}", 10), HS__KEY_BAD_JSON);
    assert_int_equal(differ(&spec, "{\"a\":\"x\0y\"}", 11), HS__KEY_BAD_JSON);
    hs__key_spec_clear(&spec);
}

static void test_key_scanner_gives_the_values_jansson_gave(void **state)
{
    (void)state;
    char k[128];
    assert_int_equal(extract("json:/a", "{\"a\":\"\\u00e9\\ud83d\\ude00\\/\"}", k, sizeof k),
                     HS__KEY_OK);
    assert_string_equal(k, "\xc3\xa9\xf0\x9f\x98\x80/");
    assert_int_equal(extract("json:/a", "{\"a\":-0}", k, sizeof k), HS__KEY_OK);
    assert_string_equal(k, "0");
    assert_int_equal(extract("json:/a", "{\"a\":0.1}", k, sizeof k), HS__KEY_OK);
    assert_string_equal(k, "0.10000000000000001");
    assert_int_equal(extract("json:/a", "{\"a\":1e300}", k, sizeof k), HS__KEY_OK);
    assert_string_equal(k, "1.0000000000000001e300");
    assert_int_equal(extract("json:/a", "{\"a\":1E-5}", k, sizeof k), HS__KEY_OK);
    assert_string_equal(k, "1.0000000000000001e-5");
    assert_int_equal(extract("json:/a", "{\"a\":1e2}", k, sizeof k), HS__KEY_OK);
    assert_string_equal(k, "100.0");
    assert_int_equal(extract("json:/a", "{\"a\":1,\"a\":\"last\"}", k, sizeof k), HS__KEY_OK);
    assert_string_equal(k, "last");
    assert_int_equal(extract("json:/a/b", "{\"a\":{\"b\":1},\"a\":{}}", k, sizeof k),
                     HS__KEY_MISSING);
    /* Refused although the key came first. */
    assert_int_equal(extract("json:/a", "{\"a\":1} trailing", k, sizeof k), HS__KEY_BAD_JSON);
    assert_int_equal(extract("json:/a", "{\"a\":1,\"b\":\"\\ud800\"}", k, sizeof k),
                     HS__KEY_BAD_JSON);
}

/* Every prefix of a few bodies, and every byte of them replaced by bytes
 * that matter to a JSON lexer: thousands of near-valid bodies. */
static void test_key_scanner_matches_dom_on_mutated_bodies(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        fedmsg,
        "{\"a\":[1,-2.5e-3,true,false,null,{\"b\":\"\\u00e9\\ud83d\\ude00\\n\"}],\"c\":\"x\"}",
        "[{\"k\":\"v\",\"k\":{\"z\":[0]}},\"\\\"q\\\"\",1E+2]",
    };
    static const char *const pointers[] = {
        "json:/msg/user", "json:/a/5/b", "json:/0/k/z/0", "json:/c", "json:/a/1", "json:/2",
    };
    static const char subst[] = "\"\\{}[]:,0-.eE+9tfnu \n\x01\x7f\xc3\xa9\xed\xff/~";
    hs__key_spec specs[sizeof pointers / sizeof pointers[0]];
    char err[256];
    for (size_t i = 0; i < sizeof pointers / sizeof pointers[0]; i++)
        assert_int_equal(hs__key_spec_parse(&specs[i], pointers[i], err, sizeof err), HS_OK);
    size_t compared = 0;
    char body[512];
    for (size_t b = 0; b < sizeof bodies / sizeof bodies[0]; b++) {
        size_t len = strlen(bodies[b]);
        assert_true(len < sizeof body);
        for (size_t i = 0; i < sizeof pointers / sizeof pointers[0]; i++) {
            for (size_t cut = 0; cut <= len; cut++, compared++)
                differ(&specs[i], bodies[b], cut);
            for (size_t at = 0; at < len; at++) {
                for (size_t c = 0; c < sizeof subst - 1; c++, compared++) {
                    memcpy(body, bodies[b], len);
                    body[at] = subst[c];
                    differ(&specs[i], body, len);
                }
            }
        }
    }
    assert_true(compared > 50000);
    for (size_t i = 0; i < sizeof pointers / sizeof pointers[0]; i++)
        hs__key_spec_clear(&specs[i]);
}

/* hs__key_extract_many over specs[0..n) must give each target what
 * hs__key_extract gives for its spec alone: result, bytes, and for body and
 * topic keys the same slice. */
static void many_equals_single(hs__key_spec *const *specs, size_t n, const char *body, size_t len)
{
    hs__key_buf bufs[HS__KEY_TARGETS_MAX] = {{0}};
    hs__key_target t[HS__KEY_TARGETS_MAX];
    assert_true(n <= HS__KEY_TARGETS_MAX);
    for (size_t i = 0; i < n; i++)
        t[i] = (hs__key_target){.spec = specs[i], .buf = &bufs[i]};
    hs__key_extract_many(t, n, "org.topic", 9, body, len);
    hs__key_buf one = {0};
    for (size_t i = 0; i < n; i++) {
        const char *key = NULL;
        size_t klen = 0;
        hs__key_result r = hs__key_extract(specs[i], "org.topic", 9, body, len, &one, &key, &klen);
        if (r != t[i].result)
            fail_msg("target %zu of %zu: many %d, single %d, body '%.*s'", i, n, t[i].result, r,
                     (int)len, body);
        if (r != HS__KEY_OK)
            continue;
        assert_int_equal(t[i].len, klen);
        assert_memory_equal(t[i].key, key, klen);
        if (specs[i]->kind != HS__KEY_JSON) /* the same slice of topic or body */
            assert_ptr_equal(t[i].key, key);
        else if (t[i].key != bufs[i].data) /* else a slice of the body */
            assert_true(t[i].key >= body && t[i].key + t[i].len <= body + len);
    }
    hs__key_buf_free(&one);
    for (size_t i = 0; i < n; i++)
        hs__key_buf_free(&bufs[i]);
}

/* Targets that share prefixes, end inside one another, index arrays, and
 * are not JSON at all, in every window of up to HS__KEY_TARGETS_MAX. */
static const char *const many_pointers[] = {
    "json:/a", "json:/a/b", "json:/a/c", "body",    "json:/a/b/0",    "json:/0/k", "json:/msg/user",
    "topic",   "json:/a/1", "json:/",    "json:/i", "json:/username", "json:/a/c", /* twice */
};
#define NMANY (sizeof many_pointers / sizeof many_pointers[0])

static void many_equals_single_all_windows(hs__key_spec *specs, const char *body, size_t len)
{
    hs__key_spec *window[HS__KEY_TARGETS_MAX];
    for (size_t n = 1; n <= HS__KEY_TARGETS_MAX; n++)
        for (size_t first = 0; first<NMANY; first += n> 2 ? n / 2 : 1) {
            for (size_t i = 0; i < n; i++)
                window[i] = &specs[(first + i) % NMANY];
            many_equals_single(window, n, body, len);
        }
}

static void parse_many(hs__key_spec *specs)
{
    char err[256];
    for (size_t i = 0; i < NMANY; i++)
        assert_int_equal(hs__key_spec_parse(&specs[i], many_pointers[i], err, sizeof err), HS_OK);
}

static void test_key_extract_many_equals_each_single_extract(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        fedmsg,
        "{\"a\":{\"b\":[7,8],\"c\":\"x\"}}",
        /* a repeated key resets what was found under it, for every target */
        "{\"a\":{\"b\":[7,8],\"c\":\"x\"},\"a\":{\"c\":\"y\"}}",
        "{\"a\":{\"b\":[7],\"b\":\"s\",\"c\":1,\"c\":null}}",
        "{\"a\":{\"b\":{\"0\":1}},\"a\":[0,\"one\"]}",
        "{\"a\":{\"b\":[{\"x\":1}]},\"\":\"empty\",\"a\":{\"b\":[true],\"c\":{}}}",
        "[{\"k\":\"v\"},{\"k\":1}]",
        "[{\"k\":\"v\",\"k\":{\"z\":[0]}},\"q\"]",
        "{\"i\":42,\"username\":\"pub\\u00e9\",\"msg\":{\"user\":\"u\"},\"i\":43}",
        "{\"a\":1} trailing",
        "{\"a\":{\"b\":[1]},\"z\":\"\\ud800\"}",
        "\"just a string\"",
        "",
        "{\"a\":{\"b\":[0,1],\"c\":\"c\"},\"i\":-0,\"username\":1e2}",
    };
    hs__key_spec specs[NMANY];
    parse_many(specs);
    for (size_t b = 0; b < sizeof bodies / sizeof bodies[0]; b++)
        many_equals_single_all_windows(specs, bodies[b], strlen(bodies[b]));
    /* Every prefix and single-byte change of a body with shared paths. */
    const char *base = bodies[5];
    size_t len = strlen(base);
    static const char subst[] = "\"\\{}[]:,0-.ea1b \x01\xc3";
    char body[256];
    for (size_t cut = 0; cut <= len; cut++)
        many_equals_single_all_windows(specs, base, cut);
    for (size_t at = 0; at < len; at++)
        for (size_t c = 0; c < sizeof subst - 1; c++) {
            memcpy(body, base, len);
            body[at] = subst[c];
            many_equals_single_all_windows(specs, body, len);
        }
    for (size_t i = 0; i < NMANY; i++)
        hs__key_spec_clear(&specs[i]);
}

/* A random JSON value over few member names (so that paths are shared and
 * keys repeat), sometimes broken by one random byte. */
static size_t random_value(char *out, size_t cap, size_t depth, unsigned *seed)
{
    static const char *const names[] = {"a", "b", "c", "0", "k", "i", "msg", "user", ""};
    static const char *const scalars[] = {
        "1",    "-0",    "2.5e3",          "true", "false",
        "null", "\"s\"", "\"\\u00e9\\n\"", "0",    "12345678901234567890123"};
    if (cap < 64)
        return (size_t)snprintf(out, cap, "1");
    unsigned r = (unsigned)rand_r(seed);
    size_t n = 0;
    if (depth > 4 || r % 3 == 0)
        return (size_t)snprintf(out, cap, "%s", scalars[r / 3 % 10]);
    bool object = r % 3 == 1;
    out[n++] = object ? '{' : '[';
    size_t members = (size_t)rand_r(seed) % 4;
    for (size_t m = 0; m < members && cap - n > 80; m++) {
        if (m > 0)
            out[n++] = ',';
        if (object)
            n += (size_t)snprintf(out + n, cap - n, "\"%s\":",
                                  names[(size_t)rand_r(seed) % (sizeof names / sizeof names[0])]);
        n += random_value(out + n, (cap - n) / 2, depth + 1, seed);
    }
    out[n++] = object ? '}' : ']';
    out[n] = '\0';
    return n;
}

static void test_key_extract_many_equals_single_on_random_bodies(void **state)
{
    (void)state;
    hs__key_spec specs[NMANY];
    parse_many(specs);
    unsigned seed = 13;
    char body[2048];
    for (int round = 0; round < 3000; round++) {
        size_t len = random_value(body, sizeof body, 1, &seed);
        if (round % 4 == 3 && len > 0) /* sometimes not JSON any more */
            body[(size_t)rand_r(&seed) % len] = "{}[]\",:x\\"[rand_r(&seed) % 9];
        many_equals_single_all_windows(specs, body, len);
    }
    for (size_t i = 0; i < NMANY; i++)
        hs__key_spec_clear(&specs[i]);
}

/* One pass with .stop targets (the claim's, issue 13): the outcome of
 * hs__key_extract_many and each target's result and bytes. */
typedef struct stop_case {
    const char *body;
    const char *pointers[3];
    bool stop[3];
    bool whole; /* the pass read the whole body */
    hs__key_result results[3];
    const char *keys[3]; /* when HS__KEY_OK */
    bool tail[3];
} stop_case;

static void check_stop_case(const stop_case *c)
{
    hs__key_spec specs[3];
    hs__key_buf bufs[3] = {{0}};
    hs__key_target t[3];
    char err[256];
    size_t n = 0;
    for (; n < 3 && c->pointers[n] != NULL; n++) {
        assert_int_equal(hs__key_spec_parse(&specs[n], c->pointers[n], err, sizeof err), HS_OK);
        t[n] = (hs__key_target){
            .spec = &specs[n], .buf = &bufs[n], .stop = c->stop[n], .tail = c->tail[n]};
    }
    bool whole = hs__key_extract_many(t, n, "org.topic", 9, c->body, strlen(c->body));
    if (whole != c->whole)
        fail_msg("'%s': whole %d, expected %d", c->body, whole, c->whole);
    for (size_t i = 0; i < n; i++) {
        if (t[i].result != c->results[i])
            fail_msg("'%s', %s: result %d, expected %d", c->body, c->pointers[i], t[i].result,
                     c->results[i]);
        if (t[i].result == HS__KEY_OK) {
            assert_int_equal(t[i].len, strlen(c->keys[i]));
            assert_memory_equal(t[i].key, c->keys[i], t[i].len);
        }
    }
    for (size_t i = 0; i < n; i++) {
        hs__key_buf_free(&bufs[i]);
        hs__key_spec_clear(&specs[i]);
    }
}

static void test_key_stop_ends_the_pass_at_the_last_stop_target(void **state)
{
    (void)state;
    static const stop_case cases[] = {
        /* what follows the key is not read: not even checked */
        {"{\"msg\":{\"user\":\"u1\"},\"tail\":nonsense",
         {"json:/msg/user"},
         {true},
         false,
         {HS__KEY_OK},
         {"u1"},
         {false}},
        {"{\"msg\":{\"user\":\"u1\"},\"tail\":nonsense",
         {"json:/msg/user"},
         {false},
         true,
         {HS__KEY_BAD_JSON},
         {NULL},
         {false}},
        /* the first of a repeated member stops it; the whole body gives the last */
        {"{\"msg\":{\"user\":\"first\"},\"msg\":{\"user\":\"last\"}}",
         {"json:/msg/user"},
         {true},
         false,
         {HS__KEY_OK},
         {"first"},
         {false}},
        {"{\"msg\":{\"user\":\"first\"},\"msg\":{\"user\":\"last\"}}",
         {"json:/msg/user"},
         {false},
         true,
         {HS__KEY_OK},
         {"last"},
         {false}},
        /* not there: read to the end, and checked */
        {"{\"a\":1}", {"json:/msg/user"}, {true}, true, {HS__KEY_MISSING}, {NULL}, {false}},
        {"{\"a\":1", {"json:/msg/user"}, {true}, true, {HS__KEY_BAD_JSON}, {NULL}, {false}},
        /* null, an object or an array does not stop it; a later scalar does */
        {"{\"k\":null,\"k\":{\"a\":1},\"k\":\"v\",\"z\":[",
         {"json:/k"},
         {true},
         false,
         {HS__KEY_OK},
         {"v"},
         {false}},
        {"{\"k\":null}", {"json:/k"}, {true}, true, {HS__KEY_MISSING}, {NULL}, {false}},
        {"{\"k\":[1]}", {"json:/k"}, {true}, true, {HS__KEY_NOT_SCALAR}, {NULL}, {false}},
        /* a stop target found, then its member repeated as null: not found any more */
        {"{\"k\":1,\"j\":2,\"k\":null}",
         {"json:/k", "json:/z"},
         {true, true},
         true,
         {HS__KEY_MISSING, HS__KEY_MISSING},
         {NULL, NULL},
         {false}},
        /* every stop target must be found; the others are not waited for */
        {"{\"i\":1,\"msg\":{\"user\":\"u\"},\"fallback\":\"f\",\"x\":[",
         {"json:/i", "json:/msg/user", "json:/fallback"},
         {true, true, false},
         false,
         {HS__KEY_OK, HS__KEY_OK, HS__KEY_UNREAD},
         {"1", "u", NULL},
         {false}},
        {"{\"fallback\":\"f\",\"i\":1,\"msg\":{\"user\":\"u\"}}",
         {"json:/i", "json:/msg/user", "json:/fallback"},
         {true, true, false},
         false,
         {HS__KEY_OK, HS__KEY_OK, HS__KEY_UNREAD},
         {"1", "u", NULL},
         {false}},
        {"{\"i\":1,\"fallback\":\"f\"}",
         {"json:/i", "json:/msg/user", "json:/fallback"},
         {true, true, false},
         true,
         {HS__KEY_OK, HS__KEY_MISSING, HS__KEY_OK},
         {"1", NULL, "f"},
         {false}},
        /* a key outside the JSON is no reason to read or to stop */
        {"{\"k\":7,\"rest\":x",
         {"topic", "json:/k"},
         {true, true},
         false,
         {HS__KEY_OK, HS__KEY_OK},
         {"org.topic", "7"},
         {false}},
        {"{\"k\":7}",
         {"topic", "json:/k"},
         {true, false},
         true,
         {HS__KEY_OK, HS__KEY_OK},
         {"org.topic", "7"},
         {false}},
        /* values as the whole pass gives them: escapes, numbers, literals */
        {"[{\"k\":\"a\\u00e9\"},0.5e1,true,x",
         {"json:/0/k", "json:/1", "json:/2"},
         {true, true, true},
         false,
         {HS__KEY_OK, HS__KEY_OK, HS__KEY_OK},
         {"a\xc3\xa9", "5.0", "true"},
         {false}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_stop_case(&cases[i]);
}

/* .tail: top-level members read from the end, as fedmsg writes i and
 * username last; the pass then stops at the key. */
static void test_key_tail_targets_are_read_from_the_end(void **state)
{
    (void)state;
#define FEDMSG_TAIL(rest)                                                                          \
    "{\"topic\":\"t\",\"msg\":{\"user\":\"u9\",\"pad\":\"xx\"},\"timestamp\":1.5," rest
    static const char *const seq[3] = {"json:/msg/user", "json:/i", "json:/username"};
    static const stop_case cases[] = {
        /* found from the end: the pass stops at the key */
        {FEDMSG_TAIL("\"i\":7,\"username\":\"pub\"}"),
         {seq[0], seq[1], seq[2]},
         {true, true, true},
         false,
         {HS__KEY_OK, HS__KEY_OK, HS__KEY_OK},
         {"u9", "7", "pub"},
         {false, true, true}},
        /* what is found from the end in a JSON body is the last member: jansson's */
        {FEDMSG_TAIL("\"i\":7,\"username\":\"a\\\"b\\\\\",\"i\":8 } \n"),
         {seq[0], seq[1], seq[2]},
         {true, true, true},
         false,
         {HS__KEY_OK, HS__KEY_OK, HS__KEY_OK},
         {"u9", "8", "a\"b\\"},
         {false, true, true}},
        /* nested values and strings with brackets are stepped over */
        {FEDMSG_TAIL("\"i\":7,\"username\":\"p\",\"x\":{\"y\":[1,\"]}\\\"\",{}]}}"),
         {seq[0], seq[1], seq[2]},
         {true, true, true},
         false,
         {HS__KEY_OK, HS__KEY_OK, HS__KEY_OK},
         {"u9", "7", "p"},
         {false, true, true}},
        /* not there at all: known missing once the object's start is reached */
        {FEDMSG_TAIL("\"n\":null}"),
         {seq[0], seq[1], seq[2]},
         {true, true, true},
         false,
         {HS__KEY_OK, HS__KEY_MISSING, HS__KEY_MISSING},
         {"u9", NULL, NULL},
         {false, true, true}},
        /* a key with escapes, a container value, a value that does not
         * check: not from the end; the pass reads on (to the last value,
         * or the end) and finds them */
        {FEDMSG_TAIL("\"i\":7,\"user\\u006eame\":\"pub\"}"),
         {seq[0], seq[1], seq[2]},
         {true, true, true},
         false,
         {HS__KEY_OK, HS__KEY_OK, HS__KEY_OK},
         {"u9", "7", "pub"},
         {false, true, true}},
        {FEDMSG_TAIL("\"i\":[7],\"username\":\"pub\"}"),
         {seq[0], seq[1], seq[2]},
         {true, true, true},
         true,
         {HS__KEY_OK, HS__KEY_NOT_SCALAR, HS__KEY_OK},
         {"u9", NULL, "pub"},
         {false, true, true}},
        {FEDMSG_TAIL("\"i\":07,\"username\":\"pub\"}"),
         {seq[0], seq[1], seq[2]},
         {true, true, true},
         true,
         {HS__KEY_BAD_JSON, HS__KEY_BAD_JSON, HS__KEY_BAD_JSON},
         {NULL, NULL, NULL},
         {false, true, true}},
        /* only .tail targets: no forward pass at all (so the body is not
         * checked: a count of the bus sequence does not need it) */
        {"{\"x\":nonsense,\"i\":7,\"username\":\"p\"}",
         {seq[1], seq[2]},
         {true, true},
         false,
         {HS__KEY_OK, HS__KEY_OK},
         {"7", "p"},
         {true, true}},
        /* without another .stop target: read forwards, up to it */
        {FEDMSG_TAIL("\"i\":7}"), {seq[1]}, {true}, false, {HS__KEY_OK}, {"7"}, {true}},
        /* not an object */
        {"[{\"i\":1},{\"msg\":{\"user\":\"u\"}}]",
         {"json:/1/msg/user", seq[1]},
         {true, true},
         true,
         {HS__KEY_OK, HS__KEY_MISSING},
         {"u", NULL},
         {false, true}},
    };
#undef FEDMSG_TAIL
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_stop_case(&cases[i]);
}

/* The tail memo (hs__key_extract_many_memo): every body of a stream gets,
 * with the memo kept from the bodies before it, exactly what it gets
 * without one. Returns whether the memo answered (the publisher's name,
 * a string without escapes, then points outside the body). */
typedef struct memo_stream {
    hs__key_spec specs[4];
    size_t n, first_tail; /* targets [first_tail, n) are .tail, all .stop */
    hs__key_memo *memo;
} memo_stream;

static void memo_stream_init_with(memo_stream *m, const char *const *pointers, size_t n,
                                  size_t first_tail)
{
    char err[256];
    for (size_t i = 0; i < n; i++)
        assert_int_equal(hs__key_spec_parse(&m->specs[i], pointers[i], err, sizeof err), HS_OK);
    m->n = n;
    m->first_tail = first_tail;
    m->memo = NULL;
}

/* The key, then the bus sequence's two (.tail). */
static void memo_stream_init(memo_stream *m)
{
    static const char *const pointers[3] = {"json:/msg/user", "json:/i", "json:/username"};
    memo_stream_init_with(m, pointers, 3, 1);
}

static void memo_stream_clear(memo_stream *m)
{
    for (size_t i = 0; i < m->n; i++)
        hs__key_spec_clear(&m->specs[i]);
    hs__key_memo_free(m->memo);
}

static bool memo_matches_none(memo_stream *m, const char *body, size_t len)
{
    hs__key_buf bufs[4] = {{0}}, plain_bufs[4] = {{0}};
    hs__key_target t[4], p[4];
    for (size_t i = 0; i < m->n; i++) {
        bool tail = i >= m->first_tail;
        t[i] = (hs__key_target){.spec = &m->specs[i], .buf = &bufs[i], .stop = true, .tail = tail};
        p[i] = (hs__key_target){
            .spec = &m->specs[i], .buf = &plain_bufs[i], .stop = true, .tail = tail};
    }
    bool whole = hs__key_extract_many_memo(t, m->n, "org.topic", 9, body, len, &m->memo);
    bool plain_whole = hs__key_extract_many(p, m->n, "org.topic", 9, body, len);
    if (whole != plain_whole)
        fail_msg("'%.*s': whole %d with the memo, %d without", (int)len, body, whole, plain_whole);
    for (size_t i = 0; i < m->n; i++) {
        if (t[i].result != p[i].result)
            fail_msg("'%.*s', target %zu: %d with the memo, %d without", (int)len, body, i,
                     t[i].result, p[i].result);
        if (t[i].result == HS__KEY_OK &&
            (t[i].len != p[i].len || memcmp(t[i].key, p[i].key, p[i].len) != 0))
            fail_msg("'%.*s', target %zu: '%.*s' with the memo, '%.*s' without", (int)len, body, i,
                     (int)t[i].len, t[i].key, (int)p[i].len, p[i].key);
    }
    size_t last = m->n - 1; /* username */
    bool answered = t[last].result == HS__KEY_OK && t[last].key != bufs[last].data &&
                    (t[last].key < body || t[last].key >= body + len);
    for (size_t i = 0; i < m->n; i++) {
        hs__key_buf_free(&bufs[i]);
        hs__key_buf_free(&plain_bufs[i]);
    }
    return answered;
}

static void test_key_tail_memo_gives_what_the_read_gives(void **state)
{
    (void)state;
    memo_stream m;
    memo_stream_init(&m);
    char body[512];
    size_t answered = 0;
    /* one publisher's stream: only i changes, across 9 -> 10, 99 -> 100 ... */
    for (unsigned i = 1; i <= 1200; i++) {
        int n = snprintf(
            body, sizeof body,
            "{\"topic\":\"t\",\"msg\":{\"user\":\"u%u\"},\"i\":%u,\"username\":\"pub\"}", i % 7, i);
        answered += memo_matches_none(&m, body, (size_t)n);
    }
    /* all but the first (which kept the memo) */
    if (answered != 1199)
        fail_msg("the memo answered %zu of 1199", answered);
    /* bodies that end almost alike: each must be read again, or give the same */
    static const char *const near[] = {
        "{\"msg\":{\"user\":\"u\"},\"i\":0,\"username\":\"pub\"}",   /* 0 alone is a number */
        "{\"msg\":{\"user\":\"u\"},\"i\":07,\"username\":\"pub\"}",  /* a leading zero is not */
        "{\"msg\":{\"user\":\"u\"},\"i\":-7,\"username\":\"pub\"}",  /* negative */
        "{\"msg\":{\"user\":\"u\"},\"i\":7.5,\"username\":\"pub\"}", /* a real */
        "{\"msg\":{\"user\":\"u\"},\"i\":1e5,\"username\":\"pub\"}", /* an exponent */
        "{\"msg\":{\"user\":\"u\"},\"i\":x5,\"username\":\"pub\"}",  /* not a number */
        "{\"msg\":{\"user\":\"u\"},\"i\": 5,\"username\":\"pub\"}",  /* a space */
        "{\"msg\":{\"user\":\"u\"},\"i\":12345678901234567890123,\"username\":\"pub\"}",
        "{\"msg\":{\"user\":\"u\"},\"i\":5,\"username\":\"puc\"}",   /* another name */
        "{\"msg\":{\"user\":\"u\"},\"j\":5,\"username\":\"pub\"}",   /* another member */
        "{\"msg\":{\"user\":\"u\"},\\\"i\":5,\"username\":\"pub\"}", /* a backslash ahead */
        "{\"msg\":{\"user\":\"u\"},\"x\":\"a\\\",\"i\":5,\"username\":\"pub\"}", /* in a string */
        "{\"msg\":{\"user\":\"u\"}\"i\":5,\"username\":\"pub\"}",                /* no comma */
        "{\"i\":5,\"username\":\"pub\"}",                                        /* at the start */
        "\"i\":5,\"username\":\"pub\"}",                                         /* no object */
        "5,\"username\":\"pub\"}",                                               /* shorter */
        ",\"username\":\"pub\"}",
        "}",
        "",
        "{\"msg\":{\"user\":\"u\"},\"i\":5,\"username\":\"pub\"} ", /* after the end */
        "{\"msg\":{\"user\":\"u\"},\"username\":\"pub\",\"i\":5}",  /* the other order */
        "{\"msg\":{\"user\":\"u\"},\"username\":\"pub\",\"i\":6}",
        "{\"msg\":{\"user\":\"u\"},\"username\":\"pub\",\"i\":60}",
        "{\"msg\":{\"user\":\"u\"},\"username\":\"p\\u0075b\",\"i\":61}", /* escaped */
        "{\"msg\":{\"user\":\"u\"},\"username\":\"p\\u0075b\",\"i\":62}",
        "{\"msg\":{\"user\":\"u\"},\"username\":null,\"i\":63}",
        "{\"msg\":{\"user\":\"u\"},\"username\":null,\"i\":64}",
        "{\"msg\":{\"user\":\"u\"},\"username\":7,\"i\":64}", /* two integers */
        "{\"msg\":{\"user\":\"u\"},\"username\":7,\"i\":65}",
        "{\"msg\":{\"user\":\"u\"},\"username\":8,\"i\":65}",
    };
    for (size_t i = 0; i < sizeof near / sizeof near[0]; i++) {
        /* after a memo of "i":5 (the stream's shape), and after its own */
        int n =
            snprintf(body, sizeof body, "{\"msg\":{\"user\":\"u\"},\"i\":5,\"username\":\"pub\"}");
        memo_matches_none(&m, body, (size_t)n);
        memo_matches_none(&m, near[i], strlen(near[i]));
        memo_matches_none(&m, near[i], strlen(near[i]));
    }
    /* a window too long to keep: read every time, still the same */
    char big[1024];
    char name[601];
    memset(name, 'n', 600);
    name[600] = '\0';
    int n =
        snprintf(big, sizeof big, "{\"msg\":{\"user\":\"u\"},\"i\":5,\"username\":\"%s\"}", name);
    assert_true(n > 0 && (size_t)n < sizeof big);
    memo_matches_none(&m, big, (size_t)n);
    assert_false(memo_matches_none(&m, big, (size_t)n));
    memo_stream_clear(&m);
}

/* A stream whose ends differ in a string (a signature) misses every time,
 * and the memo stops copying each one; once the ends repeat again it
 * answers again within MEMO_RETRY (64) bodies. */
static void test_key_tail_memo_comes_back_after_misses(void **state)
{
    (void)state;
    memo_stream m;
    memo_stream_init(&m);
    char body[256];
    size_t answered = 0;
    for (unsigned i = 1; i <= 500; i++) { /* a number stepped over differs: a miss */
        int n = snprintf(body, sizeof body,
                         "{\"msg\":{\"user\":\"u\"},\"i\":%u,\"username\":\"pub\",\"t\":%u.5}", i,
                         i * 7919);
        answered += memo_matches_none(&m, body, (size_t)n);
    }
    assert_int_equal(answered, 0);
    for (unsigned i = 501; i <= 700; i++) {
        int n =
            snprintf(body, sizeof body,
                     "{\"msg\":{\"user\":\"u\"},\"i\":%u,\"username\":\"pub\",\"sig\":\"s\"}", i);
        answered += memo_matches_none(&m, body, (size_t)n);
    }
    if (answered < 200 - 65)
        fail_msg("the memo answered %zu of the 200 bodies that end alike", answered);
    memo_stream_clear(&m);
}

/* The strings stepped over after the bus sequence (a signature, a time
 * stamp) may differ from body to body, in length and in content (escaped
 * quotes, backslashes, a quote that is not escaped, nothing at all, more
 * than the read looks at): every body gets what the read gives it, and
 * the memo answers for those that end alike but for them. A string before
 * the sequence that differs is a miss. */
static void test_key_tail_memo_strings_may_differ(void **state)
{
    (void)state;
    memo_stream m;
    memo_stream_init(&m);
    static char body[6000], sig[5200];
    static const char alphabet[] = "abcXYZ019+/=\\\" ,:{}";
    unsigned seed = 7;
    size_t answered = 0, tried = 0;
    for (unsigned i = 1; i <= 2000; i++) {
        size_t len = (size_t)(rand_r(&seed) % 40);
        if (i % 500 == 0)
            len = 4200 + (size_t)(rand_r(&seed) % 900); /* past TAIL_MAX_BYTES */
        bool plain = i % 3 != 0;                        /* base64-like, or anything */
        for (size_t k = 0; k < len; k++)
            sig[k] = plain ? "abcXYZ019+/="[rand_r(&seed) % 12]
                           : alphabet[(size_t)rand_r(&seed) % (sizeof alphabet - 1)];
        sig[len] = '\0';
        int n = snprintf(body, sizeof body,
                         "{\"msg\":{\"user\":\"u\"},\"i\":%u,\"username\":\"pub\",\"crypto\":"
                         "\"x509\",\"signature\":\"%s\",\"sent\":\"%019u\"}",
                         i, sig, i * 7919u);
        assert_true(n > 0 && (size_t)n < sizeof body);
        answered += memo_matches_none(&m, body, (size_t)n);
        tried++;
    }
    /* plain signatures after plain ones: nearly every one of those */
    if (answered < tried / 2)
        fail_msg("the memo answered %zu of %zu bodies", answered, tried);
    memo_stream_clear(&m);
    memo_stream_init(&m);
    size_t before = 0;
    for (unsigned i = 1; i <= 300; i++) {
        int n = snprintf(body, sizeof body,
                         "{\"msg\":{\"user\":\"u\"},\"username\":\"pub\",\"x\":\"s%u\",\"i\":%u}",
                         i * 7919u, i);
        before += memo_matches_none(&m, body, (size_t)n);
    }
    assert_int_equal(before, 0);
    memo_stream_clear(&m);
    /* A repeated name, the last one read from the end, the first forwards:
     * a signature that takes the window past what the read looks at
     * leaves it to the forward pass, memo or not. */
    memo_stream_init(&m);
    for (unsigned i = 1; i <= 40; i++) {
        size_t len = i % 2 ? 10 : 4500;
        memset(sig, 'a', len);
        sig[len] = '\0';
        int n = snprintf(body, sizeof body,
                         "{\"msg\":{\"user\":\"u\"},\"i\":%u,\"username\":\"a\",\"username\":"
                         "\"b\",\"signature\":\"%s\"}",
                         i, sig);
        memo_matches_none(&m, body, (size_t)n);
    }
    memo_stream_clear(&m);
}

/* Random tails after random ones: the memo of the one before never changes
 * what a body gives. */
static void test_key_tail_memo_on_random_tails(void **state)
{
    (void)state;
    memo_stream m;
    memo_stream_init(&m);
    static const char alphabet[] = "0123456789\"\\{}[]:, -.eiu";
    unsigned seed = 29;
    char body[256];
    size_t answered = 0;
    int pub = 0;
    for (int round = 0; round < 20000; round++) {
        if (rand_r(&seed) % 50 == 0)
            pub = rand_r(&seed) % 3; /* now and then another publisher */
        int n = snprintf(body, sizeof body,
                         "{\"topic\":\"t\",\"msg\":{\"user\":\"u\"},\"i\":%d,\"username\":\"p%d\"}",
                         rand_r(&seed) % 2000, pub);
        assert_true(n > 0);
        size_t len = (size_t)n;
        /* in one body of four, change up to two of the last 30 bytes;
         * sometimes cut the end */
        for (int k = rand_r(&seed) % 4 == 0 ? 1 + rand_r(&seed) % 2 : 0; k > 0; k--)
            body[len - 1 - (size_t)rand_r(&seed) % 30] =
                alphabet[rand_r(&seed) % (sizeof alphabet - 1)];
        if (rand_r(&seed) % 8 == 0)
            len -= (size_t)rand_r(&seed) % 10;
        answered += memo_matches_none(&m, body, len);
    }
    /* the memo was used, and not only for exact repeats */
    if (answered < 10000)
        fail_msg("the memo answered %zu of 20000", answered);
    memo_stream_clear(&m);
}

/* The head template: a stream of bodies that begin with the same members
 * but other values (strings of every length and kind, integers of every
 * size and sign) is answered from the template after the first body, and
 * each gets what it gets without a memo. */
static void test_key_head_template_gives_what_the_pass_gives(void **state)
{
    (void)state;
    static const char *const users[] = {
        "bob",
        "",
        "a much longer user name than the others, with spaces",
        "u\\u00e9",
        "a\\\\b",
        "a\\\"b",
        "\\u0000",
        "\\ud83d\\ude00",
        "\\u00e9t\\u00e9",
        "\xc3\xa9t\xc3\xa9",
        "\\n",
    };
    static const char *const numbers[] = {"0", "7", "-3", "12345678901234567890123", "99", "100"};
    memo_stream m;
    memo_stream_init(&m);
    char body[512];
    const size_t rounds = 1200;
    for (unsigned i = 0; i < rounds; i++) {
        int n = snprintf(body, sizeof body,
                         "{\"topic\": \"org.fedoraproject.prod.%s\", \"n\": %s, \"ok\": true, "
                         "\"r\": 1.5, \"msg\": {\"key\": \"k%u\", \"user\": \"%s\"}, "
                         "\"i\": %u, \"username\": \"pub\"}",
                         i % 3 == 0 ? "bodhi.update" : "x", numbers[i % 6], i * 7919u,
                         users[i % (sizeof users / sizeof users[0])], i + 1);
        assert_true(n > 0 && (size_t)n < sizeof body);
        memo_matches_none(&m, body, (size_t)n);
    }
    /* one body in eleven has a raw UTF-8 user: read by the region's scan too */
    if (hs__key_memo_head_hits(m.memo) != rounds - 1)
        fail_msg("the template answered %lu of %zu", hs__key_memo_head_hits(m.memo), rounds - 1);
    memo_stream_clear(&m);
}

/* A dynamic hub's claim: the key and the message's time (a real, as
 * fedmsg's timestamp) stop the pass, the time last. Times of every length
 * one after the other: a longer one begins with the bytes of a shorter
 * (1.5 then 1.55), and each is read whole. */
static void test_key_head_template_reads_a_real_whole(void **state)
{
    (void)state;
    static const char *const pointers[4] = {"json:/msg/user", "json:/timestamp", "json:/i",
                                            "json:/username"};
    static const char *const times[] = {"1764661234.5",
                                        "1764661234.55",
                                        "1764661234.555e3",
                                        "1764661234",
                                        "17646612345",
                                        "1.5E-3",
                                        "-0.0",
                                        "2.5"};
    memo_stream m;
    memo_stream_init_with(&m, pointers, 4, 2);
    char body[256];
    size_t rounds = 0;
    for (size_t a = 0; a < sizeof times / sizeof times[0]; a++) {
        for (size_t b = 0; b < sizeof times / sizeof times[0]; b++) {
            for (int k = 0; k < 2; k++) { /* a kept, b after it; then a again */
                const char *t = k == 0 ? times[a] : times[b];
                int n = snprintf(body, sizeof body,
                                 "{\"topic\":\"t\",\"msg\":{\"user\":\"u%zu\",\"seq\":%zu},"
                                 "\"timestamp\":%s,\"msg_id\":\"m\",\"i\":%zu,\"username\":\"p\"}",
                                 a, b, t, rounds + 1);
                memo_matches_none(&m, body, (size_t)n);
                rounds++;
            }
        }
    }
    /* reals after reals, integers after integers: most from the template */
    if (hs__key_memo_head_hits(m.memo) < rounds / 4)
        fail_msg("the template answered %lu of %zu", hs__key_memo_head_hits(m.memo), rounds);
    memo_stream_clear(&m);
}

/* Every body one byte off the template's (each byte replaced by each of a
 * few others, and each cut), and a few chosen near misses: each gives what
 * it gives without a memo, right after the template was kept. */
static void test_key_head_template_near_misses(void **state)
{
    (void)state;
    static const char base[] = "{\"topic\": \"org.x\", \"n\": 42, \"ok\": true, \"r\": 2.5, "
                               "\"msg\": {\"key\": \"k1\", \"user\": \"bob\"}, \"i\": 7, "
                               "\"username\": \"pub\"}";
    static const char *const near[] = {
        "{\"topic\": \"org.x\", \"n\": 42, \"ok\": true, \"r\": 2.5, \"msg\": {\"key\": "
        "\"k1\", \"user\": 5}}", /* a number where the string was */
        "{\"topic\": 5, \"n\": 42, \"ok\": true, \"r\": 2.5, \"msg\": {\"key\": \"k1\", "
        "\"user\": \"bob\"}}",
        "{\"topic\": \"org.x\", \"n\": \"42\", \"ok\": true, \"r\": 2.5, \"msg\": {\"key\": "
        "\"k1\", \"user\": \"bob\"}}", /* a string where the integer was */
        "{\"topic\": \"org.x\", \"n\": 4.2, \"ok\": true, \"r\": 2.5, \"msg\": {\"key\": "
        "\"k1\", \"user\": \"bob\"}}", /* a real */
        "{\"topic\": \"org.x\", \"n\": 4e2, \"ok\": true, \"r\": 2.5, \"msg\": {\"key\": "
        "\"k1\", \"user\": \"bob\"}}",
        "{\"topic\": \"org.x\", \"n\": 042, \"ok\": true, \"r\": 2.5, \"msg\": {\"key\": "
        "\"k1\", \"user\": \"bob\"}}", /* a leading zero */
        "{\"topic\": \"org.x\", \"n\": -, \"ok\": true, \"r\": 2.5, \"msg\": {\"key\": "
        "\"k1\", \"user\": \"bob\"}}",
        "{\"topic\": \"org.x\", \"n\": 42, \"ok\": true, \"r\": 2.5, \"msg\": {\"key\": "
        "\"k1\", \"user\": \"b\xff"
        "b\"}}", /* not UTF-8 */
        "{\"topic\": \"org.x\", \"n\": 42, \"ok\": true, \"r\": 2.5, \"msg\": {\"key\": "
        "\"k1\", \"user\": \"b\tb\"}}", /* a raw tab */
        "{\"topic\": \"org.x\", \"n\": 42, \"ok\": true, \"r\": 2.5, \"msg\": {\"key\": "
        "\"k1\", \"user\": \"b\\qb\"}}", /* a bad escape */
        "{\"topic\": \"org.x\", \"n\": 42, \"ok\": true, \"r\": 2.5, \"msg\": {\"key\": "
        "\"k1\", \"user\": \"bob", /* unterminated */
        "{\"topic\": \"org.x\", \"n\": 42, \"ok\": true, \"r\": 2.5, \"msg\": {\"key\": "
        "\"k1\", \"user\": \"a\", \"user\": \"b\"}}", /* repeated */
        "{\"topic\": \"org.x\", \"n\": 42, \"ok\": true, \"r\": 2.5, \"msg\": {\"key\": "
        "\"k1\\\", \\\"user\\\": \\\"x\", \"user\": \"bob\"}}", /* a member in a string */
        "{\"topic\": \"org.x\", \"n\": 42, \"ok\": false, \"r\": 2.5, \"msg\": {\"key\": "
        "\"k1\", \"user\": \"bob\"}}",
        "{\"topic\": \"org.x\", \"n\": 42 , \"ok\": true, \"r\": 2.5, \"msg\": {\"key\": "
        "\"k1\", \"user\": \"bob\"}}", /* a space more */
        "{\"topic\": \"org.x\", \"n\": 42, \"ok\": true, \"r\": 2.5, \"msg\": {\"kex\": "
        "\"k1\", \"user\": \"bob\"}}", /* another name */
        "{\"topic\": \"org.x\", \"n\": 42, \"ok\": true, \"r\": 2.5, \"msg\": {\"key\": "
        "\"k1\", \"u\\u0073er\": \"bob\"}}", /* the name escaped */
        "{\"topic\": \"org.x\", \"n\": 42, \"ok\": true, \"r\": 2.5, \"msg\": [\"key\", "
        "\"k1\", \"user\", \"bob\"]}",
    };
    memo_stream m;
    memo_stream_init(&m);
    const size_t len = sizeof base - 1;
    char body[sizeof base];
    static const char others[] = "\"\\{}[],: 0-9.eEtx\x80\xff";
    unsigned long hits = 0;
    size_t tried = 0;
    for (size_t at = 0; at <= len; at++) {
        for (size_t c = 0; c <= sizeof others - 1; c++) {
            memo_matches_none(&m, base, len); /* the template, kept or answering */
            memcpy(body, base, len);
            size_t blen = len;
            if (c == sizeof others - 1)
                blen = at; /* cut */
            else if (at < len)
                body[at] = others[c];
            else
                continue;
            memo_matches_none(&m, body, blen);
            tried++;
        }
    }
    hits = hs__key_memo_head_hits(m.memo);
    /* the template answered base each time and some of the others (a
     * digit for a digit, a letter in a value) */
    if (hits < tried)
        fail_msg("the template answered %lu times in %zu pairs", hits, tried);
    for (size_t i = 0; i < sizeof near / sizeof near[0]; i++) {
        memo_matches_none(&m, base, len);
        memo_matches_none(&m, near[i], strlen(near[i]));
        memo_matches_none(&m, near[i], strlen(near[i])); /* after its own, if kept */
    }
    /* The key an integer, i met on the way: a real, or another kind, in
     * its place is not the same key. */
    static const char *const key_values[] = {"4.2",    "4e2",  "42.0", "-42",  "0",   "00",
                                             "\"42\"", "true", "null", "[42]", "420", "4"};
    char b2[256];
    for (size_t i = 0; i < sizeof key_values / sizeof key_values[0]; i++) {
        const char *shape = "{\"i\": %s, \"msg\": {\"user\": %s}, \"username\": \"pub\"}";
        int n = snprintf(b2, sizeof b2, shape, "7", "42");
        memo_matches_none(&m, b2, (size_t)n);
        n = snprintf(b2, sizeof b2, shape, "8", key_values[i]);
        memo_matches_none(&m, b2, (size_t)n);
        n = snprintf(b2, sizeof b2, shape, "8.5", "42"); /* i a real */
        memo_matches_none(&m, b2, (size_t)n);
    }
    memo_stream_clear(&m);
}

/* The memo compares runs of bytes of every length (the fixed bytes before
 * a value, a tail window): with a member name of 1 to 48 bytes on the
 * key's path and a publisher's name of as many, a body one byte off in
 * either, at any place, is not the template's or the window's. */
static void test_key_memo_compares_runs_of_every_length(void **state)
{
    (void)state;
    for (size_t n = 1; n <= 48; n++) {
        char name[64], pointer[80], body[256], off[256];
        for (size_t k = 0; k < n; k++)
            name[k] = (char)('a' + k % 26);
        name[n] = '\0';
        snprintf(pointer, sizeof pointer, "json:/%s", name);
        const char *const pointers[3] = {pointer, "json:/i", "json:/username"};
        memo_stream m;
        memo_stream_init_with(&m, pointers, 3, 1);
        int len = snprintf(body, sizeof body, "{\"%s\": \"v\", \"i\": 7, \"username\": \"%s\"}",
                           name, name);
        assert_true(len > 0 && (size_t)len < sizeof body);
        for (size_t at = 0; at < (size_t)len; at++) {
            if (body[at] < 'a' || body[at] > 'z')
                continue;
            memo_matches_none(&m, body, (size_t)len); /* kept, or answering */
            memo_matches_none(&m, body, (size_t)len);
            memcpy(off, body, (size_t)len);
            off[at] = body[at] == 'z' ? 'y' : 'z';
            memo_matches_none(&m, off, (size_t)len);
        }
        if (hs__key_memo_head_hits(m.memo) < n)
            fail_msg("names of %zu bytes: the template answered %lu times", n,
                     hs__key_memo_head_hits(m.memo));
        memo_stream_clear(&m);
    }
    /* Runs of one to three bytes: the separators between two elements. */
    static const char *const seps[] = {",", ", ", ",  "};
    const char *const pointers[3] = {"json:/a/1", "json:/i", "json:/username"};
    for (size_t k = 0; k < sizeof seps / sizeof seps[0]; k++) {
        memo_stream m;
        memo_stream_init_with(&m, pointers, 3, 1);
        char body[128], off[128];
        int len = snprintf(body, sizeof body,
                           "{\"a\": [\"x\"%s\"y\"], \"i\": 7, \"username\": \"p\"}", seps[k]);
        assert_true(len > 0 && (size_t)len < sizeof body);
        const char *sep = strstr(body, seps[k]);
        for (size_t at = 0; at < strlen(seps[k]); at++) {
            memo_matches_none(&m, body, (size_t)len);
            memo_matches_none(&m, body, (size_t)len);
            memcpy(off, body, (size_t)len);
            off[(size_t)(sep - body) + at] = 'q';
            memo_matches_none(&m, off, (size_t)len);
        }
        if (hs__key_memo_head_hits(m.memo) == 0)
            fail_msg("separator '%s': the template never answered", seps[k]);
        memo_stream_clear(&m);
    }
}

/* fedmsg bodies in every member order, with and without the bus sequence,
 * signed or not: the claim's pass (the key stopping it, i and username
 * read from the end when it did not meet them) gives each target what the
 * whole pass gives it alone. */
static void test_key_claim_pass_in_any_member_order(void **state)
{
    (void)state;
    static const char *const members[] = {
        "\"topic\":\"org.fedoraproject.prod.bodhi.update\"",
        "\"msg\":{\"agent\":\"a\",\"user\":\"u\\u00e9\",\"list\":[1,{\"i\":9}]}",
        "\"timestamp\":1700000000.5",
        "\"msg_id\":\"2024-5f1c\"",
        "\"i\":41",
        "\"username\":\"bodhi\"",
        "\"crypto\":\"x509\"",
        "\"signature\":\"dGhl\\/IHNp\"",
        "\"n\":null",
        "\"c\":{\"username\":\"nested\"}",
    };
    enum { NMEMBERS = sizeof members / sizeof members[0] };
    hs__key_spec specs[3];
    static const char *const pointers[3] = {"json:/msg/user", "json:/i", "json:/username"};
    char err[256];
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(hs__key_spec_parse(&specs[i], pointers[i], err, sizeof err), HS_OK);
    unsigned seed = 41;
    char body[1024];
    size_t stopped = 0;
    for (int round = 0; round < 5000; round++) {
        size_t order[NMEMBERS];
        for (size_t i = 0; i < NMEMBERS; i++)
            order[i] = i;
        for (size_t i = NMEMBERS - 1; i > 0; i--) {
            size_t j = (size_t)rand_r(&seed) % (i + 1), x = order[i];
            order[i] = order[j];
            order[j] = x;
        }
        size_t take = 1 + (size_t)rand_r(&seed) % NMEMBERS, len = 0;
        body[len++] = '{';
        for (size_t i = 0; i < take; i++) {
            const char *ws = rand_r(&seed) % 4 == 0 ? " \n" : "";
            len += (size_t)snprintf(body + len, sizeof body - len, "%s%s%s%s", i ? "," : "", ws,
                                    members[order[i]], ws);
        }
        body[len++] = '}';
        hs__key_buf bufs[3] = {{0}}, one = {0};
        hs__key_target t[3];
        for (size_t i = 0; i < 3; i++)
            t[i] =
                (hs__key_target){.spec = &specs[i], .buf = &bufs[i], .stop = true, .tail = i > 0};
        stopped += !hs__key_extract_many(t, 3, "org.topic", 9, body, len);
        for (size_t i = 0; i < 3; i++) {
            const char *key;
            size_t klen;
            hs__key_result r =
                hs__key_extract(&specs[i], "org.topic", 9, body, len, &one, &key, &klen);
            if (r != t[i].result)
                fail_msg("'%.*s', %s: %d in the claim's pass, %d alone", (int)len, body,
                         pointers[i], t[i].result, r);
            if (r == HS__KEY_OK && (klen != t[i].len || memcmp(key, t[i].key, klen) != 0))
                fail_msg("'%.*s', %s: '%.*s' in the claim's pass, '%.*s' alone", (int)len, body,
                         pointers[i], (int)t[i].len, t[i].key, (int)klen, key);
            hs__key_buf_free(&bufs[i]);
        }
        hs__key_buf_free(&one);
    }
    if (stopped < 1000)
        fail_msg("the pass stopped early in %zu of 5000 bodies", stopped);
    for (size_t i = 0; i < 3; i++)
        hs__key_spec_clear(&specs[i]);
}

/* On random bodies: a pass that reads it all gives what the pass without
 * stop targets gives; one that stops has found every stop target. */
static void test_key_stop_agrees_with_the_whole_pass_on_random_bodies(void **state)
{
    (void)state;
    static const char *const shallow[] = {"json:/a", "json:/0",   "json:/a/b", "json:/k",
                                          "json:/1", "json:/a/0", "json:/i",   "topic"};
    enum { NSHALLOW = sizeof shallow / sizeof shallow[0] };
    hs__key_spec specs[NSHALLOW];
    char err[256];
    for (size_t i = 0; i < NSHALLOW; i++)
        assert_int_equal(hs__key_spec_parse(&specs[i], shallow[i], err, sizeof err), HS_OK);
    unsigned seed = 17;
    char body[2048];
    size_t stopped = 0, read_all = 0;
    for (int round = 0; round < 3000; round++) {
        size_t len = random_value(body, sizeof body, 1, &seed);
        if (round % 4 == 3 && len > 0)
            body[(size_t)rand_r(&seed) % len] = "{}[]\",:x\\"[rand_r(&seed) % 9];
        size_t first = (size_t)rand_r(&seed) % (NSHALLOW - 2);
        hs__key_buf bufs[3] = {{0}}, whole_bufs[3] = {{0}};
        hs__key_target t[3], w[3];
        for (size_t i = 0; i < 3; i++) {
            t[i] = (hs__key_target){.spec = &specs[first + i], .buf = &bufs[i], .stop = i == 0};
            w[i] = (hs__key_target){.spec = &specs[first + i], .buf = &whole_bufs[i]};
        }
        bool whole = hs__key_extract_many(t, 3, "org.topic", 9, body, len);
        assert_true(hs__key_extract_many(w, 3, "org.topic", 9, body, len));
        for (size_t i = 0; i < 3; i++) {
            if (whole) {
                assert_int_equal(t[i].result, w[i].result);
                if (t[i].result == HS__KEY_OK)
                    assert_memory_equal(t[i].key, w[i].key, w[i].len);
            } else if (t[i].stop) {
                assert_int_equal(t[i].result, HS__KEY_OK);
            } else if (t[i].spec->kind == HS__KEY_JSON) {
                assert_int_equal(t[i].result, HS__KEY_UNREAD);
            }
            hs__key_buf_free(&bufs[i]);
            hs__key_buf_free(&whole_bufs[i]);
        }
        stopped += !whole;
        read_all += whole;
    }
    /* both outcomes were exercised */
    if (stopped < 50 || read_all < 50)
        fail_msg("stopped %zu, read all %zu of 3000", stopped, read_all);
    for (size_t i = 0; i < NSHALLOW; i++)
        hs__key_spec_clear(&specs[i]);
}

static void test_key_nesting_limit_is_janssons(void **state)
{
    (void)state;
    enum { MAX = JSON_PARSER_MAX_DEPTH };
    static char body[2 * (MAX + 2) + 2];
    for (size_t depth = MAX - 1; depth <= MAX + 1; depth++) {
        /* depth arrays, the innermost empty or holding a 1 */
        for (int inner = 0; inner < 2; inner++) {
            size_t n = 0;
            for (size_t i = 0; i < depth; i++)
                body[n++] = '[';
            if (inner)
                body[n++] = '1';
            for (size_t i = 0; i < depth; i++)
                body[n++] = ']';
            body[n] = '\0';
            differ_text("json:/0", body);
        }
    }
}

/* Issue 11 item 15: a number jansson cannot hold is still JSON. */
static void test_key_big_integer_is_its_text(void **state)
{
    (void)state;
    char k[128];
    const char *body = "{\"msg\":{\"user\":123456789012345678901234567890}}";
    assert_int_equal(extract("json:/msg/user", body, k, sizeof k), HS__KEY_OK);
    assert_string_equal(k, "123456789012345678901234567890");
    assert_int_equal(extract("json:/a", "{\"a\":-99999999999999999999}", k, sizeof k), HS__KEY_OK);
    assert_string_equal(k, "-99999999999999999999");
    assert_int_equal(extract("json:/a", "{\"a\":9223372036854775808}", k, sizeof k), HS__KEY_OK);
    assert_string_equal(k, "9223372036854775808");
    assert_int_equal(extract("json:/a", "{\"a\":1e400}", k, sizeof k), HS__KEY_OK);
    assert_string_equal(k, "1e400");
    /* Elsewhere in the body it no longer makes the body "not JSON". */
    assert_int_equal(
        extract("json:/u", "{\"id\":123456789012345678901234567890,\"u\":\"x\"}", k, sizeof k),
        HS__KEY_OK);
    assert_string_equal(k, "x");
    /* The DOM path refused it: what the hub did before. */
    hs__key_spec spec;
    char err[256];
    assert_int_equal(hs__key_spec_parse(&spec, "json:/msg/user", err, sizeof err), HS_OK);
    hs__key_buf buf = {0};
    const char *key;
    size_t len;
    int code = -1;
    assert_int_equal(hs__key_extract_dom(&spec, body, strlen(body),
                                         JSON_DECODE_ANY | JSON_ALLOW_NUL, &buf, &key, &len, &code),
                     HS__KEY_BAD_JSON);
    assert_int_equal(code, json_error_numeric_overflow);
    hs__key_buf_free(&buf);
    hs__key_spec_clear(&spec);
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
        cmocka_unit_test(test_key_scanner_matches_dom_on_crafted_bodies),
        cmocka_unit_test(test_key_scanner_gives_the_values_jansson_gave),
        cmocka_unit_test(test_key_scanner_matches_dom_on_mutated_bodies),
        cmocka_unit_test(test_key_extract_many_equals_each_single_extract),
        cmocka_unit_test(test_key_extract_many_equals_single_on_random_bodies),
        cmocka_unit_test(test_key_stop_ends_the_pass_at_the_last_stop_target),
        cmocka_unit_test(test_key_stop_agrees_with_the_whole_pass_on_random_bodies),
        cmocka_unit_test(test_key_tail_targets_are_read_from_the_end),
        cmocka_unit_test(test_key_tail_memo_gives_what_the_read_gives),
        cmocka_unit_test(test_key_tail_memo_on_random_tails),
        cmocka_unit_test(test_key_tail_memo_comes_back_after_misses),
        cmocka_unit_test(test_key_tail_memo_strings_may_differ),
        cmocka_unit_test(test_key_head_template_gives_what_the_pass_gives),
        cmocka_unit_test(test_key_head_template_near_misses),
        cmocka_unit_test(test_key_head_template_reads_a_real_whole),
        cmocka_unit_test(test_key_memo_compares_runs_of_every_length),
        cmocka_unit_test(test_key_claim_pass_in_any_member_order),
        cmocka_unit_test(test_key_nesting_limit_is_janssons),
        cmocka_unit_test(test_key_big_integer_is_its_text),
        cmocka_unit_test(test_utf8_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
