/* jsonline.c - message fields for JSON lines; UTF-8 validation; base64. */
#include "jsonline.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

bool hs__utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf)
            n = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            n = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            n = 3, cp = c & 0x07;
        else
            return false;
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

static json_t *base64(const char *data, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = (const unsigned char *)data;
    size_t out_len = (len + 2) / 3 * 4;
    char *out = malloc(out_len + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < len)
            v |= s[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
    }
    json_t *j = json_stringn_nocheck(out, o);
    free(out);
    return j;
}

static int add_text(json_t *obj, const char *field, const char *field_b64, const char *s,
                    size_t len)
{
    json_t *v;
    const char *name = field;
    if (hs__utf8_valid(s, len)) {
        v = json_stringn_nocheck(s, len);
    } else {
        v = base64(s, len);
        name = field_b64;
    }
    return v != NULL && json_object_set_new(obj, name, v) == 0 ? 0 : -1;
}

int hs__json_add_message(json_t *obj, const char *topic, size_t topic_len, const char *body,
                         size_t body_len, bool body_json)
{
    if (add_text(obj, "topic", "topic_base64", topic, topic_len) != 0)
        return -1;
    if (body_json) {
        json_error_t err;
        json_t *v = json_loadb(body, body_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        if (v != NULL)
            return json_object_set_new(obj, "body", v) == 0 ? 0 : -1;
    }
    return add_text(obj, "body", "body_base64", body, body_len);
}

char *hs__json_line(const json_t *obj, size_t *len)
{
    size_t need = json_dumpb(obj, NULL, 0, JSON_COMPACT);
    if (need == 0)
        return NULL;
    char *buf = malloc(need + 2);
    if (buf == NULL)
        return NULL;
    size_t got = json_dumpb(obj, buf, need, JSON_COMPACT);
    buf[got] = '\n';
    buf[got + 1] = '\0';
    *len = got + 1;
    return buf;
}
