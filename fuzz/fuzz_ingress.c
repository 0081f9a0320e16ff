/* fuzz_ingress.c - the checks the ingress thread makes on each [topic, body]
 * message (hs__ingress_check: body and topic sizes, topic UTF-8, key and
 * fallback key), with
 * hs__utf8_valid compared against a reference decoder.
 *
 * Input: one byte of options, then the topic up to the first '\n', then the
 * body. */
#include "fuzz_util.h"

#include "hub.h"
#include "jsonline.h"

#include "hashspace/error.h"

#include <stdbool.h>

static const char *const specs[] = {"body",           "topic",        "json:/id",
                                    "json:/msg/user", "json:/a~1b/0", "json:/"};
#define NSPECS (sizeof specs / sizeof specs[0])

/* RFC 3629, written as its table of well-formed byte sequences. */
static bool utf8_reference(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        uint8_t lo = 0x80, hi = 0xbf;
        size_t n;
        if (c <= 0x7f) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
        } else if (c == 0xe0) {
            n = 2, lo = 0xa0;
        } else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) {
            n = 2;
        } else if (c == 0xed) {
            n = 2, hi = 0x9f;
        } else if (c == 0xf0) {
            n = 3, lo = 0x90;
        } else if (c >= 0xf1 && c <= 0xf3) {
            n = 3;
        } else if (c == 0xf4) {
            n = 3, hi = 0x8f;
        } else {
            return false;
        }
        if (i + n >= len)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= n; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf)
                return false;
        i += n + 1;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t opt = data[0];
    size_t topic_len, body_len;
    const uint8_t *rest = fuzz_split(data + 1, size - 1, &topic_len, &body_len);
    /* Frames as libzmq hands them over: exact-size buffers, no NUL. */
    char *topic = malloc(topic_len + 1), *body = malloc(body_len + 1);
    FUZZ_ASSERT(topic != NULL && body != NULL);
    memcpy(topic, data + 1, topic_len);
    memcpy(body, rest, body_len);

    bool valid = hs__utf8_valid(topic, topic_len);
    FUZZ_ASSERT(valid == utf8_reference((const uint8_t *)topic, topic_len));

    hs__key_spec key, fallback;
    char err[256];
    FUZZ_ASSERT(hs__key_spec_parse(&key, specs[opt % NSPECS], err, sizeof err) == HS_OK);
    bool has_fallback = (opt & 0x40) != 0;
    FUZZ_ASSERT(hs__key_spec_parse(&fallback, (opt & 0x20) ? "topic" : "json:/fallback", err,
                                   sizeof err) == HS_OK);
    size_t max_body = (opt & 0x80) ? 16 : HS__DEFAULT_MAX_BODY;
    size_t max_topic = (opt & 0x10) ? 8 : HS__DEFAULT_MAX_TOPIC;

    hs__key_buf buf = {0};
    const char *k = NULL;
    size_t klen = 0;
    bool fell_back = true;
    hs__malformed why = HS__MALFORMED__COUNT;
    char detail[160] = "";
    bool ok = hs__ingress_check(max_body, max_topic, &key, has_fallback ? &fallback : NULL, topic,
                                topic_len, body, body_len, &buf, &k, &klen, &fell_back, &why,
                                detail, sizeof detail);
    if (ok) {
        FUZZ_ASSERT(body_len <= max_body && topic_len <= max_topic && valid);
        FUZZ_ASSERT(has_fallback || !fell_back);
        FUZZ_ASSERT(k != NULL);
        bool in_topic = k >= topic && k + klen <= topic + topic_len;
        bool in_body = k >= body && k + klen <= body + body_len;
        bool in_buf = buf.data != NULL && k == buf.data && klen < buf.cap;
        FUZZ_ASSERT(in_topic || in_body || in_buf);
    } else {
        FUZZ_ASSERT(why < HS__MALFORMED__COUNT && why != HS__MALFORMED_FRAMES &&
                    why != HS__MALFORMED_KEY_HASH);
        FUZZ_ASSERT(detail[0] != '\0');
        FUZZ_ASSERT(why != HS__MALFORMED_OVERSIZE || body_len > max_body || topic_len > max_topic);
        FUZZ_ASSERT(why != HS__MALFORMED_TOPIC_UTF8 || !valid);
    }
    hs__key_buf_free(&buf);
    hs__key_spec_clear(&key);
    hs__key_spec_clear(&fallback);
    free(topic);
    free(body);
    return 0;
}
