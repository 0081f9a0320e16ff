/* coord.c - what every coordinator backend shares: the backend registry
 * (by URL scheme), the URL parser, member name rules and the JSON form of a
 * view. The backends themselves live in coord_<scheme>.c. */
#include "coord.h"

#include "hashspace/error.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *scheme;
    int default_port;
    const hs__coord_ops *ops;
} backends[] = {
#define HS__COORD_BACKEND_ROW(scheme, port, ops) {#scheme, port, &ops},
    HS__COORD_BACKEND_MAP(HS__COORD_BACKEND_ROW)
#undef HS__COORD_BACKEND_ROW
};
#define NBACKENDS (sizeof backends / sizeof backends[0])

static void schemes_list(char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < NBACKENDS && at < len; i++)
        at += (size_t)snprintf(buf + at, len - at, "%s%s://", i ? ", " : "", backends[i].scheme);
}

static int parse_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int parse_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return HS_EPARSE;
}

static bool host_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '.' || ch == '-' || ch == '_';
}

/* The redis backend's path: empty or a database number. */
static bool redis_path_ok(const char *path)
{
    if (path[0] == '\0')
        return true;
    if (strlen(path) > 9)
        return false;
    for (const char *p = path; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    return true;
}

int hs__coord_url_parse(const char *text, hs__coord_url *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *sep = strstr(text, "://");
    if (sep == NULL)
        return parse_fail(err, errlen,
                          "coordinator '%.80s': expected a URL such as redis://127.0.0.1:6379",
                          text);
    size_t slen = (size_t)(sep - text);
    size_t b;
    for (b = 0; b < NBACKENDS; b++)
        if (strlen(backends[b].scheme) == slen && strncmp(text, backends[b].scheme, slen) == 0)
            break;
    if (b == NBACKENDS) {
        char list[128];
        schemes_list(list, sizeof list);
        return parse_fail(err, errlen, "coordinator '%.80s': unknown scheme '%.*s' (expected %s)",
                          text, (int)(slen > 20 ? 20 : slen), text, list);
    }
    snprintf(out->scheme, sizeof out->scheme, "%s", backends[b].scheme);
    const char *p = sep + 3;
    if (strchr(p, '@') != NULL)
        return parse_fail(err, errlen,
                          "coordinator '%.80s': credentials in the URL are not supported", text);
    const char *host = p, *host_end;
    if (*p == '[') { /* [v6]:port */
        host = p + 1;
        host_end = strchr(host, ']');
        if (host_end == NULL)
            return parse_fail(err, errlen, "coordinator '%.80s': '[' without ']'", text);
        for (const char *q = host; q < host_end; q++)
            if (!isxdigit((unsigned char)*q) && *q != ':' && *q != '.')
                return parse_fail(err, errlen, "coordinator '%.80s': '%.*s' is not an IPv6 address",
                                  text, (int)(host_end - host > 60 ? 60 : host_end - host), host);
        p = host_end + 1;
    } else {
        while (host_char(*p))
            p++;
        host_end = p;
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0)
        return parse_fail(err, errlen, "coordinator '%.80s': no host (e.g. %s://127.0.0.1:%d)",
                          text, backends[b].scheme, backends[b].default_port);
    if (hlen > HS__COORD_HOST_MAX)
        return parse_fail(err, errlen, "coordinator '%.80s...': host longer than %d bytes", text,
                          HS__COORD_HOST_MAX);
    memcpy(out->host, host, hlen);
    out->host[hlen] = '\0';
    out->port = backends[b].default_port;
    if (*p == ':') {
        p++;
        long port = 0;
        const char *digits = p;
        while (isdigit((unsigned char)*p) && port <= 65535)
            port = port * 10 + (*p++ - '0');
        if (p == digits || port < 1 || port > 65535 || isdigit((unsigned char)*p))
            return parse_fail(err, errlen,
                              "coordinator '%.80s': the port must be a number from 1 to 65535",
                              text);
        out->port = (int)port;
    }
    if (*p == '/') {
        p++;
        size_t plen = strlen(p);
        if (plen > HS__COORD_PATH_MAX)
            return parse_fail(err, errlen, "coordinator '%.80s': path longer than %d bytes", text,
                              HS__COORD_PATH_MAX);
        memcpy(out->path, p, plen + 1);
        p += plen;
    }
    if (*p != '\0')
        return parse_fail(err, errlen,
                          "coordinator '%.80s': unexpected '%c' after the host (expected "
                          "%s://HOST[:PORT][/DB])",
                          text, isprint((unsigned char)*p) ? *p : '?', backends[b].scheme);
    if (strcmp(out->scheme, "redis") == 0 && !redis_path_ok(out->path))
        return parse_fail(err, errlen,
                          "coordinator '%.80s': after the host comes a database number "
                          "(redis://HOST:PORT/0), not '%.40s'",
                          text, out->path);
    return HS_OK;
}

int hs__coord_url_format(const hs__coord_url *url, char *buf, size_t len)
{
    bool v6 = strchr(url->host, ':') != NULL;
    return snprintf(buf, len, "%s://%s%s%s:%d%s%s", url->scheme, v6 ? "[" : "", url->host,
                    v6 ? "]" : "", url->port, url->path[0] ? "/" : "", url->path);
}

bool hs__coord_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > HS_MEMBER_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch <= 0x20 || ch >= 0x7f || ch == ',' || ch == '=')
            return false;
    }
    return true;
}

/* --- views --- */

void hs__coord_view_clear(hs__coord_view *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < v->n; i++)
        free((char *)v->members[i].name);
    free(v->members);
    free(v->departed);
    memset(v, 0, sizeof *v);
}

int hs__coord_view_copy(hs__coord_view *dst, const hs__coord_view *src)
{
    *dst = *src;
    dst->members = calloc(src->n ? src->n : 1, sizeof *dst->members);
    dst->departed = src->ndeparted ? malloc(src->ndeparted * sizeof *dst->departed) : NULL;
    if (dst->members == NULL || (src->ndeparted > 0 && dst->departed == NULL)) {
        free(dst->members);
        free(dst->departed);
        memset(dst, 0, sizeof *dst);
        return HS_ENOMEM;
    }
    if (src->ndeparted > 0)
        memcpy(dst->departed, src->departed, src->ndeparted * sizeof *dst->departed);
    for (size_t i = 0; i < src->n; i++) {
        dst->members[i].weight = src->members[i].weight;
        if ((dst->members[i].name = strdup(src->members[i].name)) == NULL) {
            dst->n = i;
            hs__coord_view_clear(dst);
            return HS_ENOMEM;
        }
    }
    return HS_OK;
}

/* Names are printable ASCII: only '"' and '\\' need escaping. */
static size_t put_name(char *s, size_t at, const char *name)
{
    for (const char *p = name; *p; p++) {
        if (*p == '"' || *p == '\\')
            s[at++] = '\\';
        s[at++] = *p;
    }
    return at;
}

char *hs__coord_view_json(const hs__coord_view *v)
{
    size_t cap = 128 + (v->n + v->ndeparted) * (HS_MEMBER_NAME_MAX * 6 + 64), at = 0;
    char *s = malloc(cap);
    if (s == NULL)
        return NULL;
    at += (size_t)snprintf(s, cap,
                           "{\"epoch\":%llu,\"effective_from\":%llu,\"created\":%llu,"
                           "\"members\":[",
                           (unsigned long long)v->epoch, (unsigned long long)v->effective_from_ns,
                           (unsigned long long)v->created_ns);
    for (size_t i = 0; i < v->n; i++) {
        at += (size_t)snprintf(s + at, cap - at, "%s{\"name\":\"", i ? "," : "");
        at = put_name(s, at, v->members[i].name);
        at += (size_t)snprintf(s + at, cap - at, "\",\"weight\":%.17g}", v->members[i].weight);
    }
    at += (size_t)snprintf(s + at, cap - at, "]");
    for (size_t i = 0; i < v->ndeparted; i++) {
        const hs__coord_departed *d = &v->departed[i];
        at += (size_t)snprintf(s + at, cap - at, "%s{\"name\":\"", i ? "," : ",\"departed\":[");
        at = put_name(s, at, d->name);
        at += (size_t)snprintf(s + at, cap - at, "\"");
        if (d->has_watermark)
            at += (size_t)snprintf(s + at, cap - at, ",\"watermark\":%llu",
                                   (unsigned long long)d->watermark_ns);
        at += (size_t)snprintf(s + at, cap - at, "%s}", d->leaving ? ",\"leaving\":true" : "");
    }
    snprintf(s + at, cap - at, "%s}", v->ndeparted > 0 ? "]" : "");
    return s;
}

static int member_cmp(const void *a, const void *b)
{
    return strcmp(((const hs_view_member *)a)->name, ((const hs_view_member *)b)->name);
}

static int departed_cmp(const void *a, const void *b)
{
    return strcmp(((const hs__coord_departed *)a)->name, ((const hs__coord_departed *)b)->name);
}

static bool get_u64(json_t *obj, const char *field, uint64_t *out)
{
    json_t *j = json_object_get(obj, field);
    if (!json_is_integer(j) || json_integer_value(j) < 0)
        return false;
    *out = (uint64_t)json_integer_value(j);
    return true;
}

/* The optional "departed" array of a view whose members are parsed. */
static int parse_departed(json_t *list, hs__coord_view *out, char *err, size_t errlen)
{
    if (list == NULL)
        return HS_OK;
    size_t n = json_array_size(list);
    if (!json_is_array(list) || n == 0)
        return parse_fail(err, errlen, "view %llu: departed is not a non-empty array",
                          (unsigned long long)out->epoch);
    if ((out->departed = calloc(n, sizeof *out->departed)) == NULL)
        return HS_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        json_t *d = json_array_get(list, i);
        const char *name = json_string_value(json_object_get(d, "name"));
        hs__coord_departed *to = &out->departed[i];
        json_t *leaving = json_object_get(d, "leaving");
        to->has_watermark = json_object_get(d, "watermark") != NULL;
        to->leaving = json_is_true(leaving);
        if (name == NULL || !hs__coord_name_valid(name) ||
            (to->has_watermark && !get_u64(d, "watermark", &to->watermark_ns)) ||
            (leaving != NULL && !json_is_boolean(leaving)))
            return parse_fail(err, errlen,
                              "view %llu: departed member %zu has a bad name, watermark or leaving",
                              (unsigned long long)out->epoch, i);
        snprintf(to->name, sizeof to->name, "%s", name);
        out->ndeparted = i + 1;
        hs_view_member key = {.name = to->name};
        if (bsearch(&key, out->members, out->n, sizeof key, member_cmp) != NULL)
            return parse_fail(err, errlen, "view %llu: '%s' is both a member and departed",
                              (unsigned long long)out->epoch, to->name);
    }
    qsort(out->departed, n, sizeof *out->departed, departed_cmp);
    for (size_t i = 1; i < n; i++)
        if (strcmp(out->departed[i - 1].name, out->departed[i].name) == 0)
            return parse_fail(err, errlen, "view %llu: departed member '%s' appears twice",
                              (unsigned long long)out->epoch, out->departed[i].name);
    return HS_OK;
}

int hs__coord_view_parse(const char *text, size_t len, hs__coord_view *out, char *err,
                         size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return parse_fail(err, errlen, "a stored view is not JSON: %s", jerr.text);
    int rc = HS_EPARSE;
    json_t *members = json_object_get(root, "members");
    if (!get_u64(root, "epoch", &out->epoch) || out->epoch == 0 ||
        !get_u64(root, "effective_from", &out->effective_from_ns) ||
        !get_u64(root, "created", &out->created_ns) || !json_is_array(members) ||
        json_array_size(members) == 0) {
        parse_fail(err, errlen,
                   "a stored view lacks epoch, effective_from, created or a non-empty members "
                   "array");
        goto out;
    }
    size_t n = json_array_size(members);
    out->members = calloc(n, sizeof *out->members);
    if (out->members == NULL) {
        rc = HS_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_array_get(members, i);
        const char *name = json_string_value(json_object_get(m, "name"));
        json_t *w = json_object_get(m, "weight");
        double weight = json_is_number(w) ? json_number_value(w) : NAN;
        if (name == NULL || !hs__coord_name_valid(name) || !isfinite(weight) || weight <= 0) {
            parse_fail(err, errlen, "view %llu: member %zu has a bad name or weight",
                       (unsigned long long)out->epoch, i);
            goto out;
        }
        if ((out->members[i].name = strdup(name)) == NULL) {
            rc = HS_ENOMEM;
            goto out;
        }
        out->members[i].weight = weight;
        out->n = i + 1;
    }
    qsort(out->members, n, sizeof *out->members, member_cmp);
    for (size_t i = 1; i < n; i++)
        if (strcmp(out->members[i - 1].name, out->members[i].name) == 0) {
            parse_fail(err, errlen, "view %llu: member '%s' appears twice",
                       (unsigned long long)out->epoch, out->members[i].name);
            goto out;
        }
    rc = parse_departed(json_object_get(root, "departed"), out, err, errlen);
out:
    json_decref(root);
    if (rc != HS_OK)
        hs__coord_view_clear(out);
    return rc;
}

void hs__coord_fetch_free(hs__coord_fetch *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n; i++)
        hs__coord_view_clear(&f->views[i]);
    free(f->views);
    memset(f, 0, sizeof *f);
}

/* --- handles --- */

int hs__coord_open(hs__coord **out, const char *url, const char *cluster, char *err, size_t errlen)
{
    *out = NULL;
    hs__coord_url parsed;
    int rc = hs__coord_url_parse(url, &parsed, err, errlen);
    if (rc != HS_OK)
        return rc;
    if (cluster == NULL || !hs__coord_name_valid(cluster) || strpbrk(cluster, "{}") != NULL) {
        snprintf(err, errlen,
                 "cluster '%.80s': a cluster name is 1 to %d printable characters without "
                 "blanks, ',', '=', '{' or '}'",
                 cluster ? cluster : "", HS_MEMBER_NAME_MAX);
        return HS_EINVAL;
    }
    hs__coord *c = calloc(1, sizeof *c);
    if (c == NULL)
        return HS_ENOMEM;
    for (size_t b = 0; b < NBACKENDS; b++)
        if (strcmp(parsed.scheme, backends[b].scheme) == 0)
            c->ops = backends[b].ops;
    c->url = parsed;
    snprintf(c->cluster, sizeof c->cluster, "%s", cluster);
    *out = c;
    return HS_OK;
}

void hs__coord_close(hs__coord *c)
{
    if (c == NULL)
        return;
    c->ops->close(c);
    free(c);
}

const char *hs__coord_error(const hs__coord *c)
{
    return c->err;
}

int hs__coord_fail(hs__coord *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return code;
}

int hs__coord_connect(hs__coord *c, unsigned timeout_ms)
{
    return c->ops->connect(c, timeout_ms);
}

int hs__coord_heartbeat(hs__coord *c, const hs__coord_beat *beat, uint64_t *now_ns)
{
    if (!hs__coord_name_valid(beat->name) || !isfinite(beat->weight) || beat->weight <= 0 ||
        beat->expiry_ns < 1000000)
        return hs__coord_fail(c, HS_EINVAL,
                              "heartbeat: bad name, weight or expiry (at least 1 ms)");
    return c->ops->heartbeat(c, beat, now_ns);
}

int hs__coord_deregister(hs__coord *c, const char *name)
{
    if (!hs__coord_name_valid(name))
        return hs__coord_fail(c, HS_EINVAL, "deregister: bad name");
    return c->ops->deregister(c, name);
}

int hs__coord_propose(hs__coord *c, const hs__coord_proposal *p, hs__coord_proposed *out)
{
    if (p->keep < 2)
        return hs__coord_fail(c, HS_EINVAL, "propose: keep at least 2 views");
    return c->ops->propose(c, p, out);
}

int hs__coord_fetch_since(hs__coord *c, uint64_t since, uint64_t lead_ns, uint64_t expiry_ns,
                          hs__coord_fetch *out)
{
    return c->ops->fetch(c, since, lead_ns, expiry_ns, out);
}

int hs__coord_members(hs__coord *c, hs__coord_member **out, size_t *n, uint64_t *now_ns)
{
    return c->ops->members(c, out, n, now_ns);
}

int hs__coord_watch_fd(hs__coord *c)
{
    return c->ops->watch_fd(c);
}

int hs__coord_watch_drain(hs__coord *c, unsigned *events)
{
    return c->ops->watch_drain(c, events);
}
