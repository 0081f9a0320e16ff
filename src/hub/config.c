/* config.c - hub settings from argv and INI files; validation and printing. */
#include "config.h"

#include "deadletter.h"
#include "key.h"
#include "log.h"
#include "outfile.h"

#include "hashspace/error.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void hs__config_init(hs__hub_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_body = HS__DEFAULT_MAX_BODY;
    cfg->rcv_hwm = HS__DEFAULT_RCV_HWM;
    cfg->drain_timeout_s = HS__DEFAULT_DRAIN_S;
    cfg->file_mode = HS__DEFAULT_FILE_MODE;
    cfg->workers = 1;
    cfg->queue_size = HS__DEFAULT_QUEUE;
    cfg->on_full = HS__ON_FULL_BLOCK;
    cfg->max_tries = HS__DEFAULT_MAX_TRIES;
}

static void list_free(hs__strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

static int list_add(hs__strlist *l, const char *s)
{
    char **items = realloc(l->items, (l->n + 1) * sizeof *items);
    if (items == NULL)
        return -1;
    l->items = items;
    if ((items[l->n] = strdup(s)) == NULL)
        return -1;
    l->n++;
    return 0;
}

void hs__config_free(hs__hub_config *cfg)
{
    char **strings[] = {&cfg->self,         &cfg->members,   &cfg->hash,         &cfg->placement,
                        &cfg->hash_key,     &cfg->key,       &cfg->key_fallback, &cfg->metrics,
                        &cfg->dead_letter,  &cfg->log_level, &cfg->file,         &cfg->bus_seq,
                        &cfg->bus_publisher};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        free(*strings[i]);
        *strings[i] = NULL;
    }
    list_free(&cfg->connect);
    list_free(&cfg->bind);
    list_free(&cfg->subscribe);
    for (size_t i = 0; i < cfg->nconsumers; i++) {
        free(cfg->consumers[i].name);
        free(cfg->consumers[i].glob);
        free(cfg->consumers[i].kind);
        free(cfg->consumers[i].arg);
    }
    free(cfg->consumers);
    cfg->consumers = NULL;
    cfg->nconsumers = 0;
}

static int set_string(char **dst, const char *value)
{
    char *s = strdup(value);
    if (s == NULL)
        return -1;
    free(*dst);
    *dst = s;
    return 0;
}

/* Append ",value" (or " value") to *dst. */
static int append_string(char **dst, const char *value, char sep)
{
    if (*dst == NULL || (*dst)[0] == '\0')
        return set_string(dst, value);
    size_t a = strlen(*dst), b = strlen(value);
    char *s = realloc(*dst, a + b + 2);
    if (s == NULL)
        return -1;
    s[a] = sep;
    memcpy(s + a + 1, value, b + 1);
    *dst = s;
    return 0;
}

static int parse_size(const char *text, unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)text[0]))
        return -1;
    unsigned long long v = strtoull(text, &end, 10), mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1024, end++;
    else if (*end == 'M')
        mul = 1024 * 1024, end++;
    else if (*end == 'G')
        mul = 1024ull * 1024 * 1024, end++;
    if (*end != '\0' || errno != 0 || v > max / mul)
        return -1;
    *out = v * mul;
    return 0;
}

static int parse_seconds(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || errno != 0 || !isfinite(v) || v < 0)
        return -1;
    if (strcmp(end, "ms") == 0)
        v /= 1000;
    else if (*end != '\0' && strcmp(end, "s") != 0)
        return -1;
    *out = v;
    return 0;
}

static int parse_on_full(const char *text, hs__on_full *out)
{
    if (strcmp(text, "block") == 0)
        *out = HS__ON_FULL_BLOCK;
    else if (strcmp(text, "drop") == 0)
        *out = HS__ON_FULL_DROP;
    else
        return -1;
    return 0;
}

/* "max_body" and "max-body" are the same option. */
static bool same_name(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        char x = *a == '_' ? '-' : *a, y = *b == '_' ? '-' : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

int hs__config_set(hs__hub_config *cfg, const char *name, const char *value, int line, char *err,
                   size_t errlen)
{
    unsigned long long n;
    int rc = 0;
#define STRING_OPT(opt, field, line_field)                                                         \
    if (same_name(name, opt)) {                                                                    \
        line_field = line;                                                                         \
        rc = set_string(&cfg->field, value);                                                       \
        goto done;                                                                                 \
    }
    int unused_line = 0;
    STRING_OPT("self", self, cfg->line_self)
    STRING_OPT("hash", hash, cfg->line_hash)
    STRING_OPT("placement", placement, cfg->line_placement)
    STRING_OPT("hash-key", hash_key, cfg->line_hash)
    STRING_OPT("key", key, cfg->line_key)
    STRING_OPT("key-fallback", key_fallback, cfg->line_key)
    STRING_OPT("metrics", metrics, cfg->line_metrics)
    STRING_OPT("dead-letter", dead_letter, cfg->line_dead_letter)
    STRING_OPT("log-level", log_level, unused_line)
    STRING_OPT("bus-seq", bus_seq, cfg->line_key)
    STRING_OPT("bus-publisher", bus_publisher, cfg->line_key)
#undef STRING_OPT
    (void)unused_line;
    if (same_name(name, "members")) {
        /* A repeated key in a file continues the list; argv replaces it. */
        cfg->line_members = line;
        rc = line > 0 ? append_string(&cfg->members, value, ',') : set_string(&cfg->members, value);
    } else if (same_name(name, "connect") || same_name(name, "bind")) {
        if (value[0] == '\0') {
            snprintf(err, errlen, "%s: wants an endpoint (e.g. tcp://127.0.0.1:9940)", name);
            return -1;
        }
        cfg->line_endpoint = cfg->line_endpoint != 0 ? cfg->line_endpoint : line;
        rc = list_add(same_name(name, "connect") ? &cfg->connect : &cfg->bind, value);
    } else if (same_name(name, "subscribe")) {
        rc = list_add(&cfg->subscribe, value);
    } else if (same_name(name, "consumer")) {
        return hs__config_add_consumer(cfg, value, line, err, errlen);
    } else if (same_name(name, "max-body")) {
        if (parse_size(value, 1ull << 31, &n) != 0 || n == 0) {
            snprintf(err, errlen, "max-body: '%s' is not a size from 1 to 2G (e.g. 8M)", value);
            return -1;
        }
        cfg->max_body = (size_t)n;
    } else if (same_name(name, "rcv-hwm")) {
        if (parse_size(value, 1ull << 31, &n) != 0) {
            snprintf(err, errlen, "rcv-hwm: '%s' is not a count (0 = no limit)", value);
            return -1;
        }
        cfg->rcv_hwm = (long)n;
    } else if (same_name(name, "drain-timeout")) {
        if (parse_seconds(value, &cfg->drain_timeout_s) != 0) {
            snprintf(err, errlen, "drain-timeout: '%s' is not a duration (e.g. 10, 2.5s, 500ms)",
                     value);
            return -1;
        }
    } else if (same_name(name, "file-mode")) {
        if (hs__outfile_parse_mode(value, &cfg->file_mode) != 0) {
            snprintf(err, errlen,
                     "file-mode: '%s' is not an octal mode (at most 0777) that lets the owner "
                     "read and write (e.g. 0640)",
                     value);
            return -1;
        }
    } else if (same_name(name, "timeout")) {
        if (parse_seconds(value, &cfg->timeout_s) != 0) {
            snprintf(err, errlen, "timeout: '%s' is not a duration (e.g. 30, 500ms)", value);
            return -1;
        }
    } else if (same_name(name, "workers") || same_name(name, "max-tries")) {
        if (parse_size(value, 1024, &n) != 0 || n == 0) {
            snprintf(err, errlen, "%s: '%s' is not a number from 1 to 1024", name, value);
            return -1;
        }
        if (same_name(name, "workers"))
            cfg->workers = (unsigned)n;
        else
            cfg->max_tries = (unsigned)n;
    } else if (same_name(name, "queue-size") || same_name(name, "queue")) {
        if (parse_size(value, 1ull << 26, &n) != 0 || n == 0) {
            snprintf(err, errlen, "%s: '%s' is not a size from 1 to 64M", name, value);
            return -1;
        }
        cfg->queue_size = (size_t)n;
    } else if (same_name(name, "on-full")) {
        if (parse_on_full(value, &cfg->on_full) != 0) {
            snprintf(err, errlen, "on-full: '%s' is not block or drop", value);
            return -1;
        }
    } else {
        snprintf(err, errlen, "unknown option '%s'", name);
        return -1;
    }
done:
    if (rc != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* A per-consumer setting: workers, queue, on_full, timeout, max_tries. */
static int consumer_option(hs__consumer_spec *s, const char *name, const char *value, char *err,
                           size_t errlen)
{
    unsigned long long n;
    double secs;
    if (same_name(name, "workers") || same_name(name, "max-tries")) {
        if (parse_size(value, 1024, &n) != 0 || n == 0) {
            snprintf(err, errlen, "%s: '%s' is not a number from 1 to 1024", name, value);
            return -1;
        }
        if (same_name(name, "workers"))
            s->workers = (unsigned)n;
        else
            s->max_tries = (unsigned)n;
    } else if (same_name(name, "queue") || same_name(name, "queue-size")) {
        if (parse_size(value, 1ull << 26, &n) != 0 || n == 0) {
            snprintf(err, errlen, "%s: '%s' is not a size from 1 to 64M", name, value);
            return -1;
        }
        s->queue_size = (size_t)n;
    } else if (same_name(name, "on-full")) {
        if (parse_on_full(value, &s->on_full) != 0) {
            snprintf(err, errlen, "on_full: '%s' is not block or drop", value);
            return -1;
        }
    } else if (same_name(name, "timeout")) {
        if (parse_seconds(value, &secs) != 0) {
            snprintf(err, errlen, "timeout: '%s' is not a duration (e.g. 30, 500ms)", value);
            return -1;
        }
        s->timeout_s = secs;
    } else {
        snprintf(err, errlen,
                 "unknown consumer option '%s' (expected glob, kind, arg, workers, queue, "
                 "on_full, timeout, max_tries)",
                 name);
        return -1;
    }
    return 0;
}

static const char *const kinds[] = {"exec", "plugin", "file", "push"};

static hs__consumer_spec *new_consumer(hs__hub_config *cfg, int line)
{
    hs__consumer_spec *c = realloc(cfg->consumers, (cfg->nconsumers + 1) * sizeof *c);
    if (c == NULL)
        return NULL;
    cfg->consumers = c;
    hs__consumer_spec *s = &c[cfg->nconsumers++];
    memset(s, 0, sizeof *s);
    s->line = line;
    return s;
}

int hs__config_add_consumer(hs__hub_config *cfg, const char *text, int line, char *err,
                            size_t errlen)
{
    /* The kind is the first "KIND:" at the start or right after '='. */
    const char *at = NULL;
    size_t kind_len = 0;
    for (const char *p = text; *p != '\0' && at == NULL; p++) {
        if (p != text && p[-1] != '=' && p[-1] != '@')
            continue;
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            size_t len = strlen(kinds[k]);
            if (strncmp(p, kinds[k], len) == 0 && p[len] == ':') {
                at = p;
                kind_len = len;
                break;
            }
        }
    }
    if (at == NULL) {
        snprintf(err, errlen,
                 "consumer '%s': expected [NAME[,OPTION=VALUE...]@][GLOB=]KIND:ARG with KIND one "
                 "of exec, "
                 "plugin, file, push (e.g. 'org.*=file:out.jsonl')",
                 text);
        return -1;
    }
    hs__consumer_spec *s = new_consumer(cfg, line);
    if (s == NULL)
        goto nomem;
    s->kind = strndup(at, kind_len);
    s->arg = strdup(at + kind_len + 1);
    /* "NAME@KIND:ARG" has no glob: the '@' is part of the prefix. */
    size_t prefix = at == text ? 0 : at[-1] == '@' ? (size_t)(at - text) : (size_t)(at - text - 1);
    const char *sep = memchr(text, '@', prefix);
    if (sep != NULL) {
        /* NAME[,option=value...] */
        size_t name_len = strcspn(text, ",@");
        s->name = strndup(text, name_len);
        s->glob = strndup(sep + 1, prefix - (size_t)(sep - text) - 1);
        char *opts = strndup(text + name_len, (size_t)(sep - text) - name_len);
        if (s->name == NULL || opts == NULL) {
            free(opts);
            goto nomem;
        }
        int bad = 0;
        char *save = NULL;
        for (char *o = strtok_r(opts, ",", &save); o != NULL && !bad;
             o = strtok_r(NULL, ",", &save)) {
            char *eq = strchr(o, '=');
            if (eq == NULL) {
                snprintf(err, errlen, "consumer '%s': option '%s' wants a value (e.g. queue=100)",
                         s->name, o);
                bad = 1;
                break;
            }
            *eq = '\0';
            char why[400];
            if (consumer_option(s, o, eq + 1, why, sizeof why) != 0) {
                snprintf(err, errlen, "consumer '%s': %s", s->name, why);
                bad = 1;
            }
        }
        free(opts);
        if (bad)
            return -1;
    } else {
        s->glob = strndup(text, prefix);
    }
    if (s->kind == NULL || s->arg == NULL || s->glob == NULL || (sep != NULL && s->name == NULL))
        goto nomem;
    /* "NAME@GLOB =KIND:ARG" in a file: the blanks are not part of the glob
     * (they would not survive hs__config_print and libinih either). */
    size_t glob_len = strlen(s->glob), lead = 0;
    while (isspace((unsigned char)s->glob[lead]))
        lead++;
    while (glob_len > lead && isspace((unsigned char)s->glob[glob_len - 1]))
        glob_len--;
    memmove(s->glob, s->glob + lead, glob_len - lead);
    s->glob[glob_len - lead] = '\0';
    if (s->glob[0] == '\0') {
        free(s->glob);
        if ((s->glob = strdup("*")) == NULL)
            goto nomem;
    }
    return 0;
nomem:
    snprintf(err, errlen, "out of memory");
    return -1;
}

/* ---- INI files ---- */

typedef struct load_ctx {
    hs__hub_config *cfg;
    FILE *f, *errors;
    const char *path;
    int line, errors_seen;
    char *buf;
    size_t cap;
} load_ctx;

static void load_error(load_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void load_error(load_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(ctx->errors, "%s:%d: ", ctx->path, ctx->line);
    vfprintf(ctx->errors, fmt, ap);
    fputc('\n', ctx->errors);
    va_end(ap);
    ctx->errors_seen++;
}

/* libinih's reader: one whole line per call, so ctx->line is the line the
 * handler is looking at. Lines too long for libinih's buffer are reported
 * and skipped. */
static char *read_line(char *str, int num, void *stream)
{
    load_ctx *ctx = stream;
    ssize_t len = getline(&ctx->buf, &ctx->cap, ctx->f);
    if (len < 0)
        return NULL;
    ctx->line++;
    if (len >= num - 1 && !(len == num - 1 && ctx->buf[len - 1] == '\n')) {
        load_error(ctx, "line longer than %d bytes (continue the value on an indented line)",
                   num - 2);
        strcpy(str, "\n");
        return str;
    }
    memcpy(str, ctx->buf, (size_t)len + 1);
    return str;
}

static hs__consumer_spec *section_consumer(hs__hub_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nconsumers; i++)
        if (cfg->consumers[i].name != NULL && strcmp(cfg->consumers[i].name, name) == 0)
            return &cfg->consumers[i];
    return NULL;
}

static int consumer_key(load_ctx *ctx, hs__consumer_spec *s, const char *name, const char *value)
{
    char err[512];
    int rc = 0;
    if (same_name(name, "glob"))
        rc = set_string(&s->glob, value);
    else if (same_name(name, "kind"))
        rc = set_string(&s->kind, value);
    else if (same_name(name, "arg"))
        rc = append_string(&s->arg, value, ' ');
    else if (consumer_option(s, name, value, err, sizeof err) != 0)
        load_error(ctx, "%s", err);
    if (rc != 0)
        load_error(ctx, "out of memory");
    return 1;
}

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
    load_ctx *ctx = user;
    char err[512];
    if (strcmp(section, "hub") == 0) {
        if (hs__config_set(ctx->cfg, name, value, ctx->line, err, sizeof err) != 0)
            load_error(ctx, "%s", err);
        return 1;
    }
    if (strncmp(section, "consumer ", 9) == 0 && section[9] != '\0') {
        const char *cname = section + 9;
        hs__consumer_spec *s = section_consumer(ctx->cfg, cname);
        if (s == NULL) {
            if ((s = new_consumer(ctx->cfg, ctx->line)) == NULL ||
                (s->name = strdup(cname)) == NULL) {
                load_error(ctx, "out of memory");
                return 1;
            }
        }
        return consumer_key(ctx, s, name, value);
    }
    load_error(ctx, "unknown section [%s] (expected [hub] or [consumer NAME])", section);
    return 1;
}

int hs__config_load(hs__hub_config *cfg, const char *path, FILE *errors)
{
    load_ctx ctx = {.cfg = cfg, .errors = errors, .path = path};
    ctx.f = fopen(path, "r");
    if (ctx.f == NULL) {
        fprintf(errors, "%s: cannot read: %s\n", path, strerror(errno));
        return 1;
    }
    set_string(&cfg->file, path);
    int rc = ini_parse_stream(read_line, &ctx, on_ini, &ctx);
    if (rc > 0) {
        /* libinih stops reporting through the handler on syntax errors. */
        ctx.line = rc;
        load_error(&ctx, "syntax error (expected [section] or name = value)");
    }
    fclose(ctx.f);
    free(ctx.buf);
    return ctx.errors_seen;
}

/* ---- validation ---- */

typedef struct check_ctx {
    const hs__hub_config *cfg;
    FILE *errors;
    int count;
} check_ctx;

static void check_error(check_ctx *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void check_error(check_ctx *c, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (c->cfg->file != NULL && line > 0)
        fprintf(c->errors, "%s:%d: ", c->cfg->file, line);
    else if (c->cfg->file != NULL)
        fprintf(c->errors, "%s: ", c->cfg->file);
    else
        fputs("hashspace hub: ", c->errors);
    vfprintf(c->errors, fmt, ap);
    fputc('\n', c->errors);
    va_end(ap);
    c->count++;
}

int hs__config_parse_hostport(const char *text, char *host, size_t hostlen, int *port)
{
    if (strcmp(text, "none") == 0) {
        *port = -1;
        return 0;
    }
    const char *colon = strrchr(text, ':');
    if (colon == NULL || colon == text || (size_t)(colon - text) >= hostlen)
        return -1;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || p < 0 || p > 65535)
        return -1;
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    *port = (int)p;
    return 0;
}

int hs__config_view(const hs__hub_config *cfg, hs_view **out, size_t *self_index, char *err,
                    size_t errlen)
{
    const char *placement = cfg->placement != NULL ? cfg->placement : "jump";
    const hs_place_info *info = hs_place_method_find(placement);
    if (info == NULL) {
        snprintf(err, errlen, "unknown placement '%s' (expected one of: %s)", placement,
                 hs_place_method_names());
        return HS_EUNKNOWN_PLACEMENT;
    }
    hs_hash_id hid = info->default_hash;
    if (cfg->hash != NULL && hs_hash_find(cfg->hash, &hid) != HS_OK) {
        snprintf(err, errlen, "unknown hash '%s' (expected one of: %s)", cfg->hash,
                 hs_hash_names());
        return HS_EUNKNOWN_HASH;
    }
    hs_hasher hasher;
    hs_hasher_init(&hasher, hid);
    if (cfg->hash_key != NULL && hs_hasher_set_secret_hex(&hasher, cfg->hash_key) != HS_OK) {
        snprintf(err, errlen, "hash-key wants %d hex digits", 2 * HS_SIPHASH_KEYBYTES);
        return HS_EINVAL;
    }
    if (cfg->members == NULL) {
        snprintf(err, errlen, "members is required (e.g. members = hub-a,hub-b,hub-c)");
        return HS_EEMPTY;
    }
    hs_view_member *list;
    size_t n, at = 0;
    char *storage;
    int rc = hs_members_parse(cfg->members, &list, &n, &storage, &at);
    if (rc != HS_OK) {
        snprintf(err, errlen, "members: item %zu: %s", at + 1, hs_strerror(rc));
        return rc;
    }
    rc = hs_view_new(out, 1, placement, NULL, &hasher, list, n);
    free(list);
    free(storage);
    if (rc != HS_OK) {
        snprintf(err, errlen, "members: %s", hs_strerror(rc));
        return rc;
    }
    if (cfg->self == NULL) {
        snprintf(err, errlen, "self is required: this hub's name among the members");
        hs_view_release(*out);
        return HS_ENOTFOUND;
    }
    if (hs_view_index(*out, cfg->self, self_index) != HS_OK) {
        snprintf(err, errlen, "self '%s' is not one of the members (%s)", cfg->self, cfg->members);
        hs_view_release(*out);
        return HS_ENOTFOUND;
    }
    return HS_OK;
}

/* A consumer name must survive hs__config_print and libinih: its sections
 * hold at most 49 bytes (longer ones are cut silently, so two long names
 * could merge), and ']', ';', '#' or blanks would change what is read. */
static bool consumer_name_ok(const char *name)
{
    size_t len = name != NULL ? strlen(name) : 0;
    if (len == 0 || len > HS__CONSUMER_NAME_MAX)
        return false;
    for (const char *p = name; *p != '\0'; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
            return false;
    return true;
}

int hs__config_check(hs__hub_config *cfg, FILE *errors)
{
    check_ctx c = {cfg, errors, 0};
    char err[512];
    hs_view *view;
    size_t self;
    if (hs__config_view(cfg, &view, &self, err, sizeof err) == HS_OK)
        hs_view_release(view);
    else
        check_error(&c,
                    strncmp(err, "self", 4) == 0       ? cfg->line_self
                    : strncmp(err, "members", 7) == 0  ? cfg->line_members
                    : strstr(err, "placement") != NULL ? cfg->line_placement
                                                       : cfg->line_hash,
                    "%s", err);
    hs__key_spec key;
    if (hs__key_spec_parse(&key, cfg->key != NULL ? cfg->key : "body", err, sizeof err) == HS_OK)
        hs__key_spec_clear(&key);
    else
        check_error(&c, cfg->line_key, "key: %s", err);
    if (cfg->key_fallback != NULL) {
        if (hs__key_spec_parse(&key, cfg->key_fallback, err, sizeof err) == HS_OK)
            hs__key_spec_clear(&key);
        else
            check_error(&c, cfg->line_key, "key-fallback: %s", err);
    }
    if (cfg->bus_seq != NULL && strcmp(cfg->bus_seq, "none") != 0) {
        if (hs__key_spec_parse(&key, cfg->bus_seq, err, sizeof err) == HS_OK)
            hs__key_spec_clear(&key);
        else
            check_error(&c, cfg->line_key, "bus-seq: %s", err);
    }
    if (cfg->bus_publisher != NULL) {
        if (hs__key_spec_parse(&key, cfg->bus_publisher, err, sizeof err) == HS_OK)
            hs__key_spec_clear(&key);
        else
            check_error(&c, cfg->line_key, "bus-publisher: %s", err);
    }
    if (cfg->connect.n + cfg->bind.n == 0)
        check_error(&c, 0, "no bus: give at least one connect or bind endpoint");
    char host[256];
    int port;
    if (cfg->metrics != NULL &&
        hs__config_parse_hostport(cfg->metrics, host, sizeof host, &port) != 0)
        check_error(&c, cfg->line_metrics, "metrics: '%s' is not HOST:PORT or none", cfg->metrics);
    hs__deadletter *dl;
    if (cfg->dead_letter != NULL) {
        if (hs__deadletter_new(&dl, cfg->dead_letter, err, sizeof err) == HS_OK)
            hs__deadletter_free(dl);
        else
            check_error(&c, cfg->line_dead_letter, "%s", err);
    }
    if (cfg->log_level != NULL) {
        hs__log_level lv;
        if (hs__log_level_parse(cfg->log_level, &lv) != 0)
            check_error(&c, 0, "log-level: '%s' is not debug, info, warn or error", cfg->log_level);
    }
    if (cfg->nconsumers == 0)
        check_error(&c, 0, "no consumer: give at least one (e.g. --consumer file:out.jsonl)");
    unsigned counts[sizeof kinds / sizeof kinds[0]] = {0};
    for (size_t i = 0; i < cfg->nconsumers; i++) {
        hs__consumer_spec *s = &cfg->consumers[i];
        size_t k;
        for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
            if (s->kind != NULL && strcmp(s->kind, kinds[k]) == 0)
                break;
        const char *label = s->name != NULL ? s->name : "";
        if (k == sizeof kinds / sizeof kinds[0]) {
            check_error(&c, s->line,
                        "consumer '%s': %s kind%s%s (expected exec, plugin, file, push)", label,
                        s->kind != NULL ? "unknown" : "no", s->kind != NULL ? " " : "",
                        s->kind != NULL ? s->kind : "");
            continue;
        }
        counts[k]++;
        if (s->name == NULL) {
            char name[64];
            snprintf(name, sizeof name, "%s-%u", kinds[k], counts[k]);
            s->name = strdup(name);
        }
        if (!consumer_name_ok(s->name))
            check_error(&c, s->line,
                        "consumer '%s': a name is 1 to %d letters, digits, '.', '_' or '-' (it "
                        "must fit an INI section [consumer NAME])",
                        s->name, HS__CONSUMER_NAME_MAX);
        if (s->glob == NULL)
            s->glob = strdup("*");
        if (s->arg == NULL || s->arg[0] == '\0')
            check_error(&c, s->line, "consumer '%s': %s wants an argument (%s:...)", s->name,
                        s->kind, s->kind);
        if (s->workers == 0)
            s->workers = cfg->workers;
        if (s->queue_size == 0)
            s->queue_size = cfg->queue_size;
        if (s->on_full == HS__ON_FULL_DEFAULT)
            s->on_full = cfg->on_full;
        if (s->timeout_s == 0)
            s->timeout_s = cfg->timeout_s;
        if (s->max_tries == 0)
            s->max_tries = cfg->max_tries;
        s->file_mode = cfg->file_mode;
        for (size_t j = 0; j < i; j++)
            if (s->name != NULL && cfg->consumers[j].name != NULL &&
                strcmp(cfg->consumers[j].name, s->name) == 0)
                check_error(&c, s->line, "consumer '%s': name used twice", s->name);
    }
    return c.count;
}

static void print_value(FILE *out, const char *name, const char *value)
{
    if (value != NULL)
        fprintf(out, "%s = %s\n", name, value);
}

/* A value that a repeated key continues (members with ',', arg with ' '),
 * on as many lines as libinih needs: each line at most HS__INI_VALUE_MAX
 * bytes of value, cut only where the reader puts the separator back (not
 * next to a blank, which libinih would trim). */
#define HS__INI_VALUE_MAX 180
static void print_continued(FILE *out, const char *name, const char *value, char sep)
{
    if (value == NULL)
        return;
    size_t len = strlen(value), start = 0;
    while (len - start > HS__INI_VALUE_MAX) {
        size_t cut = 0;
        for (size_t i = start + 1; i < start + HS__INI_VALUE_MAX && i + 1 < len; i++)
            if (value[i] == sep && !isspace((unsigned char)value[i - 1]) &&
                !isspace((unsigned char)value[i + 1]))
                cut = i;
        if (cut == 0)
            break;
        fprintf(out, "%s = %.*s\n", name, (int)(cut - start), value + start);
        start = cut + 1;
    }
    fprintf(out, "%s = %s\n", name, value + start);
}

void hs__config_print(const hs__hub_config *cfg, FILE *out)
{
    fprintf(out, "[hub]\n");
    print_value(out, "self", cfg->self);
    print_continued(out, "members", cfg->members, ',');
    print_value(out, "key", cfg->key != NULL ? cfg->key : "body");
    print_value(out, "key_fallback", cfg->key_fallback);
    print_value(out, "hash", cfg->hash);
    print_value(out, "placement", cfg->placement != NULL ? cfg->placement : "jump");
    for (size_t i = 0; i < cfg->connect.n; i++)
        print_value(out, "connect", cfg->connect.items[i]);
    for (size_t i = 0; i < cfg->bind.n; i++)
        print_value(out, "bind", cfg->bind.items[i]);
    for (size_t i = 0; i < cfg->subscribe.n; i++)
        print_value(out, "subscribe", cfg->subscribe.items[i]);
    print_value(out, "metrics", cfg->metrics != NULL ? cfg->metrics : HS__DEFAULT_METRICS);
    print_value(out, "dead_letter", cfg->dead_letter);
    print_value(out, "bus_seq", cfg->bus_seq);
    print_value(out, "bus_publisher", cfg->bus_publisher);
    fprintf(out, "max_body = %zu\nrcv_hwm = %ld\ndrain_timeout = %g\n", cfg->max_body, cfg->rcv_hwm,
            cfg->drain_timeout_s);
    fprintf(out, "file_mode = %04o\n", cfg->file_mode);
    for (size_t i = 0; i < cfg->nconsumers; i++) {
        const hs__consumer_spec *s = &cfg->consumers[i];
        fprintf(out, "\n[consumer %s]\n", s->name != NULL ? s->name : "?");
        print_value(out, "glob", s->glob);
        print_value(out, "kind", s->kind);
        print_continued(out, "arg", s->arg, ' ');
        fprintf(out, "workers = %u\nqueue = %zu\non_full = %s\ntimeout = %g\nmax_tries = %u\n",
                s->workers, s->queue_size, s->on_full == HS__ON_FULL_DROP ? "drop" : "block",
                s->timeout_s, s->max_tries);
    }
}
