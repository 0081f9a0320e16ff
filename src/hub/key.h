/* key.h - which bytes of a message decide its owner.
 *
 * A key spec is `body` (the whole body, the default), `topic`, or
 * `json:POINTER` where POINTER is an RFC 6901 JSON pointer into the body
 * (`json:/msg/installation_id`, `json:/msg_id`). A JSON string gives its
 * text (UTF-8, without quotes), a number its JSON text as jansson prints it
 * (integers as digits), true/false their names. null, an object or an array
 * is not a key.
 *
 * Threads: a spec is read-only after parsing and may be shared; an
 * hs__key_buf belongs to one thread (the ingress thread).
 */
#ifndef HS_HUB_KEY_H
#define HS_HUB_KEY_H

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
 * until the next call with the same buf. */
hs__key_result hs__key_extract(const hs__key_spec *spec, const char *topic, size_t topic_len,
                               const char *body, size_t body_len, hs__key_buf *buf,
                               const char **key, size_t *len);
void hs__key_buf_free(hs__key_buf *buf);

#endif
