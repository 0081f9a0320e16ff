/* key.h - which bytes of a message decide its owner.
 *
 * A key spec is `body` (the whole body, the default), `topic`, or
 * `json:POINTER` where POINTER is an RFC 6901 JSON pointer into the body
 * (`json:/msg/installation_id`, `json:/msg_id`). A JSON string gives its
 * text (UTF-8, without quotes, escapes decoded), a number its JSON text as
 * jansson prints it (integers as digits, reals as "%.17g" with ".0" or an
 * exponent), true/false their names. An integer beyond 64 bits or a real
 * beyond a double gives its text as written. null, an object or an array is
 * not a key. The body must be one JSON value, as jansson's json_loadb
 * (JSON_DECODE_ANY | JSON_ALLOW_NUL) would accept it, but for those numbers;
 * when an object repeats a key, the last member counts.
 *
 * Threads: a spec is read-only after parsing and may be shared; an
 * hs__key_buf belongs to one thread (the ingress thread).
 */
#ifndef HS_HUB_KEY_H
#define HS_HUB_KEY_H

#include <stdbool.h>
#include <stddef.h>

typedef enum hs__key_kind {
    HS__KEY_BODY,
    HS__KEY_TOPIC,
    HS__KEY_JSON,
} hs__key_kind;

typedef struct hs__key_spec {
    hs__key_kind kind;
    char **tokens; /* JSON: the pointer's reference tokens, unescaped */
    size_t *token_lens;
    size_t ntokens;
} hs__key_spec;

/* Why a key could not be extracted. */
typedef enum hs__key_result {
    HS__KEY_OK,
    HS__KEY_BAD_JSON,   /* the body is not JSON and the spec needs it */
    HS__KEY_MISSING,    /* the pointer names nothing in the body */
    HS__KEY_NOT_SCALAR, /* it names null, an object or an array */
    HS__KEY_UNREAD,     /* the pass stopped before it could tell (hs__key_extract_many) */
} hs__key_result;

/* Storage for keys that are not a slice of the message (JSON values). */
typedef struct hs__key_buf {
    char *data;
    size_t cap;
} hs__key_buf;

/* Parse a spec. On error returns HS_EPARSE and writes a sentence into err. */
int hs__key_spec_parse(hs__key_spec *out, const char *text, char *err, size_t errlen);
void hs__key_spec_clear(hs__key_spec *spec);
/* True when extracting the key parses the body as JSON. */
static inline int hs__key_needs_json(const hs__key_spec *spec)
{
    return spec->kind == HS__KEY_JSON;
}

/* The key of one message: key and len point into topic, body or buf, valid
 * until the next call with the same buf (and while the body lives). A json:
 * key is found by one pass over the body that validates it without
 * allocating: a string without escapes, an integer or true/false is a slice
 * of the body (not NUL-terminated); buf holds the others (decoded strings,
 * reals as jansson prints them) and grows only when a key is longer than
 * it. The one-target case of hs__key_extract_many. */
hs__key_result hs__key_extract(const hs__key_spec *spec, const char *topic, size_t topic_len,
                               const char *body, size_t body_len, hs__key_buf *buf,
                               const char **key, size_t *len);
void hs__key_buf_free(hs__key_buf *buf);

/* Several keys of one message at once, for the hub's claim key, its
 * fallback, the time key and the bus sequence. */
#define HS__KEY_TARGETS_MAX 8

typedef struct hs__key_target {
    const hs__key_spec *spec; /* in: borrowed */
    hs__key_buf *buf;         /* in: where this target's key is kept; one per target */
    bool stop;                /* in: the pass may end once this target has a value */
    bool tail;                /* in: with stop, a top-level member that may be read from the end */
    hs__key_result result;    /* out */
    const char *key;          /* out when result is HS__KEY_OK: into topic, body or buf */
    size_t len;
} hs__key_target;

/* Each of targets[0..n) (n <= HS__KEY_TARGETS_MAX) gets exactly what
 * hs__key_extract would give for its spec alone, but the json: targets
 * share one validating pass over the body (none when there are none), and
 * returns true; unless some json: targets have .stop set and the pass finds
 * a scalar value for every one of them before the body's end. Then it stops
 * there, reading and checking nothing further: those targets get the value
 * found so far (HS__KEY_OK; in a valid body that repeats a member on their
 * path later, not the value the whole body gives), the others
 * HS__KEY_UNREAD, and it returns false: whether the body is JSON is not
 * known. The same body and targets always stop at the same byte. A .stop
 * target with .tail that names a top-level member (json:/NAME) does not hold
 * the pass up: when the pass stops at the other .stop targets without having
 * met it, it is looked for from the body's end (reading the top-level object
 * backwards, as fedmsg writes its bus sequence last) and gets the value found
 * there (in a body that is JSON and does not repeat it, the value the whole
 * pass gives); only when the end cannot tell does the pass read on (from
 * the start again) until it has it. With no other target, .tail targets are
 * read from the end first. */
bool hs__key_extract_many(hs__key_target *targets, size_t n, const char *topic, size_t topic_len,
                          const char *body, size_t body_len);

/* What the claim's pass found in the last bodies, kept for the next body
 * that looks alike, in two parts.
 * - The head template: the bytes a forward pass that stopped early (at the
 *   key) read, but for its string and number values. Bodies of one stream
 *   begin with the same members in the same order (`{"topic": "...",
 *   "msg": {"user": "...`): when the bytes between the values are the
 *   same, and each value reads again as what it was (a string, an integer,
 *   a real), the pass would take the same path, so only the values are
 *   read.
 * - The tail window: what the last read from a body's end found. fedmsg
 *   bodies of one publisher end alike but for the sequence number
 *   (`,"i":41,"username":"bodhi"}`, then 42): when the bytes that read
 *   looked at are the same but for the digits of one integer and the
 *   strings after it that are not targets (a send stamp, a signature),
 *   so is what it finds, and the bytes are compared instead of read again.
 * Opaque; NULL until the first call keeps something. One per caller of
 * hs__key_extract_many_memo (with one set of targets), one thread. */
typedef struct hs__key_memo hs__key_memo;

/* hs__key_extract_many, with *memo (NULL at first) kept from call to call:
 * the same results for every input. A string key found at the end may
 * point into the memo instead of the body: valid until the next call with
 * the same memo. */
bool hs__key_extract_many_memo(hs__key_target *targets, size_t n, const char *topic,
                               size_t topic_len, const char *body, size_t body_len,
                               hs__key_memo **memo);
void hs__key_memo_free(hs__key_memo *memo);
/* How many bodies the head template answered for (tests, benchmarks). */
unsigned long hs__key_memo_head_hits(const hs__key_memo *memo);

/* Is text[0..len) one JSON value (surrounding whitespace allowed), by the
 * same one-pass scanner, without building anything? Stricter than the key
 * path in one way: a NUL byte anywhere makes it not JSON. Pure. */
bool hs__json_valid(const char *text, size_t len);

/* The reference for json: specs: the body loaded whole into jansson's DOM
 * with `flags` (the hub used JSON_DECODE_ANY | JSON_ALLOW_NUL before the
 * scanner), the pointer resolved in it. For the differential test, the
 * fuzzer and the benchmark; the hub does not call it. Same results as
 * hs__key_extract but where the scanner departs on purpose (numbers jansson
 * cannot hold, which it refuses). When the body does not load and
 * error_code is not NULL, *error_code gets jansson's enum json_error_code. */
hs__key_result hs__key_extract_dom(const hs__key_spec *spec, const char *body, size_t body_len,
                                   size_t flags, hs__key_buf *buf, const char **key, size_t *len,
                                   int *error_code);

#endif
