/* fuzz_ingress.c - the checks the ingress thread makes on each [topic, body]
 * message (hs__ingress_check: body and topic sizes, topic UTF-8, key and
 * fallback key, and the time and bus-sequence values taken in the same pass,
 * each equal to what hs__key_extract gives for its spec alone), the same
 * checks as the claim's pass that stops at the key (rules.stop_early)
 * against them, with hs__utf8_valid compared against a reference decoder.
 *
 * Input: one byte of options, then the topic up to the first '\n', then the
 * body. */
#include "fuzz_util.h"

#include "hub.h"
#include "jsonline.h"

#include "hashspace/error.h"

#include <jansson.h>
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

    hs__key_spec time, seq, publisher;
    FUZZ_ASSERT(hs__key_spec_parse(&time, "json:/timestamp", err, sizeof err) == HS_OK);
    FUZZ_ASSERT(hs__key_spec_parse(&seq, "json:/i", err, sizeof err) == HS_OK);
    FUZZ_ASSERT(hs__key_spec_parse(&publisher, "json:/username", err, sizeof err) == HS_OK);
    bool track = (opt & 0x08) != 0;
    hs__ingress_rules rules = {
        .max_body = max_body,
        .max_topic = max_topic,
        .specs = {[HS__INGRESS_KEY] = &key,
                  [HS__INGRESS_FALLBACK] = has_fallback ? &fallback : NULL,
                  [HS__INGRESS_TIME] = (opt & 0x04) ? &time : NULL,
                  [HS__INGRESS_SEQ] = track ? &seq : NULL,
                  [HS__INGRESS_PUBLISHER] = track ? &publisher : NULL},
    };
    hs__ingress_verdict v = {.fell_back = true, .why = HS__MALFORMED__COUNT};
    bool ok = hs__ingress_check(&rules, topic, topic_len, body, body_len, &v);
    if (ok) {
        FUZZ_ASSERT(body_len <= max_body && topic_len <= max_topic && valid);
        FUZZ_ASSERT(has_fallback || !v.fell_back);
        const char *k = v.key;
        size_t klen = v.key_len;
        FUZZ_ASSERT(k != NULL);
        bool in_topic = k >= topic && k + klen <= topic + topic_len;
        bool in_body = k >= body && k + klen <= body + body_len;
        bool in_buf = false;
        for (size_t i = 0; i < HS__INGRESS_KEYS; i++)
            in_buf |= v.bufs[i].data != NULL && k == v.bufs[i].data && klen < v.bufs[i].cap;
        FUZZ_ASSERT(in_topic || in_body || in_buf);
        /* Every value the rules want, as its spec alone gives it. */
        hs__key_buf one = {0};
        for (size_t i = 0; i < HS__INGRESS_KEYS; i++) {
            const char *text, *alone;
            size_t len, alone_len;
            bool found = hs__ingress_value(&v, (hs__ingress_key)i, &text, &len);
            bool found_alone = rules.specs[i] != NULL &&
                               hs__key_extract(rules.specs[i], topic, topic_len, body, body_len,
                                               &one, &alone, &alone_len) == HS__KEY_OK;
            FUZZ_ASSERT(found == found_alone);
            if (found)
                FUZZ_ASSERT(len == alone_len && memcmp(text, alone, len) == 0);
        }
        hs__key_buf_free(&one);
    } else {
        FUZZ_ASSERT(v.why < HS__MALFORMED__COUNT && v.why != HS__MALFORMED_FRAMES &&
                    v.why != HS__MALFORMED_KEY_HASH);
        FUZZ_ASSERT(v.detail[0] != '\0');
        FUZZ_ASSERT(v.why != HS__MALFORMED_OVERSIZE || body_len > max_body ||
                    topic_len > max_topic);
        FUZZ_ASSERT(v.why != HS__MALFORMED_TOPIC_UTF8 || !valid);
    }
    /* The claim's pass (stop_early): when it reads the whole body, the same
     * verdict; when it stops, the key is found, and it is the whole body's
     * unless the body is not JSON after it or repeats a member. */
    hs__ingress_rules early = rules;
    early.stop_early = true;
    hs__ingress_verdict e = {0};
    bool early_ok = hs__ingress_check(&early, topic, topic_len, body, body_len, &e);
    if (e.whole || !early_ok) {
        FUZZ_ASSERT(e.whole && early_ok == ok);
        FUZZ_ASSERT(ok ? e.key_len == v.key_len && memcmp(e.key, v.key, v.key_len) == 0
                       : e.why == v.why);
    } else {
        FUZZ_ASSERT(!e.fell_back && e.key != NULL);
        json_t *strict = json_loadb(body, body_len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
        if (strict != NULL) { /* JSON, no member repeated: what the whole body gives */
            FUZZ_ASSERT(ok && !v.fell_back && e.key_len == v.key_len &&
                        memcmp(e.key, v.key, v.key_len) == 0);
            /* the time and the bus sequence too (the latter read from the end) */
            for (size_t i = HS__INGRESS_TIME; i < HS__INGRESS_KEYS; i++) {
                const char *a, *b;
                size_t alen, blen;
                bool fa = hs__ingress_value(&e, (hs__ingress_key)i, &a, &alen);
                bool fb = hs__ingress_value(&v, (hs__ingress_key)i, &b, &blen);
                FUZZ_ASSERT(fa == fb && (!fa || (alen == blen && memcmp(a, b, alen) == 0)));
            }
        }
        json_decref(strict);
    }
    hs__ingress_verdict_free(&e);
    hs__ingress_verdict_free(&v);
    hs__key_spec_clear(&time);
    hs__key_spec_clear(&seq);
    hs__key_spec_clear(&publisher);
    hs__key_spec_clear(&key);
    hs__key_spec_clear(&fallback);
    free(topic);
    free(body);
    return 0;
}
