/* jsonline.h - messages as JSON lines (file sink, dead-letter records), and
 * the text checks the ingress needs.
 *
 * A message becomes the fields "topic" and "body" of a JSON object: the body
 * as a JSON value when it parses as JSON, else as a string when it is valid
 * UTF-8, else base64 in "body_base64" (the topic likewise in
 * "topic_base64"). So every byte received can be recovered from the line.
 *
 * All functions are pure or work on caller-owned objects: safe from any
 * thread.
 */
#ifndef HS_HUB_JSONLINE_H
#define HS_HUB_JSONLINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is valid UTF-8 (no overlongs, no surrogates). */
bool hs__utf8_valid(const char *s, size_t len);

/* Add the topic and body fields to obj. body_json: try to parse the body as
 * JSON first. Returns 0, or -1 when out of memory. */
int hs__json_add_message(json_t *obj, const char *topic, size_t topic_len, const char *body,
                         size_t body_len, bool body_json);

/* obj as one compact line ending in '\n', in a malloc'd buffer (*len bytes,
 * NUL-terminated); NULL when out of memory. */
char *hs__json_line(const json_t *obj, size_t *len);

#endif
