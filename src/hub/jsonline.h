/* jsonline.h - the one JSON encoding of a message, used by the file sink,
 * the exec sink's requests, the dead-letter records and `hashspace tail
 * --json`; and the text checks the ingress needs.
 *
 * The rule, for a topic and a body (docs/protocol.md):
 *   - a body that is JSON (one value, by the key scanner's validation) is
 *     the member "body" as it came, byte for byte; one that spans lines is
 *     written compactly (the whitespace between its tokens dropped), so the
 *     record stays one line;
 *   - otherwise, bytes that are UTF-8 without a NUL byte are a JSON string
 *     ("topic", "body");
 *   - any other bytes (not UTF-8, or holding a NUL) are base64 in
 *     "topic_base64" / "body_base64".
 * So every byte received can be recovered from the line, and a consumer that
 * reads C strings never meets an embedded NUL.
 *
 * A hs__jsonline is a line being written into a buffer its owner keeps and
 * reuses (one per worker): once grown, writing a message allocates nothing.
 * A failed allocation is remembered and reported by hs__jsonline_end. The
 * functions are pure or work on caller-owned objects: safe from any thread.
 */
#ifndef HS_HUB_JSONLINE_H
#define HS_HUB_JSONLINE_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is valid UTF-8 (no overlongs, no surrogates). */
bool hs__utf8_valid(const char *s, size_t len);
/* True when s[0..len) may be a JSON string of the rule: UTF-8, no NUL. */
bool hs__json_text_ok(const char *s, size_t len);

typedef struct hs__jsonline {
    char *data;
    size_t len, cap;
    bool failed;  /* out of memory since the start */
    bool members; /* a member was written: the next one needs a comma */
} hs__jsonline;

#define HS__JSONLINE_INIT                                                                          \
    {                                                                                              \
        NULL, 0, 0, false, false                                                                   \
    }

/* Start a new object (the buffer is kept). */
void hs__jsonline_start(hs__jsonline *j);
/* The members "topic" and "body" of one message, by the rule above; with
 * body_json false the body is never taken as JSON (a truncated one). */
void hs__jsonline_message(hs__jsonline *j, const char *topic, size_t topic_len, const char *body,
                          size_t body_len, bool body_json);
/* A member whose value is bytes: "key" as a string, or "key_base64". */
void hs__jsonline_bytes(hs__jsonline *j, const char *key, const char *s, size_t len);
/* A member whose value is already JSON text (a number, true, ...). */
void hs__jsonline_raw(hs__jsonline *j, const char *key, const char *json, size_t len);
void hs__jsonline_int(hs__jsonline *j, const char *key, long long v);
/* Lower level, for values inside arrays: a key and its colon; a string
 * (text must pass hs__json_text_ok); base64 as a string; JSON text. */
void hs__jsonline_key(hs__jsonline *j, const char *key);
void hs__jsonline_string(hs__jsonline *j, const char *text, size_t len);
void hs__jsonline_base64(hs__jsonline *j, const char *s, size_t len);
void hs__jsonline_append(hs__jsonline *j, const char *json, size_t len);
/* Close the object and end the line with '\n' (then a NUL not counted in
 * *len). The line stays the writer's. -1 when out of memory. */
int hs__jsonline_end(hs__jsonline *j, const char **line, size_t *len);
void hs__jsonline_free(hs__jsonline *j);

#endif
