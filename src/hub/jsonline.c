/* jsonline.c - the one JSON encoding of a message (the rule is in
 * jsonline.h); UTF-8 validation; base64. */
#include "jsonline.h"

#include "key.h"

#include <stdint.h>
#include <stdio.h>
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

bool hs__json_text_ok(const char *s, size_t len)
{
    return memchr(s, '\0', len) == NULL && hs__utf8_valid(s, len);
}

static bool reserve(hs__jsonline *j, size_t more)
{
    if (j->failed)
        return false;
    if (j->len + more + 1 <= j->cap)
        return true;
    size_t cap = j->cap > 0 ? j->cap : 256;
    while (cap < j->len + more + 1)
        cap *= 2;
    char *bigger = realloc(j->data, cap);
    if (bigger == NULL) {
        j->failed = true;
        return false;
    }
    j->data = bigger;
    j->cap = cap;
    return true;
}

void hs__jsonline_append(hs__jsonline *j, const char *json, size_t len)
{
    if (!reserve(j, len))
        return;
    memcpy(j->data + j->len, json, len);
    j->len += len;
}

static void put_char(hs__jsonline *j, char c)
{
    if (reserve(j, 1))
        j->data[j->len++] = c;
}

void hs__jsonline_start(hs__jsonline *j)
{
    j->len = 0;
    j->failed = false;
    j->members = false;
    put_char(j, '{');
}

void hs__jsonline_key(hs__jsonline *j, const char *key)
{
    if (j->members)
        put_char(j, ',');
    j->members = true;
    put_char(j, '"');
    hs__jsonline_append(j, key, strlen(key));
    hs__jsonline_append(j, "\":", 2);
}

void hs__jsonline_string(hs__jsonline *j, const char *text, size_t len)
{
    /* At most 6 bytes out per byte in (\u00XX). */
    if (!reserve(j, len * 6 + 2))
        return;
    char *out = j->data + j->len;
    *out++ = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *out++ = (char)c;
            continue;
        }
        *out++ = '\\';
        switch (c) {
        case '"':
        case '\\':
            *out++ = (char)c;
            break;
        case '\n':
            *out++ = 'n';
            break;
        case '\r':
            *out++ = 'r';
            break;
        case '\t':
            *out++ = 't';
            break;
        default:
            out += sprintf(out, "u%04x", c);
        }
    }
    *out++ = '"';
    j->len = (size_t)(out - j->data);
}

void hs__jsonline_base64(hs__jsonline *j, const char *data, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (!reserve(j, (len + 2) / 3 * 4 + 2))
        return;
    const unsigned char *s = (const unsigned char *)data;
    char *out = j->data + j->len;
    *out++ = '"';
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < len)
            v |= s[i + 2];
        *out++ = alphabet[(v >> 18) & 63];
        *out++ = alphabet[(v >> 12) & 63];
        *out++ = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        *out++ = i + 2 < len ? alphabet[v & 63] : '=';
    }
    *out++ = '"';
    j->len = (size_t)(out - j->data);
}

void hs__jsonline_bytes(hs__jsonline *j, const char *key, const char *s, size_t len)
{
    if (hs__json_text_ok(s, len)) {
        hs__jsonline_key(j, key);
        hs__jsonline_string(j, s, len);
        return;
    }
    char name[64];
    snprintf(name, sizeof name, "%s_base64", key);
    hs__jsonline_key(j, name);
    hs__jsonline_base64(j, s, len);
}

void hs__jsonline_raw(hs__jsonline *j, const char *key, const char *json, size_t len)
{
    hs__jsonline_key(j, key);
    hs__jsonline_append(j, json, len);
}

void hs__jsonline_int(hs__jsonline *j, const char *key, long long v)
{
    char num[32];
    int n = snprintf(num, sizeof num, "%lld", v);
    hs__jsonline_raw(j, key, num, (size_t)n);
}

/* Valid JSON without the whitespace between its tokens (inside strings,
 * which hold no raw line break, everything stays). */
static void put_compact(hs__jsonline *j, const char *json, size_t len)
{
    if (!reserve(j, len))
        return;
    char *out = j->data + j->len;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = json[i];
        if (in_string) {
            *out++ = c;
            if (c == '\\')
                *out++ = json[++i]; /* validated: an escape has its second byte */
            else if (c == '"')
                in_string = false;
        } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
            *out++ = c;
            in_string = c == '"';
        }
    }
    j->len = (size_t)(out - j->data);
}

void hs__jsonline_message(hs__jsonline *j, const char *topic, size_t topic_len, const char *body,
                          size_t body_len, bool body_json)
{
    hs__jsonline_bytes(j, "topic", topic, topic_len);
    if (body_json && hs__json_valid(body, body_len)) {
        hs__jsonline_key(j, "body");
        if (memchr(body, '\n', body_len) == NULL && memchr(body, '\r', body_len) == NULL)
            hs__jsonline_append(j, body, body_len);
        else
            put_compact(j, body, body_len);
        return;
    }
    hs__jsonline_bytes(j, "body", body, body_len);
}

int hs__jsonline_end(hs__jsonline *j, const char **line, size_t *len)
{
    hs__jsonline_append(j, "}\n", 2);
    if (j->failed)
        return -1;
    j->data[j->len] = '\0'; /* reserve always leaves room for it */
    *line = j->data;
    *len = j->len;
    return 0;
}

void hs__jsonline_free(hs__jsonline *j)
{
    free(j->data);
    *j = (hs__jsonline)HS__JSONLINE_INIT;
}
