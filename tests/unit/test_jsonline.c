/* test_jsonline.c - the one JSON encoding of a message (jsonline.h), used by
 * the file and exec sinks, the dead-letter records and tail --json: a JSON
 * body as it came (compacted when it spans lines), text as a string, and
 * bytes that are not UTF-8 or hold a NUL in base64; and the file sink and
 * the dead-letter file write exactly that. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "deadletter.h"
#include "hashspace/error.h"
#include "jsonline.h"
#include "sink.h"

/* The line for one message, without its '\n' (static: one at a time). */
static const char *encode(const char *topic, size_t tlen, const char *body, size_t blen,
                          bool body_json)
{
    static hs__jsonline j = HS__JSONLINE_INIT;
    static char copy[1024];
    const char *line;
    size_t len;
    hs__jsonline_start(&j);
    hs__jsonline_message(&j, topic, tlen, body, blen, body_json);
    assert_int_equal(hs__jsonline_end(&j, &line, &len), 0);
    assert_true(len > 0 && line[len - 1] == '\n' && line[len] == '\0');
    assert_null(memchr(line, '\n', len - 1));
    assert_true(len < sizeof copy);
    memcpy(copy, line, len - 1);
    copy[len - 1] = '\0';
    return copy;
}

#define BODY(s) "t", 1, s, sizeof s - 1

static void test_jsonline_json_body_is_written_as_it_came(void **state)
{
    (void)state;
    /* Spaces, a number beyond 64 bits, an escaped NUL, a repeated key, an
     * escape jansson would rewrite: all kept byte for byte. */
    assert_string_equal(encode(BODY("{\"a\": [1, 2],\"n\":123456789012345678901234567890}"), true),
                        "{\"topic\":\"t\",\"body\":{\"a\": [1, 2],"
                        "\"n\":123456789012345678901234567890}}");
    assert_string_equal(encode(BODY("{\"s\":\"nul\\u0000\\u00e9\",\"s\":2}"), true),
                        "{\"topic\":\"t\",\"body\":{\"s\":\"nul\\u0000\\u00e9\",\"s\":2}}");
    assert_string_equal(encode(BODY(" 42 "), true), "{\"topic\":\"t\",\"body\": 42 }");
    assert_string_equal(encode(BODY("\"text\""), true), "{\"topic\":\"t\",\"body\":\"text\"}");
}

static void test_jsonline_json_body_on_several_lines_is_compacted(void **state)
{
    (void)state;
    assert_string_equal(encode(BODY("{\n  \"a b\": \"x  y\",\r\n\t\"q\": \"\\\" }\"\n}\n"), true),
                        "{\"topic\":\"t\",\"body\":{\"a b\":\"x  y\",\"q\":\"\\\" }\"}}");
}

static void test_jsonline_text_is_a_string_with_escapes(void **state)
{
    (void)state;
    assert_string_equal(encode(BODY("not json \"q\" \\ \n\t\x01 caf\xc3\xa9"), true),
                        "{\"topic\":\"t\",\"body\":\"not json \\\"q\\\" \\\\ \\n\\t\\u0001 "
                        "caf\xc3\xa9\"}");
    /* JSON, but the caller says not to take it as JSON (a truncated body). */
    assert_string_equal(encode(BODY("{\"a\":1}"), false),
                        "{\"topic\":\"t\",\"body\":\"{\\\"a\\\":1}\"}");
    assert_string_equal(encode("t", 1, "", 0, true), "{\"topic\":\"t\",\"body\":\"\"}");
}

static void test_jsonline_not_utf8_or_nul_is_base64(void **state)
{
    (void)state;
    assert_string_equal(encode(BODY("\xff\xfe\x00\x01"), true),
                        "{\"topic\":\"t\",\"body_base64\":\"//4AAQ==\"}");
    /* A NUL byte, even in otherwise valid text or after JSON that jansson
     * would load (it loses a NUL after a number): base64, every byte kept. */
    assert_string_equal(encode(BODY("a\0b"), true), "{\"topic\":\"t\",\"body_base64\":\"YQBi\"}");
    assert_string_equal(encode(BODY("[1\0]"), true),
                        "{\"topic\":\"t\",\"body_base64\":\"WzEAXQ==\"}");
    assert_string_equal(encode("o\xff", 2, "{}", 2, true),
                        "{\"topic_base64\":\"b/8=\",\"body\":{}}");
    assert_string_equal(encode("o\0k", 3, "{}", 2, true),
                        "{\"topic_base64\":\"bwBr\",\"body\":{}}");
}

static void test_jsonline_other_members_and_growth(void **state)
{
    (void)state;
    hs__jsonline j = HS__JSONLINE_INIT;
    char big[3000];
    memset(big, 'x', sizeof big);
    for (int round = 0; round < 2; round++) { /* the buffer is reused */
        hs__jsonline_start(&j);
        hs__jsonline_bytes(&j, "reason", "failed", 6);
        hs__jsonline_int(&j, "attempts", -3);
        hs__jsonline_message(&j, "t", 1, big, sizeof big, true);
        hs__jsonline_raw(&j, "truncated", "true", 4);
        const char *line;
        size_t len;
        assert_int_equal(hs__jsonline_end(&j, &line, &len), 0);
        assert_int_equal(len, 73 + sizeof big);
        assert_int_equal(strncmp(line,
                                 "{\"reason\":\"failed\",\"attempts\":-3,\"topic\":\"t\","
                                 "\"body\":\"xxx",
                                 55),
                         0);
        assert_string_equal(line + len - 20, "\",\"truncated\":true}\n");
    }
    hs__jsonline_free(&j);
}

/* The file sink and the dead-letter file write the encoder's line. */
static void test_jsonline_is_what_file_sink_and_dead_letters_write(void **state)
{
    (void)state;
    char dir[] = "/tmp/hs-test-jsonline-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[300], spec[320], err[256];
    snprintf(path, sizeof path, "%s/out.jsonl", dir);
    hs__sink_env env = {.consumer = "c"};
    void *sink;
    assert_int_equal(hs__sink_file.open(&sink, path, &env, err, sizeof err), HS_OK);
    hs_message m = {"t", 1, "a\0b", 3, 0, 1};
    assert_int_equal(hs__sink_file.consume(sink, &m, err, sizeof err), HS_OK);
    hs_message m2 = {"t", 1, "{\"k\": 1}", 8, 0, 1};
    assert_int_equal(hs__sink_file.consume(sink, &m2, err, sizeof err), HS_OK);
    hs__sink_file.close(sink);
    char text[512] = "";
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    assert_string_equal(text, "{\"topic\":\"t\",\"body_base64\":\"YQBi\"}\n"
                              "{\"topic\":\"t\",\"body\":{\"k\": 1}}\n");
    unlink(path);

    snprintf(path, sizeof path, "%s/dead.jsonl", dir);
    snprintf(spec, sizeof spec, "file:%s", path);
    hs__deadletter *dl;
    assert_int_equal(hs__deadletter_new(&dl, spec, err, sizeof err), HS_OK);
    hs__deadletter_rec rec = {.reason = "json",
                              .error = "not \"JSON\"",
                              .topic = "t",
                              .topic_len = 1,
                              .body = "a\0b",
                              .body_len = 3,
                              .body_total = 3};
    hs__deadletter_write(dl, &rec);
    hs__deadletter_free(dl);
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    assert_string_equal(text, "{\"reason\":\"json\",\"received\":\"1970-01-01T00:00:00.000000Z\","
                              "\"error\":\"not \\\"JSON\\\"\",\"topic\":\"t\",\"body_base64\":"
                              "\"YQBi\",\"body_len\":3}\n");
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonline_json_body_is_written_as_it_came),
        cmocka_unit_test(test_jsonline_json_body_on_several_lines_is_compacted),
        cmocka_unit_test(test_jsonline_text_is_a_string_with_escapes),
        cmocka_unit_test(test_jsonline_not_utf8_or_nul_is_base64),
        cmocka_unit_test(test_jsonline_other_members_and_growth),
        cmocka_unit_test(test_jsonline_is_what_file_sink_and_dead_letters_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
