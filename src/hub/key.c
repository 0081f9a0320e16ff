/* key.c - key specs and key extraction (RFC 6901 JSON pointers with jansson). */
#include "key.h"

#include "hashspace/error.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int buf_put(hs__key_buf *buf, const char *s, size_t len)
{
    if (buf->cap < len + 1) {
        size_t cap = len + 1 < 256 ? 256 : len + 1;
        char *d = realloc(buf->data, cap);
        if (d == NULL)
            return -1;
        buf->data = d;
        buf->cap = cap;
    }
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

hs__key_result hs__key_extract(const hs__key_spec *spec, const char *topic, size_t topic_len,
                               const char *body, size_t body_len, hs__key_buf *buf,
                               const char **key, size_t *len)
{
    if (spec->kind == HS__KEY_BODY) {
        *key = body;
        *len = body_len;
        return HS__KEY_OK;
    }
    if (spec->kind == HS__KEY_TOPIC) {
        *key = topic;
        *len = topic_len;
        return HS__KEY_OK;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(body, body_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (doc == NULL)
        return HS__KEY_BAD_JSON;
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
