/* fuzz_jsonline.c - the one JSON encoding of a message (file and exec sinks,
 * dead letters, tail --json): the line is one line of valid JSON, and every
 * byte of the topic and the body comes back from it, as a string or base64,
 * or as the same JSON value when the body is JSON (the key scanner's
 * validation agreeing with jansson's, numbers jansson cannot hold aside).
 *
 * Input: one byte of options, the topic up to the first '\n', the body. */
#include "fuzz_util.h"

#include "jsonline.h"
#include "key.h"

#include <jansson.h>

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decode padded base64 into a malloc'd buffer; NULL when malformed. */
static uint8_t *b64_decode(const char *s, size_t len, size_t *out_len)
{
    if (len % 4 != 0)
        return NULL;
    uint8_t *out = malloc(len / 4 * 3 + 1);
    FUZZ_ASSERT(out != NULL);
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        size_t pad = 0;
        for (size_t k = 0; k < 4; k++) {
            if (s[i + k] == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
            } else if ((v[k] = b64_value(s[i + k])) < 0 || pad > 0) {
                free(out);
                return NULL;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | v[3];
        out[o++] = (uint8_t)(w >> 16);
        if (pad < 2)
            out[o++] = (uint8_t)(w >> 8);
        if (pad < 1)
            out[o++] = (uint8_t)w;
    }
    *out_len = o;
    return out;
}

/* The bytes of field `name` (a string) or `name`_base64 in obj. */
static void expect_bytes(json_t *obj, const char *name, const uint8_t *want, size_t want_len)
{
    char b64name[32];
    snprintf(b64name, sizeof b64name, "%s_base64", name);
    json_t *plain = json_object_get(obj, name), *coded = json_object_get(obj, b64name);
    FUZZ_ASSERT((plain == NULL) != (coded == NULL));
    if (plain != NULL) {
        FUZZ_ASSERT(json_is_string(plain));
        FUZZ_ASSERT(json_string_length(plain) == want_len);
        FUZZ_ASSERT(memcmp(json_string_value(plain), want, want_len) == 0);
        return;
    }
    FUZZ_ASSERT(json_is_string(coded));
    size_t got_len;
    uint8_t *got = b64_decode(json_string_value(coded), json_string_length(coded), &got_len);
    FUZZ_ASSERT(got != NULL);
    FUZZ_ASSERT(got_len == want_len && memcmp(got, want, want_len) == 0);
    free(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool body_json = data[0] & 1;
    size_t topic_len, body_len;
    const uint8_t *rest = fuzz_split(data + 1, size - 1, &topic_len, &body_len);
    char *topic = malloc(topic_len + 1), *body = malloc(body_len + 1);
    FUZZ_ASSERT(topic != NULL && body != NULL);
    memcpy(topic, data + 1, topic_len);
    memcpy(body, rest, body_len);

    hs__jsonline j = HS__JSONLINE_INIT;
    hs__jsonline_start(&j);
    hs__jsonline_message(&j, topic, topic_len, body, body_len, body_json);
    const char *line;
    size_t line_len = 0;
    FUZZ_ASSERT(hs__jsonline_end(&j, &line, &line_len) == 0);
    FUZZ_ASSERT(line_len > 0 && line[line_len - 1] == '\n');
    FUZZ_ASSERT(line[line_len] == '\0' && memchr(line, '\n', line_len - 1) == NULL);
    FUZZ_ASSERT(memchr(line, '\r', line_len) == NULL && memchr(line, '\0', line_len) == NULL);

    json_error_t jerr;
    bool is_json = body_json && hs__json_valid(body, body_len);
    json_t *parsed =
        is_json ? json_loadb(body, body_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr) : NULL;
    json_t *back = json_loadb(line, line_len, JSON_ALLOW_NUL, &jerr);
    if (back == NULL) {
        /* Only a JSON body with a number jansson cannot hold (the scanner
         * takes it, on purpose) makes the line one jansson refuses. */
        FUZZ_ASSERT(is_json && parsed == NULL);
    } else {
        FUZZ_ASSERT(json_is_object(back));
        expect_bytes(back, "topic", (const uint8_t *)topic, topic_len);
        if (parsed != NULL)
            FUZZ_ASSERT(json_equal(json_object_get(back, "body"), parsed));
        else
            expect_bytes(back, "body", (const uint8_t *)body, body_len);
    }
    json_decref(parsed);
    json_decref(back);
    hs__jsonline_free(&j);
    free(topic);
    free(body);
    return 0;
}
