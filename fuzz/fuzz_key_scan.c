/* fuzz_key_scan.c - differential: the key scanner (hs__key_extract) against
 * the jansson DOM path it replaced (hs__key_extract_dom) on arbitrary bodies.
 * The input's first line is a JSON pointer (`/msg/user`; one that does not
 * parse becomes `/a`), the rest the body. Both must give the same result and
 * the same bytes, except where jansson refuses a number it cannot hold (an
 * integer beyond 64 bits, a real beyond a double): the scanner takes those
 * as JSON, so there the DOM is asked again with integers as reals and the two
 * must agree on whether there is a key. And hs__key_extract_many over the
 * pointer, its prefixes and a few fixed specs must give each of them what
 * hs__key_extract gives it alone. With the pointer stopping the pass and the
 * bus sequence's targets read from the end, a tail memo
 * (hs__key_extract_many_memo) kept from the body itself, or from the body
 * with the digits of its end changed, must change nothing either. */
#include "fuzz_util.h"

#include "key.h"

#include "hashspace/error.h"

#include <jansson.h>

static const size_t dom_flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;

/* Targets beside the pointer: the hub's other keys and specs outside JSON. */
static const char *const others[] = {"json:/i", "topic", "json:/username", "body", "json:/0"};
#define NOTHERS (sizeof others / sizeof others[0])

/* The pointer's prefixes (at most 2), then the others, up to the limit. */
static size_t many_specs(const char *text, hs__key_spec *specs)
{
    char err[256], prefix[64];
    size_t n = 0;
    for (const char *slash = strchr(text + 6, '/'); slash != NULL && n < 2;
         slash = strchr(slash + 1, '/')) {
        size_t len = (size_t)(slash - text);
        if (len >= sizeof prefix)
            break;
        memcpy(prefix, text, len);
        prefix[len] = '\0';
        if (hs__key_spec_parse(&specs[n], prefix, err, sizeof err) == HS_OK)
            n++;
    }
    for (size_t i = 0; i < NOTHERS && n < HS__KEY_TARGETS_MAX - 1; i++)
        FUZZ_ASSERT(hs__key_spec_parse(&specs[n++], others[i], err, sizeof err) == HS_OK);
    return n;
}

static void check_many(const hs__key_spec *spec, const char *text, const char *frame,
                       size_t body_len)
{
    hs__key_spec specs[HS__KEY_TARGETS_MAX];
    size_t n = many_specs(text, specs + 1);
    specs[0] = *spec; /* borrowed, not cleared here */
    n++;
    hs__key_buf bufs[HS__KEY_TARGETS_MAX] = {{0}}, one = {0};
    hs__key_target t[HS__KEY_TARGETS_MAX];
    for (size_t i = 0; i < n; i++)
        t[i] = (hs__key_target){.spec = &specs[i], .buf = &bufs[i]};
    hs__key_extract_many(t, n, "t", 1, frame, body_len);
    for (size_t i = 0; i < n; i++) {
        const char *key;
        size_t len;
        hs__key_result r = hs__key_extract(&specs[i], "t", 1, frame, body_len, &one, &key, &len);
        FUZZ_ASSERT(r == t[i].result);
        if (r == HS__KEY_OK)
            FUZZ_ASSERT(len == t[i].len && memcmp(key, t[i].key, len) == 0);
    }
    for (size_t i = 0; i < n; i++) {
        hs__key_buf_free(&bufs[i]);
        if (i > 0)
            hs__key_spec_clear(&specs[i]);
    }
    hs__key_buf_free(&one);
}

/* The claim's targets as the ingress asks for them: the pointer and the
 * bus sequence (json:/i, json:/username, from the end), each stopping. */
static void memo_targets(hs__key_target *t, const hs__key_spec *specs, hs__key_buf *bufs)
{
    for (size_t i = 0; i < 3; i++)
        t[i] = (hs__key_target){.spec = &specs[i], .buf = &bufs[i], .stop = true, .tail = i > 0};
}

/* body with the memo as it is, then without: the same. */
static void memo_agrees(const hs__key_spec *specs, hs__key_memo **memo, const char *body,
                        size_t len)
{
    hs__key_buf bufs[3] = {{0}}, plain_bufs[3] = {{0}};
    hs__key_target t[3], p[3];
    memo_targets(t, specs, bufs);
    memo_targets(p, specs, plain_bufs);
    bool whole = hs__key_extract_many_memo(t, 3, "t", 1, body, len, memo);
    FUZZ_ASSERT(whole == hs__key_extract_many(p, 3, "t", 1, body, len));
    for (size_t i = 0; i < 3; i++) {
        FUZZ_ASSERT(t[i].result == p[i].result);
        if (t[i].result == HS__KEY_OK)
            FUZZ_ASSERT(t[i].len == p[i].len && memcmp(t[i].key, p[i].key, p[i].len) == 0);
    }
    for (size_t i = 0; i < 3; i++) {
        hs__key_buf_free(&bufs[i]);
        hs__key_buf_free(&plain_bufs[i]);
    }
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void check_memo(const hs__key_spec *spec, const char *frame, size_t body_len)
{
    hs__key_spec specs[3];
    char err[256];
    specs[0] = *spec; /* borrowed */
    FUZZ_ASSERT(hs__key_spec_parse(&specs[1], "json:/i", err, sizeof err) == HS_OK);
    FUZZ_ASSERT(hs__key_spec_parse(&specs[2], "json:/username", err, sizeof err) == HS_OK);
    /* The variant: each digit of the last 64 bytes one up ('9' to '0'). */
    char *variant = malloc(body_len > 0 ? body_len : 1);
    FUZZ_ASSERT(variant != NULL);
    memcpy(variant, frame, body_len);
    for (size_t i = body_len > 64 ? body_len - 64 : 0; i < body_len; i++)
        if (is_digit(variant[i]))
            variant[i] = variant[i] == '9' ? '0' : (char)(variant[i] + 1);
    /* In a body jansson loads with no repeated member name, the claim's
     * pass (stopping at the pointer, i and username it did not meet read
     * from the end) gives each target what the whole pass gives it. */
    json_t *doc = json_loadb(frame, body_len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    if (doc != NULL) {
        json_decref(doc);
        hs__key_buf bufs[3] = {{0}}, one = {0};
        hs__key_target t[3];
        memo_targets(t, specs, bufs);
        hs__key_extract_many(t, 3, "t", 1, frame, body_len);
        for (size_t i = 0; i < 3; i++) {
            const char *key;
            size_t len;
            hs__key_result r =
                hs__key_extract(&specs[i], "t", 1, frame, body_len, &one, &key, &len);
            FUZZ_ASSERT(r == t[i].result);
            if (r == HS__KEY_OK)
                FUZZ_ASSERT(len == t[i].len && memcmp(key, t[i].key, len) == 0);
            hs__key_buf_free(&bufs[i]);
        }
        hs__key_buf_free(&one);
    }
    /* For the head template: every digit one up, and every digit doubled
     * (integers and strings of other lengths; names rarely have digits). */
    char *up = malloc(body_len > 0 ? body_len : 1), *twice = malloc(2 * body_len + 1);
    FUZZ_ASSERT(up != NULL && twice != NULL);
    size_t twice_len = 0;
    for (size_t i = 0; i < body_len; i++) {
        char c = frame[i];
        bool digit = is_digit(c);
        up[i] = digit ? (c == '9' ? '0' : (char)(c + 1)) : c;
        twice[twice_len++] = c;
        if (digit)
            twice[twice_len++] = c;
    }
    hs__key_memo *memo = NULL;
    memo_agrees(specs, &memo, frame, body_len);   /* keeps it */
    memo_agrees(specs, &memo, frame, body_len);   /* from it */
    memo_agrees(specs, &memo, variant, body_len); /* the digits at the end differ */
    memo_agrees(specs, &memo, frame, body_len);
    memo_agrees(specs, &memo, up, body_len); /* every digit differs */
    memo_agrees(specs, &memo, frame, body_len);
    memo_agrees(specs, &memo, twice, twice_len); /* longer */
    memo_agrees(specs, &memo, twice, twice_len);
    memo_agrees(specs, &memo, frame, body_len);
    /* One digit doubled, after the body itself: a number that begins as
     * the kept one did and goes on (1.5, then 1.55). Up to 8 places. */
    size_t ndigits = 0, done = 0;
    for (size_t i = 0; i < body_len; i++)
        ndigits += is_digit(frame[i]);
    for (size_t i = 0, seen = 0; i < body_len && done < 8; i++) {
        if (!is_digit(frame[i]) || seen++ % (ndigits / 8 + 1) != 0)
            continue;
        memcpy(twice, frame, i + 1);
        memcpy(twice + i + 1, frame + i, body_len - i);
        memo_agrees(specs, &memo, frame, body_len);
        memo_agrees(specs, &memo, twice, body_len + 1);
        done++;
    }
    /* For the tail window's strings that may differ: the letters of the
     * last 48 bytes changed, then one of those bytes left out or doubled
     * (a stamp or a signature of another length), at up to 8 places. */
    memcpy(up, frame, body_len);
    for (size_t i = body_len > 48 ? body_len - 48 : 0; i < body_len; i++)
        if ((up[i] >= 'a' && up[i] < 'z') || (up[i] >= 'A' && up[i] < 'Z'))
            up[i] = (char)(up[i] + 1);
    memo_agrees(specs, &memo, frame, body_len);
    memo_agrees(specs, &memo, up, body_len);
    for (size_t k = 0; k < 8 && k < body_len; k++) {
        size_t at = body_len - 1 - k * 6 % (body_len < 48 ? body_len : 48);
        memcpy(twice, frame, at);
        memcpy(twice + at, frame + at + 1, body_len - at - 1); /* left out */
        memo_agrees(specs, &memo, frame, body_len);
        memo_agrees(specs, &memo, twice, body_len - 1);
        memcpy(twice, frame, at + 1);
        memcpy(twice + at + 1, frame + at, body_len - at); /* doubled */
        memo_agrees(specs, &memo, frame, body_len);
        memo_agrees(specs, &memo, twice, body_len + 1);
    }
    hs__key_memo_free(memo);
    free(up);
    free(twice);
    free(variant);
    hs__key_spec_clear(&specs[1]);
    hs__key_spec_clear(&specs[2]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pointer_len, body_len;
    const uint8_t *body = fuzz_split(data, size, &pointer_len, &body_len);
    char *text = malloc(pointer_len + 6);
    FUZZ_ASSERT(text != NULL);
    memcpy(text, "json:", 5);
    memcpy(text + 5, data, pointer_len);
    text[5 + pointer_len] = '\0';
    /* The body as the ingress sees it: a frame, not NUL-terminated. */
    char *frame = malloc(body_len > 0 ? body_len : 1);
    FUZZ_ASSERT(frame != NULL);
    memcpy(frame, body, body_len);

    hs__key_spec spec;
    char err[256];
    const char *used = text;
    if (hs__key_spec_parse(&spec, text, err, sizeof err) != HS_OK) {
        used = "json:/a";
        FUZZ_ASSERT(hs__key_spec_parse(&spec, used, err, sizeof err) == HS_OK);
    }

    check_many(&spec, used, frame, body_len);
    check_memo(&spec, frame, body_len);

    hs__key_buf sbuf = {0}, dbuf = {0};
    const char *skey = NULL, *dkey = NULL;
    size_t slen = 0, dlen = 0;
    int code = -1;
    hs__key_result sr = hs__key_extract(&spec, "t", 1, frame, body_len, &sbuf, &skey, &slen);
    hs__key_result dr =
        hs__key_extract_dom(&spec, frame, body_len, dom_flags, &dbuf, &dkey, &dlen, &code);
    if (dr == HS__KEY_BAD_JSON && code == json_error_numeric_overflow) {
        dr = hs__key_extract_dom(&spec, frame, body_len, dom_flags | JSON_DECODE_INT_AS_REAL, &dbuf,
                                 &dkey, &dlen, &code);
        /* Still refused: a number beyond a double, nothing to compare with. */
        if (dr != HS__KEY_BAD_JSON || code != json_error_numeric_overflow)
            FUZZ_ASSERT(sr == dr);
    } else {
        FUZZ_ASSERT(sr == dr);
        if (sr == HS__KEY_OK)
            FUZZ_ASSERT(slen == dlen && memcmp(skey, dkey, slen) == 0);
    }
    if (sr == HS__KEY_OK) {
        /* in buf, NUL-terminated, or a slice of the body (key.h) */
        FUZZ_ASSERT((skey == sbuf.data && slen < sbuf.cap && skey[slen] == '\0') ||
                    (skey >= frame && skey + slen <= frame + body_len));
        /* The same answer again with the buffer reused. */
        char *first = malloc(slen + 1);
        FUZZ_ASSERT(first != NULL);
        memcpy(first, skey, slen);
        size_t first_len = slen;
        FUZZ_ASSERT(hs__key_extract(&spec, "t", 1, frame, body_len, &sbuf, &skey, &slen) ==
                    HS__KEY_OK);
        FUZZ_ASSERT(slen == first_len && memcmp(first, skey, slen) == 0);
        free(first);
    }
    hs__key_buf_free(&sbuf);
    hs__key_buf_free(&dbuf);
    hs__key_spec_clear(&spec);
    free(frame);
    free(text);
    return 0;
}
