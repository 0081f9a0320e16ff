/* key.c - key specs and key extraction: RFC 6901 JSON pointers resolved by a
 * scanner that validates the body in one pass without building it (the hub's
 * path), and by jansson's DOM (the reference the tests compare it with). */
#include "key.h"

#include "hashspace/error.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

void hs__key_spec_clear(hs__key_spec *spec)
{
    for (size_t i = 0; i < spec->ntokens; i++)
        free(spec->tokens[i]);
    free(spec->tokens);
    free(spec->token_lens);
    spec->tokens = NULL;
    spec->token_lens = NULL;
    spec->ntokens = 0;
}

/* Split "/a/b~1c" into unescaped tokens {"a", "b/c"}. */
static int parse_pointer(hs__key_spec *out, const char *p, char *err, size_t errlen)
{
    if (*p != '/') {
        snprintf(err, errlen, "a JSON pointer starts with '/' (e.g. json:/msg/user), got '%s'", p);
        return HS_EPARSE;
    }
    size_t n = 0;
    for (const char *c = p; *c != '\0'; c++)
        n += *c == '/';
    out->tokens = calloc(n, sizeof *out->tokens);
    out->token_lens = calloc(n, sizeof *out->token_lens);
    if (out->tokens == NULL || out->token_lens == NULL)
        return HS_ENOMEM;
    const char *c = p + 1;
    for (size_t i = 0; i < n; i++) {
        const char *end = strchr(c, '/');
        size_t raw = end != NULL ? (size_t)(end - c) : strlen(c);
        char *tok = malloc(raw + 1);
        if (tok == NULL)
            return HS_ENOMEM;
        out->tokens[i] = tok;
        out->ntokens = i + 1;
        size_t len = 0;
        for (size_t k = 0; k < raw; k++) {
            if (c[k] != '~') {
                tok[len++] = c[k];
                continue;
            }
            if (k + 1 < raw && (c[k + 1] == '0' || c[k + 1] == '1')) {
                tok[len++] = c[k + 1] == '0' ? '~' : '/';
                k++;
                continue;
            }
            snprintf(err, errlen, "JSON pointer '%s': '~' must be followed by 0 or 1", p);
            return HS_EPARSE;
        }
        tok[len] = '\0';
        out->token_lens[i] = len;
        c += raw + 1;
    }
    return HS_OK;
}

int hs__key_spec_parse(hs__key_spec *out, const char *text, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (strcmp(text, "body") == 0) {
        out->kind = HS__KEY_BODY;
        return HS_OK;
    }
    if (strcmp(text, "topic") == 0) {
        out->kind = HS__KEY_TOPIC;
        return HS_OK;
    }
    if (strncmp(text, "json:", 5) == 0) {
        out->kind = HS__KEY_JSON;
        int rc = parse_pointer(out, text + 5, err, errlen);
        if (rc == HS_ENOMEM)
            snprintf(err, errlen, "out of memory");
        if (rc != HS_OK)
            hs__key_spec_clear(out);
        return rc;
    }
    snprintf(err, errlen, "unknown key '%s' (expected body, topic or json:/pointer)", text);
    return HS_EPARSE;
}

/* Room for len bytes and a NUL in buf. */
static int buf_reserve(hs__key_buf *buf, size_t len)
{
    if (buf->cap < len + 1) {
        size_t cap = len + 1 < 256 ? 256 : len + 1;
        char *d = realloc(buf->data, cap);
        if (d == NULL)
            return -1;
        buf->data = d;
        buf->cap = cap;
    }
    return 0;
}

static int buf_put(hs__key_buf *buf, const char *s, size_t len)
{
    if (buf_reserve(buf, len) != 0)
        return -1;
    memcpy(buf->data, s, len);
    buf->data[len] = '\0';
    return 0;
}

/* An array index: "0" or digits without a leading zero. */
static int array_index(const char *tok, size_t len, size_t *out)
{
    if (len == 0 || len > 18 || (len > 1 && tok[0] == '0'))
        return -1;
    size_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)tok[i]))
            return -1;
        v = v * 10 + (size_t)(tok[i] - '0');
    }
    *out = v;
    return 0;
}

/* ---- the scanner ----
 *
 * One pass over the body, no allocation: a recursive descent that validates
 * the whole document as jansson does (json_loadb with JSON_DECODE_ANY |
 * JSON_ALLOW_NUL: RFC 8259 grammar, UTF-8 checked in strings, \u escapes and
 * surrogate pairs checked, no NUL in object keys, nesting at most
 * JSON_PARSER_MAX_DEPTH values deep, nothing but whitespace after the value)
 * and notes where each target pointer's value lies: several pointers share
 * the pass (hs__key_extract_many), each value carrying the set of targets
 * whose path it is on, as a bitmask (all of them have matched as many
 * tokens as the value is deep). It reads to the end even when the
 * value came early, for two reasons: a body jansson refuses must be refused
 * here too, and a repeated object key replaces the earlier member in
 * jansson's DOM, so the last occurrence is the one that counts (for every
 * target below it). The exception is asked for: targets marked .stop end
 * the pass once each has a scalar value (SCAN_STOPPED unwinds the
 * recursion), for the hub's claim, which reads the rest only for the
 * messages it takes (ingress.c). Only numbers
 * depart from jansson, on purpose: an integer beyond 64 bits or a real
 * beyond a double's range is valid JSON, and its key is its text (jansson
 * refuses the whole body).
 */

#define SCAN_MAX_DEPTH JSON_PARSER_MAX_DEPTH /* jansson's limit, kept */

typedef enum found_kind {
    FOUND_NONE,
    FOUND_NULL,
    FOUND_STRING,
    FOUND_INTEGER,
    FOUND_REAL,
    FOUND_TRUE,
    FOUND_FALSE,
    FOUND_CONTAINER,
} found_kind;

/* A target's value so far (a later duplicate key replaces it). */
typedef struct found_value {
    found_kind kind;
    const unsigned char *text; /* its raw text: a string's without the quotes */
    size_t len;
    bool escaped; /* a string with backslash escapes */
} found_value;

/* Targets on the path to a value, one bit per target: all of them have
 * matched the same number of tokens (the value's depth - 1). */
typedef unsigned target_mask;

/* The string and number values a forward pass met, in order, while it
 * records them for the head template (below). */
#define HEAD_MAX_REGIONS 24
typedef struct head_rec {
    size_t n;
    bool full; /* more than HEAD_MAX_REGIONS: nothing to keep */
    struct {
        const unsigned char *start, *end; /* a string's with its quotes */
        unsigned char kind;               /* REGION_* */
    } r[HEAD_MAX_REGIONS];
} head_rec;

enum { REGION_NONE, REGION_STRING, REGION_INTEGER, REGION_REAL };

typedef struct scan {
    const unsigned char *p, *end;
    const hs__key_spec *specs[HS__KEY_TARGETS_MAX]; /* the json: targets */
    found_value found[HS__KEY_TARGETS_MAX];
    target_mask stop;    /* the targets whose values end the pass early; 0: read it all */
    target_mask pending; /* of those, the ones without a scalar value so far */
    head_rec *rec;       /* recording the values met, or NULL */
} scan;

/* What the scan functions return: the value is valid, it is not, or every
 * target in scan.stop has a scalar value and the pass ends here. */
enum { SCAN_OK = 0, SCAN_BAD = -1, SCAN_STOPPED = 1 };

enum { STRING_ESCAPED = 1u << 0, STRING_NUL = 1u << 1 };

static inline bool is_space(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static inline void skip_space(scan *s)
{
    while (s->p < s->end && is_space(*s->p))
        s->p++;
}

/* After a member or an element, s->p past its value: the container's
 * closing `close` (consumed: 0), a comma and what follows it (consumed: 1),
 * or anything else (-1). */
static inline int next_item(scan *s, unsigned char close)
{
    skip_space(s);
    if (s->p == s->end)
        return -1;
    if (*s->p == close) {
        s->p++;
        return 0;
    }
    if (*s->p != ',')
        return -1;
    s->p++;
    skip_space(s);
    return 1;
}

static inline int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Four hex digits at p (p + 4 <= end checked by the caller), or -1. */
static inline int32_t hex4(const unsigned char *p)
{
    int32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_value(p[i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

/* One UTF-8 sequence starting with lead byte p[0] >= 0x80, as jansson
 * accepts it: no overlong forms, no surrogates, nothing above U+10FFFF.
 * Returns its length, or 0. */
static inline size_t utf8_sequence(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t n;
    uint32_t min, v;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, min = 0x80, v = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, min = 0x800, v = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, min = 0x10000, v = c & 0x07u;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0u) != 0x80u)
            return 0;
        v = v << 6 | (p[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    return n;
}

/* Past the bytes that need no look in a string: printable ASCII but the
 * quote and the backslash. Sixteen at a time with SSE2 (x86-64's baseline:
 * a signed compare with 0x20 catches both the control characters and the
 * bytes from 0x80 up), eight at a time elsewhere, then byte by byte. */
static inline const unsigned char *skip_plain(const unsigned char *p, const unsigned char *end)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'),
                  space = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i special =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                         _mm_cmplt_epi8(v, space));
        unsigned mask = (unsigned)_mm_movemask_epi8(special);
        if (mask != 0)
            return p + __builtin_ctz(mask);
        p += 16;
    }
#else
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    while (end - p >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        uint64_t quote = v ^ (ones * '"'), backslash = v ^ (ones * '\\');
        /* Each term has a high bit set iff some byte is below 0x20, at or
         * above 0x80, a quote, a backslash (exact for "any", not per byte). */
        uint64_t special = ((v - ones * 0x20) & ~v) | v | ((quote - ones) & ~quote) |
                           ((backslash - ones) & ~backslash);
        if ((special & highs) != 0)
            break;
        p += 8;
    }
#endif
    while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
        p++;
    return p;
}

/* A string, s->p on its opening quote. On success s->p is past the closing
 * quote, *text and *len give what is between the quotes and *flags says
 * whether it has escapes and whether one of them is \u0000. */
static int scan_string(scan *s, const unsigned char **text, size_t *len, unsigned *flags)
{
    const unsigned char *p = s->p + 1, *end = s->end;
    unsigned f = 0;
    *text = p;
    for (;;) {
        p = skip_plain(p, end);
        if (p == end)
            return -1;
        unsigned char c = *p;
        if (c == '"')
            break;
        if (c < 0x20)
            return -1; /* a control character */
        if (c >= 0x80) {
            size_t n = utf8_sequence(p, end);
            if (n == 0)
                return -1;
            p += n;
            continue;
        }
        /* a backslash */
        f |= STRING_ESCAPED;
        if (end - p < 2)
            return -1;
        c = p[1];
        if (c != 'u') {
            if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' && c != 'n' && c != 'r' &&
                c != 't')
                return -1;
            p += 2;
            continue;
        }
        if (end - p < 6)
            return -1;
        int32_t u = hex4(p + 2);
        if (u < 0)
            return -1;
        p += 6;
        if (u == 0)
            f |= STRING_NUL;
        if (u >= 0xDC00 && u <= 0xDFFF)
            return -1; /* a low surrogate alone */
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
                return -1;
            int32_t low = hex4(p + 2);
            if (low < 0xDC00 || low > 0xDFFF)
                return -1;
            p += 6;
        }
    }
    *len = (size_t)(p - *text);
    *flags = f;
    s->p = p + 1;
    return 0;
}

/* The next decoded bytes of a validated string's raw text at *pp (before
 * end) into out; returns how many (1 to 4). */
static size_t decode_unit(const unsigned char **pp, unsigned char out[4])
{
    const unsigned char *p = *pp;
    if (*p != '\\') {
        out[0] = *p;
        *pp = p + 1;
        return 1;
    }
    unsigned char c = p[1];
    if (c != 'u') {
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        out[0] = (unsigned char)to[strchr(from, c) - from];
        *pp = p + 2;
        return 1;
    }
    uint32_t u = (uint32_t)hex4(p + 2);
    p += 6;
    if (u >= 0xD800 && u <= 0xDBFF) {
        u = 0x10000 + ((u - 0xD800) << 10) + ((uint32_t)hex4(p + 2) - 0xDC00);
        p += 6;
    }
    *pp = p;
    if (u < 0x80) {
        out[0] = (unsigned char)u;
        return 1;
    }
    if (u < 0x800) {
        out[0] = (unsigned char)(0xC0 | u >> 6);
        out[1] = (unsigned char)(0x80 | (u & 0x3F));
        return 2;
    }
    if (u < 0x10000) {
        out[0] = (unsigned char)(0xE0 | u >> 12);
        out[1] = (unsigned char)(0x80 | (u >> 6 & 0x3F));
        out[2] = (unsigned char)(0x80 | (u & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | u >> 18);
    out[1] = (unsigned char)(0x80 | (u >> 12 & 0x3F));
    out[2] = (unsigned char)(0x80 | (u >> 6 & 0x3F));
    out[3] = (unsigned char)(0x80 | (u & 0x3F));
    return 4;
}

/* Decode a validated string into dst (room for len bytes: decoding never
 * lengthens); returns the decoded length. */
static size_t decode_string(char *dst, const unsigned char *text, size_t len)
{
    const unsigned char *p = text, *end = text + len;
    size_t n = 0;
    while (p < end) {
        unsigned char u[4];
        size_t k = decode_unit(&p, u);
        memcpy(dst + n, u, k);
        n += k;
    }
    return n;
}

/* Whether a validated object key equals a pointer token. */
static bool key_equals(const unsigned char *text, size_t len, unsigned flags, const char *tok,
                       size_t tok_len)
{
    if (!(flags & STRING_ESCAPED))
        return len == tok_len && memcmp(text, tok, len) == 0;
    const unsigned char *p = text, *end = text + len;
    size_t at = 0;
    while (p < end) {
        unsigned char u[4];
        size_t k = decode_unit(&p, u);
        if (k > tok_len - at || memcmp(tok + at, u, k) != 0)
            return false;
        at += k;
    }
    return at == tok_len;
}

/* A number, s->p on its first character: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int scan_number(scan *s, bool *integer)
{
    const unsigned char *p = s->p, *end = s->end;
    if (*p == '-')
        p++;
    if (p == end || *p < '0' || *p > '9')
        return -1;
    if (*p++ != '0')
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    *integer = true;
    if (p < end && *p == '.') {
        *integer = false;
        if (++p == end || *p < '0' || *p > '9')
            return -1;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *integer = false;
        if (++p < end && (*p == '+' || *p == '-'))
            p++;
        if (p == end || *p < '0' || *p > '9')
            return -1;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    s->p = p;
    return 0;
}

static int scan_value(scan *s, size_t depth, target_mask on_path);

/* Record the value at hand for each target in `here`. */
static inline void found(scan *s, target_mask here, found_kind kind, const unsigned char *text,
                         size_t len, bool escaped)
{
    if (kind == FOUND_NULL || kind == FOUND_CONTAINER)
        s->pending |= here & s->stop;
    else
        s->pending &= ~here;
    for (; here != 0; here &= here - 1) {
        found_value *f = &s->found[__builtin_ctz(here)];
        f->kind = kind;
        f->text = text;
        f->len = len;
        f->escaped = escaped;
    }
}

/* Of the targets on the path to a member of an object at `level`, those
 * whose next token is the member's key. A repeated key replaces the earlier
 * member, and with it whatever was found below it for those targets. */
static inline target_mask member_on_path(scan *s, target_mask on_path, size_t level,
                                         const unsigned char *key, size_t key_len, unsigned flags)
{
    target_mask child = 0;
    for (target_mask m = on_path; m != 0; m &= m - 1) {
        unsigned t = (unsigned)__builtin_ctz(m);
        const hs__key_spec *spec = s->specs[t];
        if (key_equals(key, key_len, flags, spec->tokens[level], spec->token_lens[level])) {
            child |= 1u << t;
            s->found[t].kind = FOUND_NONE;
        }
    }
    s->pending |= child & s->stop;
    return child;
}

/* `on_path`: the targets whose path leads into this object and goes on
 * past it (level = depth - 1 tokens matched). */
static int scan_object(scan *s, size_t depth, target_mask on_path)
{
    s->p++;
    skip_space(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return 0;
    }
    for (;;) {
        if (s->p == s->end || *s->p != '"')
            return -1;
        const unsigned char *key;
        size_t key_len;
        unsigned flags;
        if (scan_string(s, &key, &key_len, &flags) != 0 || (flags & STRING_NUL))
            return -1; /* jansson refuses a NUL in an object key */
        target_mask child =
            on_path != 0 ? member_on_path(s, on_path, depth - 1, key, key_len, flags) : 0;
        skip_space(s);
        if (s->p == s->end || *s->p != ':')
            return -1;
        s->p++;
        skip_space(s);
        int rc = scan_value(s, depth + 1, child);
        if (rc != SCAN_OK)
            return rc;
        if ((rc = next_item(s, '}')) != 1)
            return rc;
    }
}

/* The targets among on_path whose next token is array index i. */
static inline target_mask element_on_path(const size_t *want, target_mask on_path, size_t i)
{
    target_mask child = 0;
    for (target_mask m = on_path; m != 0; m &= m - 1) {
        unsigned t = (unsigned)__builtin_ctz(m);
        if (want[t] == i)
            child |= 1u << t;
    }
    return child;
}

static int scan_array(scan *s, size_t depth, target_mask on_path)
{
    size_t want[HS__KEY_TARGETS_MAX];
    size_t level = depth - 1;
    for (target_mask m = on_path; m != 0; m &= m - 1) {
        unsigned t = (unsigned)__builtin_ctz(m);
        const hs__key_spec *spec = s->specs[t];
        if (array_index(spec->tokens[level], spec->token_lens[level], &want[t]) != 0)
            on_path &= ~(1u << t); /* not an index: nothing in this array */
    }
    s->p++;
    skip_space(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        return 0;
    }
    for (size_t i = 0;; i++) {
        target_mask child = on_path != 0 ? element_on_path(want, on_path, i) : 0;
        int rc = scan_value(s, depth + 1, child);
        if (rc != SCAN_OK)
            return rc;
        if ((rc = next_item(s, ']')) != 1)
            return rc;
    }
}

/* jansson reads one character past a number or a literal and puts it back;
 * when that character is a NUL byte, the put-back loses it (its stream takes
 * a NUL in its one-character buffer for "empty"), so `[1\0]` loads. Kept, so
 * that a body jansson took is taken here too. */
static inline void skip_lost_nul(scan *s)
{
    if (s->p < s->end && *s->p == '\0')
        s->p++;
}

static inline int scan_literal(scan *s, const char *word, size_t len)
{
    if ((size_t)(s->end - s->p) < len || memcmp(s->p, word, len) != 0)
        return -1;
    s->p += len;
    skip_lost_nul(s);
    return 0;
}

/* Of the targets on the path to a value at `level`, those it is the value of. */
static inline target_mask ends_here(const scan *s, target_mask on_path, size_t level)
{
    target_mask here = 0;
    for (target_mask m = on_path; m != 0; m &= m - 1) {
        unsigned t = (unsigned)__builtin_ctz(m);
        if (s->specs[t]->ntokens == level)
            here |= 1u << t;
    }
    return here;
}

/* After a scalar value that is the value of the targets in `here`:
 * SCAN_STOPPED when it was the last one the pass waits for. */
static inline int after_scalar(const scan *s, target_mask here)
{
    return here != 0 && s->stop != 0 && s->pending == 0 ? SCAN_STOPPED : SCAN_OK;
}

static inline void record(head_rec *rec, const unsigned char *start, const unsigned char *end,
                          unsigned char kind)
{
    if (rec->n == HEAD_MAX_REGIONS) {
        rec->full = true;
        return;
    }
    rec->r[rec->n].start = start;
    rec->r[rec->n].end = end;
    rec->r[rec->n++].kind = kind;
}

/* One value at nesting depth `depth` (the root is 1), s->p on its first
 * character. `on_path`: the targets whose pointer the path to it matches
 * so far (depth - 1 tokens each); 0 off every target's path. */
static int scan_value(scan *s, size_t depth, target_mask on_path)
{
    if (depth > SCAN_MAX_DEPTH || s->p == s->end)
        return -1;
    target_mask here = on_path != 0 ? ends_here(s, on_path, depth - 1) : 0;
    const unsigned char *start = s->p;
    switch (*s->p) {
    case '{':
    case '[':
        if (here != 0)
            found(s, here, FOUND_CONTAINER, start, 0, false);
        on_path &= ~here;
        return *s->p == '{' ? scan_object(s, depth, on_path) : scan_array(s, depth, on_path);
    case '"': {
        const unsigned char *text;
        size_t len;
        unsigned flags;
        if (scan_string(s, &text, &len, &flags) != 0)
            return -1;
        if (s->rec != NULL)
            record(s->rec, start, s->p, REGION_STRING);
        if (here != 0)
            found(s, here, FOUND_STRING, text, len, (flags & STRING_ESCAPED) != 0);
        return after_scalar(s, here);
    }
    case 't':
        if (scan_literal(s, "true", 4) != 0)
            return -1;
        if (here != 0)
            found(s, here, FOUND_TRUE, start, 4, false);
        return after_scalar(s, here);
    case 'f':
        if (scan_literal(s, "false", 5) != 0)
            return -1;
        if (here != 0)
            found(s, here, FOUND_FALSE, start, 5, false);
        return after_scalar(s, here);
    case 'n':
        if (scan_literal(s, "null", 4) != 0)
            return -1;
        if (here != 0)
            found(s, here, FOUND_NULL, start, 4, false);
        return 0;
    default: {
        bool integer;
        if (scan_number(s, &integer) != 0)
            return -1;
        if (s->rec != NULL)
            record(s->rec, start, s->p, integer ? REGION_INTEGER : REGION_REAL);
        if (here != 0)
            found(s, here, integer ? FOUND_INTEGER : FOUND_REAL, start, (size_t)(s->p - start),
                  false);
        skip_lost_nul(s);
        return after_scalar(s, here);
    }
    }
}

/* A real as jansson prints it: "%.17g", with ".0" added when that shows
 * neither a point nor an exponent, and the exponent without '+' or leading
 * zeros ("1e+300" -> "1e300", "1e-05" -> "1e-5"). Returns the length. */
static size_t format_real(char *out, size_t cap, double v)
{
    int n = snprintf(out, cap, "%.17g", v);
    if (n < 0 || (size_t)n + 3 > cap)
        return 0;
    size_t len = (size_t)n;
    char *e = strchr(out, 'e');
    if (e == NULL) {
        if (strchr(out, '.') == NULL) {
            memcpy(out + len, ".0", 3);
            len += 2;
        }
        return len;
    }
    char *digits = e + 1, *from = digits;
    if (*from == '+')
        from++;
    else if (*from == '-')
        digits++, from++;
    while (*from == '0' && from[1] != '\0')
        from++;
    memmove(digits, from, (size_t)(out + len + 1 - from));
    return len - (size_t)(from - digits);
}

/* A target's key from what the scan found for it, into buf. */
static hs__key_result key_of(const found_value *f, hs__key_buf *buf, const char **key, size_t *len)
{
    const char *text = (const char *)f->text;
    size_t n = f->len;
    switch (f->kind) {
    case FOUND_NONE:
    case FOUND_NULL:
        return HS__KEY_MISSING;
    case FOUND_CONTAINER:
        return HS__KEY_NOT_SCALAR;
    case FOUND_STRING:
        if (!f->escaped) { /* the bytes between the quotes, where they are */
            *key = text;
            *len = n;
            return HS__KEY_OK;
        }
        if (buf_reserve(buf, n) != 0) /* decoding never lengthens */
            return HS__KEY_MISSING;
        n = decode_string(buf->data, f->text, n);
        buf->data[n] = '\0';
        break;
    case FOUND_INTEGER:
        /* jansson prints the int64 it read: the same digits, but "-0" is 0.
         * Beyond 64 bits, the text. */
        if (n == 2 && text[0] == '-' && text[1] == '0') {
            if (buf_put(buf, "0", 1) != 0)
                return HS__KEY_MISSING;
            n = 1;
            break;
        }
        *key = text;
        *len = n;
        return HS__KEY_OK;
    case FOUND_REAL: {
        if (buf_put(buf, text, n) != 0)
            return HS__KEY_MISSING;
        errno = 0;
        double v = strtod(buf->data, NULL);
        if (errno == ERANGE && isinf(v))
            break; /* beyond a double: the text */
        char num[64];
        n = format_real(num, sizeof num, v);
        if (n == 0 || buf_put(buf, num, n) != 0)
            return HS__KEY_MISSING;
        break;
    }
    case FOUND_TRUE:
    case FOUND_FALSE:
        *key = text;
        *len = n;
        return HS__KEY_OK;
    }
    *key = buf->data;
    *len = n;
    return HS__KEY_OK;
}

/* ---- top-level members from the body's end ----
 *
 * fedmsg writes its bus sequence (`i`, `username`) after the message's own
 * fields, so a pass that stops at the key would still have to read to the
 * end for them. Instead the top-level object is read backwards, member by
 * member from its closing brace, until each such target is found. In a
 * body that is JSON, the first member of a name found from the end is the
 * last one, the one jansson keeps, so the value is the whole pass's. A
 * string is found backwards by its opening quote: the first '"' to the
 * left that is not escaped (not after an odd run of backslashes; inside a
 * string every quote is); a container by counting brackets outside
 * strings. A wanted value is then checked forwards by the scanner, within
 * its bounds. Anything unexpected (not an object, a key with escapes, a
 * wanted value that is a container or does not check) gives up: the caller
 * reads forwards instead. Never reads outside [body, body + len). */

/* i, less the whitespace just before it. */
static inline ptrdiff_t space_before(const unsigned char *b, ptrdiff_t i)
{
    while (i > 0 && is_space(b[i - 1]))
        i--;
    return i;
}

/* The index of the opening quote of the string whose closing quote is at
 * close, or -1. */
static ptrdiff_t string_start(const unsigned char *b, ptrdiff_t close)
{
    ptrdiff_t k = close - 1;
    for (;;) {
        /* Byte by byte for the first bytes: most strings read this way
         * (member names, the bus sequence's values) are shorter than what a
         * call to memrchr costs; a longer one (a signature) with it. */
        ptrdiff_t near = k - 16;
        while (k >= 0 && k > near && b[k] != '"')
            k--;
        if (k >= 0 && b[k] != '"') {
            const unsigned char *q = memrchr(b, '"', (size_t)k + 1);
            k = q != NULL ? q - b : -1;
        }
        if (k < 0)
            return -1;
        ptrdiff_t slashes = 0;
        while (k - 1 - slashes >= 0 && b[k - 1 - slashes] == '\\')
            slashes++;
        if (slashes % 2 == 0)
            return k;
        k--;
    }
}

/* May c be part of a number or a literal (true, false, null)? A superset:
 * the scanner checks the value forwards. */
static inline bool in_scalar(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '-' ||
           c == '+' || c == '.';
}

/* The start of the value that ends just before `end`, or -1 (also when it
 * starts before limit). */
static ptrdiff_t value_start(const unsigned char *b, ptrdiff_t end, ptrdiff_t limit)
{
    if (end <= 0)
        return -1;
    unsigned char c = b[end - 1];
    if (c == '"')
        return string_start(b, end - 1);
    if (c == '}' || c == ']') {
        size_t depth = 0;
        for (ptrdiff_t k = end - 1; k >= limit; k--) {
            c = b[k];
            if (c == '"') {
                k = string_start(b, k);
                if (k < 0)
                    return -1;
            } else if (c == '}' || c == ']') {
                depth++;
            } else if ((c == '{' || c == '[') && --depth == 0) {
                return k;
            }
        }
        return -1;
    }
    ptrdiff_t k = end;
    while (k > 0 && in_scalar(b[k - 1]))
        k--;
    return k < end ? k : -1;
}

/* How far back the end is read: the bus sequence is among the last few
 * members or not looked for there (the forward pass finds it). */
#define TAIL_MAX_BYTES 4096
#define TAIL_MAX_MEMBERS 5
#define TAIL_MAX_CONTAINER 256 /* bytes: a container is stepped over backwards byte by byte */
#define TAIL_MAX_STRINGS 4

/* The string values of the members the read stepped over (not targets),
 * rightmost first: the index of each one's opening and closing quote. */
typedef struct tail_strings {
    size_t n;
    ptrdiff_t open[TAIL_MAX_STRINGS], close[TAIL_MAX_STRINGS];
} tail_strings;

/* Fill found[] for the top-level targets in `want` (each a one-token
 * pointer), reading the object backwards, at most TAIL_MAX_BYTES. Returns
 * those found (a scalar or null), or all of `want` when the object's start
 * is reached (the rest are missing), or 0 on anything unexpected. *first is
 * set when every one was found: the index of the last member's opening
 * quote (the read looked at no byte before the one ahead of it); otherwise
 * -1. */
static target_mask scan_tail(scan *s, target_mask wanted, const unsigned char *b, size_t len,
                             ptrdiff_t *first, tail_strings *strs)
{
    *first = -1;
    strs->n = 0;
    target_mask want = wanted; /* those not found yet */
    unsigned members = 0;
    ptrdiff_t limit = len > TAIL_MAX_BYTES ? (ptrdiff_t)(len - TAIL_MAX_BYTES) : 0;
    ptrdiff_t i = space_before(b, (ptrdiff_t)len);
    if (i == 0 || b[i - 1] != '}')
        return 0;
    i--; /* the closing brace */
    for (;;) {
        i = space_before(b, i);
        if (i > 0 && b[i - 1] == '{') /* the object's start: the rest are missing */
            return space_before(b, i - 1) == 0 ? wanted : 0;
        if (i < limit || ++members > TAIL_MAX_MEMBERS)
            return wanted & ~want; /* far enough */
        ptrdiff_t v =
            value_start(b, i, i - limit > TAIL_MAX_CONTAINER ? i - TAIL_MAX_CONTAINER : limit);
        ptrdiff_t vend = i;
        if (v < 0)
            return wanted & ~want;
        i = space_before(b, v);
        if (i == 0 || b[i - 1] != ':')
            return 0;
        i = space_before(b, i - 1);
        if (i == 0 || b[i - 1] != '"')
            return 0;
        ptrdiff_t k = string_start(b, i - 1);
        if (k < 0)
            return 0;
        const unsigned char *key = b + k + 1;
        size_t key_len = (size_t)(i - 1 - (k + 1));
        for (size_t c = 0; c < key_len; c++)
            if (key[c] == '\\')
                return wanted & ~want;
        i = k;
        bool target = false;
        for (target_mask m = want; m != 0; m &= m - 1) {
            unsigned t = (unsigned)__builtin_ctz(m);
            const hs__key_spec *spec = s->specs[t];
            if (key_len != spec->token_lens[0] || memcmp(key, spec->tokens[0], key_len) != 0)
                continue;
            target = true;
            if (b[v] == '{' || b[v] == '[')
                return wanted & ~want;
            /* check it forwards, within its bounds */
            const unsigned char *end = s->end;
            s->p = b + v;
            s->end = b + vend;
            bool ok = scan_value(s, 2, 1u << t) != SCAN_BAD && s->p == b + vend;
            s->end = end;
            if (!ok)
                return 0;
            want &= ~(1u << t);
        }
        if (!target && b[v] == '"' && strs->n < TAIL_MAX_STRINGS) {
            /* stepped over: its quotes, rightmost first */
            strs->open[strs->n] = v;
            strs->close[strs->n++] = vend - 1;
        }
        if (want == 0) {
            *first = k;
            return wanted;
        }
        i = space_before(b, i);
        if (i == 0 || (b[i - 1] != ',' && b[i - 1] != '{'))
            return 0;
        if (b[i - 1] == ',')
            i--;
    }
}

/* Whether a[0..n) and b[0..n) are the same bytes: memcmp(a, b, n) == 0, but
 * inline for the short runs the memo compares (a template's fixed bytes
 * between values, a tail window), where a call costs more than the compare:
 * two overlapping loads from each end. */
static inline bool same_bytes(const unsigned char *a, const unsigned char *b, size_t n)
{
    uint64_t x0, y0, x1, y1;
    if (n >= 8 && n <= 16) {
        memcpy(&x0, a, 8);
        memcpy(&y0, b, 8);
        memcpy(&x1, a + n - 8, 8);
        memcpy(&y1, b + n - 8, 8);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    if (n < 8) {
        if (n < 4) {
            for (size_t i = 0; i < n; i++)
                if (a[i] != b[i])
                    return false;
            return true;
        }
        uint32_t u0, v0, u1, v1;
        memcpy(&u0, a, 4);
        memcpy(&v0, b, 4);
        memcpy(&u1, a + n - 4, 4);
        memcpy(&v1, b + n - 4, 4);
        return ((u0 ^ v0) | (u1 ^ v1)) == 0;
    }
#if defined(__SSE2__)
    if (n <= 32) {
        __m128i a0 = _mm_loadu_si128((const __m128i *)(const void *)a),
                b0 = _mm_loadu_si128((const __m128i *)(const void *)b),
                a1 = _mm_loadu_si128((const __m128i *)(const void *)(a + n - 16)),
                b1 = _mm_loadu_si128((const __m128i *)(const void *)(b + n - 16));
        __m128i eq = _mm_and_si128(_mm_cmpeq_epi8(a0, b0), _mm_cmpeq_epi8(a1, b1));
        return _mm_movemask_epi8(eq) == 0xFFFF;
    }
#endif
    return memcmp(a, b, n) == 0;
}

/* ---- the tail memo (key.h) ----
 *
 * scan_tail's result depends on nothing but the bytes it read: from the
 * byte before the last member's opening quote (the window's start) to the
 * end, all of them at fixed distances from the end, and the length only
 * through TAIL_MAX_BYTES, which a window of MEMO_MAX_BYTES never reaches. A
 * body whose last bytes are the window's gives the same values. One
 * integer value may differ (memo.var): its digits split the window into a
 * prefix and a suffix, each compared at its place (the suffix from the
 * end, the prefix before the new digits); a run of digits, with no leading
 * zero, between bytes that are not part of a number is one integer, and
 * nothing else in the read changes with it. The string values of the
 * members after it that are not targets may differ as well (nstr: a
 * time stamp or a signature written last): each is found as the read
 * finds it, from its closing quote back to its opening one (string_start,
 * whatever lies between), and the bytes between them are compared at their
 * places from the end; a window that grows past TAIL_MAX_BYTES that way is
 * a miss. Anything else is a miss, and the body is read backwards again
 * (and kept, if the read finds every target; after a run of misses, only
 * now and then: tail_read). */
#define MEMO_MAX_BYTES 512
#define MEMO_MAX_DIGITS 20 /* beyond that, a miss (and the full read) */
#define MEMO_MISSES 8
#define MEMO_RETRY 64

typedef struct tail_memo {
    size_t n; /* the targets it was kept for, by spec, and which were tail; 0: none */
    const hs__key_spec *specs[HS__KEY_TARGETS_MAX];
    target_mask tail;
    unsigned char bytes[MEMO_MAX_BYTES]; /* the window */
    size_t len;
    int var;                      /* the target whose integer may differ, or -1 */
    size_t digits_at, digits_len; /* its digits in bytes[] */
    size_t nstr;                  /* the strings that may differ, after the digits */
    uint16_t str_open[TAIL_MAX_STRINGS], str_close[TAIL_MAX_STRINGS]; /* rightmost first */
    found_value found[HS__KEY_TARGETS_MAX]; /* the others': text into bytes[] */
    unsigned misses;                        /* in a row */
    bool strings_differed;                  /* the last answer needed them read again */
} tail_memo;

/* ---- the head template (key.h) ----
 *
 * A forward pass that stops early (the claim's, at its key) has read the
 * body's first bytes and nothing else, and what it found depends on them
 * alone. Bodies of one stream begin alike but for their values: the same
 * members, in the same order, with other strings and numbers
 * (`{"topic": "...", "msg": {"key": "...", "user": "bob"`). The template
 * keeps the bytes of the last such read but for its string and number
 * values (its regions); a body whose bytes between the regions are the
 * same, each region read again as the pass would (scan_string: escapes,
 * UTF-8 and all; scan_number, an integer where an integer was, a real
 * where a real was), is the same sequence of tokens, so the pass would
 * take the same path, find its values in the same places and stop at the
 * same one: the last value read is a region (read to its end, however
 * long) or a literal (the pass stops right after its last letter,
 * whatever follows). Anything else is a miss, and the body is read:
 * literals, member names and whitespace are fixed bytes. */
#define HEAD_MAX_BYTES 512 /* of fixed bytes */

typedef struct head_template {
    size_t n; /* the targets it was kept for, by spec, and the pass's stop; 0: none */
    const hs__key_spec *specs[HS__KEY_TARGETS_MAX];
    target_mask stop;
    size_t nseg; /* segments: fixed bytes, then a region (the last: none) */
    struct {
        uint16_t at, len; /* the fixed bytes in bytes[] */
        unsigned char region;
    } seg[HEAD_MAX_REGIONS + 1];
    unsigned char bytes[HEAD_MAX_BYTES];
    struct {
        found_kind kind;
        uint16_t seg; /* the region after segment seg, or (a literal, a real, a
                       * container) in seg's fixed bytes at off */
        uint16_t off, len;
    } found[HS__KEY_TARGETS_MAX];
    unsigned misses;    /* in a row */
    unsigned long hits; /* bodies it answered for */
} head_template;

struct hs__key_memo {
    tail_memo tail;
    head_template head;
};

/* *mp, allocated empty when it is NULL; NULL when it cannot be. */
static hs__key_memo *memo_get(hs__key_memo **mp)
{
    if (*mp == NULL && (*mp = malloc(sizeof **mp)) != NULL) {
        (*mp)->tail.n = (*mp)->head.n = 0;
        (*mp)->tail.misses = (*mp)->head.misses = 0;
        (*mp)->head.hits = 0;
    }
    return *mp;
}

unsigned long hs__key_memo_head_hits(const hs__key_memo *memo)
{
    return memo != NULL ? memo->head.hits : 0;
}

/* Whether what a memo kept for kept_n targets (kept[], with kept_mask)
 * serves the scan's n targets with `mask`: the same specs, in order. */
static bool kept_for(size_t kept_n, const hs__key_spec *const *kept, target_mask kept_mask,
                     const scan *s, size_t n, target_mask mask)
{
    if (kept_n != n || kept_mask != mask)
        return false;
    for (size_t i = 0; i < n; i++)
        if (kept[i] != s->specs[i])
            return false;
    return true;
}

static bool memo_for(const tail_memo *m, const scan *s, size_t n, target_mask tail)
{
    return kept_for(m->n, m->specs, m->tail, s, n, tail);
}

static inline bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Whether a body that missed should be kept (by either part of the memo):
 * the first MEMO_MISSES misses in a row, then one in MEMO_RETRY, so that a
 * stream whose bodies always differ (a signature, a time stamp) costs a
 * copy now and then, and one that changed is taken up again. */
static inline bool keep_after_miss(unsigned misses)
{
    return misses <= MEMO_MISSES || misses % MEMO_RETRY == 0;
}

static bool memo_match(const tail_memo *m, size_t nstr, const unsigned char *b, size_t len,
                       const unsigned char **digits, size_t *ndigits);

/* The tail targets' values from the memo, when the body ends as its window
 * does (first as it is, then with its strings that may differ read again):
 * `tail`, else 0. */
static target_mask memo_take(tail_memo *m, scan *s, size_t n, target_mask tail,
                             const unsigned char *b, size_t len)
{
    if (m == NULL || !memo_for(m, s, n, tail))
        return 0;
    /* A stream whose strings differ body after body (a stamp) is tried
     * that way first; one whose strings are the same (a certificate) as
     * they are, without finding them again. */
    const unsigned char *digits;
    size_t ndigits;
    size_t first = m->strings_differed ? m->nstr : 0, second = m->nstr - first;
    if (memo_match(m, first, b, len, &digits, &ndigits))
        m->strings_differed = first > 0;
    else if (m->nstr > 0 && memo_match(m, second, b, len, &digits, &ndigits))
        m->strings_differed = second > 0;
    else
        return 0;
    for (target_mask t = tail; t != 0; t &= t - 1) {
        unsigned i = (unsigned)__builtin_ctz(t);
        s->found[i] = (int)i == m->var
                          ? (found_value){.kind = FOUND_INTEGER, .text = digits, .len = ndigits}
                          : m->found[i];
    }
    return tail;
}

/* Whether b[0..len) ends as the window does, the nstr rightmost strings
 * that may differ read again (0: the window's bytes as they are, but for
 * the integer's digits, which *digits gets). */
static bool memo_match(const tail_memo *m, size_t nstr, const unsigned char *b, size_t len,
                       const unsigned char **digits, size_t *ndigits)
{
    /* What is left to match ends at `end` in the body, at `wend` in the
     * window: from the end, the bytes after each string that may differ,
     * then the string itself. */
    size_t end = len, wend = m->len;
    for (size_t r = 0; r < nstr; r++) {
        size_t run = wend - m->str_close[r]; /* from its closing quote on */
        if (end < run || !same_bytes(b + end - run, m->bytes + m->str_close[r], run))
            return false;
        ptrdiff_t open = string_start(b, (ptrdiff_t)(end - run));
        if (open < 0)
            return false;
        end = (size_t)open + 1;
        wend = m->str_open[r] + 1u;
    }
    size_t start;
    *digits = NULL;
    *ndigits = 0;
    if (m->var < 0) {
        if (end < wend || !same_bytes(b + end - wend, m->bytes, wend))
            return false;
        start = end - wend;
    } else {
        size_t after = m->digits_at + m->digits_len, suffix = wend - after;
        if (end < suffix || !same_bytes(b + end - suffix, m->bytes + after, suffix))
            return false;
        size_t dend = end - suffix, d = dend;
        while (d > 0 && dend - d <= MEMO_MAX_DIGITS && is_digit(b[d - 1]))
            d--;
        size_t nd = dend - d;
        if (nd == 0 || nd > MEMO_MAX_DIGITS || (nd > 1 && b[d] == '0') || d < m->digits_at ||
            !same_bytes(b + d - m->digits_at, m->bytes, m->digits_at))
            return false;
        *digits = b + d;
        *ndigits = nd;
        start = d - m->digits_at;
    }
    return len - start <= TAIL_MAX_BYTES; /* else the read would have stopped short */
}

/* After scan_tail found every target in `tail`, its window read from
 * `first` (scan_tail's): kept in *mp when it fits. */
static void memo_keep(hs__key_memo **mp, const scan *s, size_t n, target_mask tail,
                      const unsigned char *b, size_t len, ptrdiff_t first, const tail_strings *strs)
{
    /* string_start read the byte before the quote, and more when it is a
     * backslash: those windows are not kept. */
    if (first < 1 || b[first - 1] == '\\' || len - (size_t)(first - 1) > MEMO_MAX_BYTES)
        return;
    hs__key_memo *memo = memo_get(mp);
    if (memo == NULL)
        return; /* no memo: every body is read */
    tail_memo *m = &memo->tail;
    size_t from = (size_t)first - 1;
    m->n = n;
    for (size_t i = 0; i < n; i++)
        m->specs[i] = s->specs[i];
    m->tail = tail;
    m->len = len - from;
    memcpy(m->bytes, b + from, m->len);
    m->var = -1;
    for (target_mask t = tail; t != 0; t &= t - 1) {
        unsigned i = (unsigned)__builtin_ctz(t);
        const found_value *f = &s->found[i];
        m->found[i] = *f;
        m->found[i].text = f->text != NULL ? m->bytes + (f->text - (b + from)) : NULL;
        bool digits = f->kind == FOUND_INTEGER && f->len > 0 && f->len <= MEMO_MAX_DIGITS;
        for (size_t c = 0; digits && c < f->len; c++)
            digits = is_digit(f->text[c]);
        if (digits && m->var < 0) {
            m->var = (int)i;
            m->digits_at = (size_t)(f->text - (b + from));
            m->digits_len = f->len;
        }
    }
    /* The strings stepped over after the digits (all, without them). */
    size_t after = m->var < 0 ? 0 : m->digits_at + m->digits_len;
    m->nstr = 0;
    m->strings_differed = false;
    for (size_t r = 0; r < strs->n && (size_t)(strs->open[r] - (ptrdiff_t)from) >= after; r++) {
        m->str_open[r] = (uint16_t)(strs->open[r] - (ptrdiff_t)from);
        m->str_close[r] = (uint16_t)(strs->close[r] - (ptrdiff_t)from);
        m->nstr++;
    }
}

void hs__key_memo_free(hs__key_memo *memo)
{
    free(memo);
}

/* The .tail targets in `wanted` read from the end, through the memo when
 * it has them: those found (a scalar or null, or all of them when the
 * object's start was reached), or 0. */
static target_mask tail_read(scan *s, size_t n, target_mask wanted, const unsigned char *b,
                             size_t len, hs__key_memo **memo)
{
    target_mask got;
    if (memo != NULL && *memo != NULL &&
        (got = memo_take(&(*memo)->tail, s, n, wanted, b, len)) != 0) {
        (*memo)->tail.misses = 0;
        return got;
    }
    ptrdiff_t first;
    tail_strings strs;
    got = scan_tail(s, wanted, b, len, &first, &strs);
    /* Bodies whose ends differ in more than one integer and the strings
     * after it (a number stepped over, a string before the integer) miss
     * every time. */
    unsigned misses = memo != NULL && *memo != NULL ? ++(*memo)->tail.misses : 0;
    if (memo != NULL && first >= 0 && keep_after_miss(misses))
        memo_keep(memo, s, n, wanted, b, len, first, &strs);
    return got;
}

/* Of the targets in m, those without a scalar value so far. */
static target_mask no_scalar(const scan *s, target_mask m)
{
    target_mask left = 0;
    for (; m != 0; m &= m - 1) {
        unsigned i = (unsigned)__builtin_ctz(m);
        found_kind k = s->found[i].kind;
        if (k == FOUND_NONE || k == FOUND_NULL || k == FOUND_CONTAINER)
            left |= 1u << i;
    }
    return left;
}

/* Whether a found value of this kind is one of the template's regions (a
 * string or a number); the others (literals, containers) are in its fixed
 * bytes. */
static inline bool in_region(found_kind kind)
{
    return kind == FOUND_STRING || kind == FOUND_INTEGER || kind == FOUND_REAL;
}

/* What the pass would find in b[0..len) with stop `stop`, from the
 * template: true, s->found and s->p set as the pass leaves them when it
 * stops; false, a miss (s->p moved, nothing found). */
static bool head_take(const head_template *h, scan *s, size_t n, target_mask stop,
                      const unsigned char *b, size_t len)
{
    if (!kept_for(h->n, h->specs, h->stop, s, n, stop))
        return false;
    const unsigned char *p = b, *end = b + len, *fixed[HEAD_MAX_REGIONS + 1];
    found_value region[HEAD_MAX_REGIONS + 1];
    for (size_t j = 0; j < h->nseg; j++) {
        size_t flen = h->seg[j].len;
        if ((size_t)(end - p) < flen || !same_bytes(p, h->bytes + h->seg[j].at, flen))
            return false;
        fixed[j] = p;
        s->p = p + flen;
        if (h->seg[j].region == REGION_STRING) {
            unsigned flags;
            if (s->p == end || *s->p != '"' ||
                scan_string(s, &region[j].text, &region[j].len, &flags) != 0)
                return false;
            region[j].escaped = (flags & STRING_ESCAPED) != 0;
        } else if (h->seg[j].region != REGION_NONE) {
            bool integer;
            region[j].text = s->p;
            if (s->p == end || scan_number(s, &integer) != 0 ||
                integer != (h->seg[j].region == REGION_INTEGER))
                return false;
            region[j].len = (size_t)(s->p - region[j].text);
            region[j].escaped = false;
        }
        p = s->p;
    }
    for (size_t i = 0; i < n; i++) {
        found_value *f = &s->found[i];
        f->kind = h->found[i].kind;
        size_t j = h->found[i].seg;
        if (in_region(f->kind)) {
            f->text = region[j].text;
            f->len = region[j].len;
            f->escaped = region[j].escaped;
        } else if (f->kind != FOUND_NONE) {
            f->text = fixed[j] + h->found[i].off;
            f->len = h->found[i].len;
            f->escaped = false;
        }
    }
    s->pending = 0;
    return true;
}

/* After a pass over b that stopped at s->p, having recorded rec: its
 * template, kept in *mp when it fits. */
static void head_keep(hs__key_memo **mp, const scan *s, size_t n, target_mask stop,
                      const unsigned char *b, const head_rec *rec)
{
    size_t fixed_len = (size_t)(s->p - b);
    for (size_t k = 0; k < rec->n; k++)
        fixed_len -= (size_t)(rec->r[k].end - rec->r[k].start);
    if (rec->full || fixed_len > HEAD_MAX_BYTES)
        return;
    hs__key_memo *memo = memo_get(mp);
    if (memo == NULL)
        return;
    head_template *h = &memo->head;
    const unsigned char *from[HEAD_MAX_REGIONS + 1], *at = b;
    size_t used = 0;
    for (size_t j = 0; j <= rec->n; j++) {
        const unsigned char *to = j < rec->n ? rec->r[j].start : s->p;
        from[j] = at;
        h->seg[j].at = (uint16_t)used;
        h->seg[j].len = (uint16_t)(to - at);
        h->seg[j].region = j == rec->n ? REGION_NONE : rec->r[j].kind;
        memcpy(h->bytes + used, at, (size_t)(to - at));
        used += (size_t)(to - at);
        at = j < rec->n ? rec->r[j].end : s->p;
    }
    h->nseg = rec->n + 1;
    for (size_t i = 0; i < n; i++) {
        const found_value *f = &s->found[i];
        h->found[i].kind = f->kind;
        if (f->kind == FOUND_NONE)
            continue;
        size_t j = 0; /* the region it is, or the fixed bytes it is in */
        bool region = in_region(f->kind);
        while (j < rec->n && (region ? rec->r[j].end <= f->text : from[j + 1] <= f->text))
            j++;
        if (region ? j == rec->n || f->text < rec->r[j].start
                   : f->text < from[j] || f->text + f->len > from[j] + h->seg[j].len) {
            h->n = 0; /* not where it should be: nothing kept */
            return;
        }
        h->found[i].seg = (uint16_t)j;
        h->found[i].off = (uint16_t)(region ? 0 : f->text - from[j]);
        h->found[i].len = (uint16_t)f->len;
    }
    h->n = n;
    for (size_t i = 0; i < n; i++)
        h->specs[i] = s->specs[i];
    h->stop = stop;
}

/* The pass forwards from the body's start, ending early once each target
 * in `stop` has a scalar value; with a memo, from the head template when
 * the body begins as it does, and kept there when it does not (after
 * MEMO_MISSES in a row, one body in MEMO_RETRY). */
static int forward(scan *s, const char *body, size_t len, size_t n, target_mask stop,
                   hs__key_memo **memo)
{
    const unsigned char *b = (const unsigned char *)body;
    s->end = b + len;
    s->stop = s->pending = stop;
    for (size_t i = 0; i < n; i++)
        s->found[i].kind = FOUND_NONE;
    head_rec rec;
    s->rec = NULL;
    if (memo != NULL && stop != 0) {
        head_template *h = *memo != NULL ? &(*memo)->head : NULL;
        if (h != NULL && head_take(h, s, n, stop, b, len)) {
            h->misses = 0;
            h->hits++;
            return SCAN_STOPPED;
        }
        if (keep_after_miss(h != NULL ? ++h->misses : 0)) {
            rec.n = 0;
            rec.full = false;
            s->rec = &rec;
        }
    }
    s->p = b;
    skip_space(s);
    int rc = scan_value(s, 1, (target_mask)((1u << n) - 1));
    if (rc == SCAN_STOPPED && s->rec != NULL)
        head_keep(memo, s, n, stop, b, &rec);
    s->rec = NULL;
    return rc;
}

static void results(hs__key_target *const *t, size_t n, const scan *s, target_mask m)
{
    for (size_t i = 0; i < n; i++)
        if (m & (1u << i))
            t[i]->result = key_of(&s->found[i], t[i]->buf, &t[i]->key, &t[i]->len);
}

/* The pass stopped: the targets in m get what it found, those that could
 * not stop it (not .stop) HS__KEY_UNREAD. */
static void stopped(hs__key_target *const *t, size_t n, const scan *s, target_mask m)
{
    for (size_t i = 0; i < n; i++)
        if (!t[i]->stop)
            t[i]->result = HS__KEY_UNREAD;
    results(t, n, s, m);
}

/* One pass over the body for the json: targets t[0..n) (n at most
 * HS__KEY_TARGETS_MAX): each gets the result its spec alone would, unless
 * the pass stops early (targets with .stop set, all found): then those get
 * their value so far, the others HS__KEY_UNREAD. false: it stopped.
 *
 * The .tail targets (.stop, one token) do not hold the pass up: it stops
 * once the other .stop targets have values, and those of them it did not
 * meet on its way (fedmsg's `username`, written last; `i` too, unless
 * sorted first) are read from the end. Only when that read cannot tell
 * does the pass go again, forwards, until it has them as well. With no
 * other target at all, they are read from the end first. */
static bool scan_targets(hs__key_target *const *t, size_t n, const char *body, size_t body_len,
                         hs__key_memo **memo)
{
    scan s; /* not zeroed as a whole: only the first n found values are used */
    const unsigned char *b = (const unsigned char *)body;
    target_mask stop = 0, tail = 0, all = (target_mask)((1u << n) - 1);
    s.p = b; /* scan_tail checks each value forwards, within its bounds */
    s.end = b + body_len;
    s.rec = NULL;
    for (size_t i = 0; i < n; i++) {
        s.specs[i] = t[i]->spec;
        s.found[i].kind = FOUND_NONE;
        if (t[i]->stop)
            stop |= 1u << i;
        if (t[i]->stop && t[i]->tail && t[i]->spec->ntokens == 1)
            tail |= 1u << i;
    }
    target_mask from_end = 0; /* the targets whose values the end gave */
    int rc;
    if (tail != 0 && (stop & ~tail) != 0) {
        rc = forward(&s, body, body_len, n, stop & ~tail, memo);
        if (rc != SCAN_STOPPED)
            goto whole;
        target_mask left = no_scalar(&s, tail);
        from_end = left != 0 ? tail_read(&s, n, left, b, body_len, memo) : 0;
        if (from_end == left) {
            stopped(t, n, &s, stop);
            return false;
        }
    } else if (tail != 0 && (all & ~tail) == 0) {
        s.stop = s.pending = stop;
        from_end = tail_read(&s, n, tail, b, body_len, memo);
        if (from_end == tail) {
            results(t, n, &s, tail);
            return false; /* the body is not known to be JSON */
        }
    }
    /* From the start (again), until the targets the end did not give. */
    if (from_end != 0)
        results(t, n, &s, from_end);
    rc = forward(&s, body, body_len, n, stop & ~from_end, tail == 0 ? memo : NULL);
    if (rc == SCAN_STOPPED) {
        stopped(t, n, &s, stop & ~from_end); /* from_end, all .stop, has its results */
        return false;
    }
whole:;
    bool valid = rc == SCAN_OK;
    if (valid) {
        skip_space(&s);
        valid = s.p == s.end; /* nothing after the value */
    }
    for (size_t i = 0; i < n; i++)
        t[i]->result =
            valid ? key_of(&s.found[i], t[i]->buf, &t[i]->key, &t[i]->len) : HS__KEY_BAD_JSON;
    return true;
}

bool hs__json_valid(const char *text, size_t len)
{
    if (memchr(text, '\0', len) != NULL)
        return false; /* not even the NUL jansson loses after a number */
    scan s = {
        .p = (const unsigned char *)text,
        .end = (const unsigned char *)text + len,
    }; /* no target, no stop */
    skip_space(&s);
    if (scan_value(&s, 1, 0) != 0) /* no target: nothing is looked for */
        return false;
    skip_space(&s);
    return s.p == s.end;
}

/* A key that is not in the body's JSON: no scan. */
static bool key_outside_json(hs__key_target *t, const char *topic, size_t topic_len,
                             const char *body, size_t body_len)
{
    if (t->spec->kind == HS__KEY_BODY) {
        t->key = body;
        t->len = body_len;
    } else if (t->spec->kind == HS__KEY_TOPIC) {
        t->key = topic;
        t->len = topic_len;
    } else {
        return false;
    }
    t->result = HS__KEY_OK;
    return true;
}

bool hs__key_extract_many(hs__key_target *targets, size_t n, const char *topic, size_t topic_len,
                          const char *body, size_t body_len)
{
    return hs__key_extract_many_memo(targets, n, topic, topic_len, body, body_len, NULL);
}

bool hs__key_extract_many_memo(hs__key_target *targets, size_t n, const char *topic,
                               size_t topic_len, const char *body, size_t body_len,
                               hs__key_memo **memo)
{
    hs__key_target *json[HS__KEY_TARGETS_MAX];
    size_t njson = 0;
    for (size_t i = 0; i < n; i++)
        if (!key_outside_json(&targets[i], topic, topic_len, body, body_len))
            json[njson++] = &targets[i];
    return njson == 0 || scan_targets(json, njson, body, body_len, memo);
}

hs__key_result hs__key_extract(const hs__key_spec *spec, const char *topic, size_t topic_len,
                               const char *body, size_t body_len, hs__key_buf *buf,
                               const char **key, size_t *len)
{
    hs__key_target t = {.spec = spec, .buf = buf}, *one = &t;
    if (!key_outside_json(&t, topic, topic_len, body, body_len))
        scan_targets(&one, 1, body, body_len, NULL);
    if (t.result == HS__KEY_OK) {
        *key = t.key;
        *len = t.len;
    }
    return t.result;
}

/* ---- the reference: jansson's DOM ---- */

hs__key_result hs__key_extract_dom(const hs__key_spec *spec, const char *body, size_t body_len,
                                   size_t flags, hs__key_buf *buf, const char **key, size_t *len,
                                   int *error_code)
{
    json_error_t jerr;
    json_t *doc = json_loadb(body, body_len, flags, &jerr);
    if (doc == NULL) {
        if (error_code != NULL)
            *error_code = (int)json_error_code(&jerr);
        return HS__KEY_BAD_JSON;
    }
    json_t *v = doc;
    for (size_t i = 0; i < spec->ntokens && v != NULL; i++) {
        if (json_is_object(v)) {
            v = json_object_getn(v, spec->tokens[i], spec->token_lens[i]);
        } else if (json_is_array(v)) {
            size_t idx;
            v = array_index(spec->tokens[i], spec->token_lens[i], &idx) == 0
                    ? json_array_get(v, idx)
                    : NULL;
        } else {
            v = NULL;
        }
    }
    hs__key_result res = HS__KEY_OK;
    int put = 0;
    size_t klen = 0;
    char num[64];
    if (v == NULL || json_is_null(v)) {
        res = HS__KEY_MISSING;
    } else if (json_is_string(v)) {
        klen = json_string_length(v);
        put = buf_put(buf, json_string_value(v), klen);
    } else if (json_is_integer(v)) {
        int n = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        klen = (size_t)n;
        put = buf_put(buf, num, klen);
    } else if (json_is_real(v) || json_is_boolean(v)) {
        size_t n = json_dumpb(v, num, sizeof num, JSON_ENCODE_ANY);
        klen = n;
        put = n > 0 && n < sizeof num ? buf_put(buf, num, n) : -1;
    } else {
        res = HS__KEY_NOT_SCALAR;
    }
    json_decref(doc);
    if (put != 0)
        res = HS__KEY_MISSING;
    if (res == HS__KEY_OK) {
        *key = buf->data;
        *len = klen;
    }
    return res;
}

void hs__key_buf_free(hs__key_buf *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->cap = 0;
}
