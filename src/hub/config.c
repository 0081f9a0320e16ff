/* config.c - hub settings from argv and INI files; validation and printing.
 *
 * Every option is one row of `options[]` below: its name, the type that
 * parses and prints it, where it lives (hs__hub_config, and for a
 * per-consumer option also hs__consumer_spec), its range, its default and
 * its help. The command line, the INI loader, --check-config, the printout
 * and --help all walk that table; adding an option is adding a row (and
 * its field). */
#include "config.h"

#include "outfile.h"

#include "child.h"
#include "curve.h"
#include "coord.h"
#include "deadletter.h"
#include "key.h"
#include "log.h"
#include "webauth.h"

#include "hashspace/error.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

/* ---- values ---- */

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

/* A whole number with an optional K, M or G (powers of 1024). */
static int parse_number(const char *text, unsigned long long *out)
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
    if (*end != '\0' || errno != 0 || v > ULLONG_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

/* Seconds, or milliseconds with "ms". */
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

/* The shortest text that strtod reads back as v. */
static void format_double(double v, char *buf, size_t len)
{
    for (int precision = 6; precision <= 17; precision++) {
        snprintf(buf, len, "%.*g", precision, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* A bound as people write it: a size as 2G, 64M, 1K; a count as 1024. */
static void format_bound(double v, bool suffix, char *buf, size_t len)
{
    unsigned long long n = (unsigned long long)v;
    if (!suffix)
        snprintf(buf, len, "%llu", n);
    else if (n >= 1024 && n % (1ull << 30) == 0)
        snprintf(buf, len, "%lluG", n >> 30);
    else if (n >= 1024 && n % (1ull << 20) == 0)
        snprintf(buf, len, "%lluM", n >> 20);
    else if (n >= 1024 && n % 1024 == 0)
        snprintf(buf, len, "%lluK", n >> 10);
    else
        snprintf(buf, len, "%llu", n);
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

/* ---- the option table ---- */

typedef struct option_row option_row;

/* Where a value is being set: the config (a consumer option may add a
 * consumer) and the file line, 0 for the command line. */
typedef struct set_at {
    hs__hub_config *cfg;
    int line;
} set_at;

typedef struct value_type {
    /* Parse value into *field; on error a sentence starting with key. */
    int (*parse)(const option_row *o, const char *key, void *field, const char *value,
                 const set_at *at, char *err, size_t errlen);
    /* "key = value" lines; NULL when the option is printed elsewhere. */
    void (*print)(const option_row *o, const char *key, const void *field, FILE *out);
    size_t size;      /* of the field: a consumer's all-zero field takes the hub's */
    const char *what; /* numbers: "size" or "number", for messages */
} value_type;

#define NO_FIELD ((size_t)-1)
#define REPEATS 1u /* a repeated key adds to the value (lists, continued values) */

struct option_row {
    const char *name;      /* long option and [hub] key */
    const char *spec_name; /* key in [consumer NAME] and consumer specs; NULL: hub only */
    const value_type *type;
    size_t offset;      /* in hs__hub_config; NO_FIELD: [consumer NAME] only */
    size_t spec_offset; /* in hs__consumer_spec, or NO_FIELD */
    double min, max;    /* numbers: the accepted range */
    char sep;           /* continued values: what a repeated key puts between */
    unsigned flags;
    /* strings: refuse what start-up would; 0, or -1 and a sentence */
    int (*valid)(const char *key, const char *value, char *err, size_t errlen);
    const char *dflt;               /* parsed by hs__config_init; NULL: none (or derived) */
    const char *group, *arg, *help; /* --help; no help: not shown */
    const char *(*choices)(void);   /* fills the "%s" in help */
};

static int oom(char *err, size_t errlen)
{
    snprintf(err, errlen, "out of memory");
    return -1;
}

static int parse_str(const option_row *o, const char *key, void *field, const char *value,
                     const set_at *at, char *err, size_t errlen)
{
    (void)at;
    if (o->valid != NULL && o->valid(key, value, err, errlen) != 0)
        return -1;
    return set_string(field, value) == 0 ? 0 : oom(err, errlen);
}

static void print_str(const option_row *o, const char *key, const void *field, FILE *out)
{
    (void)o;
    const char *value = *(char *const *)field;
    if (value != NULL)
        fprintf(out, "%s = %s\n", key, value);
}

/* A value that a repeated key continues (members with ',', arg with ' '):
 * in a file a repeated key appends, on the command line it replaces. */
static int parse_continued(const option_row *o, const char *key, void *field, const char *value,
                           const set_at *at, char *err, size_t errlen)
{
    (void)key;
    int rc = at->line > 0 ? append_string(field, value, o->sep) : set_string(field, value);
    return rc == 0 ? 0 : oom(err, errlen);
}

static void print_continued(const option_row *o, const char *key, const void *field, FILE *out);

static int parse_list(const option_row *o, const char *key, void *field, const char *value,
                      const set_at *at, char *err, size_t errlen)
{
    (void)at;
    if (o->valid != NULL && o->valid(key, value, err, errlen) != 0)
        return -1;
    return list_add(field, value) == 0 ? 0 : oom(err, errlen);
}

static void print_list(const option_row *o, const char *key, const void *field, FILE *out)
{
    (void)o;
    const hs__strlist *l = field;
    for (size_t i = 0; i < l->n; i++)
        fprintf(out, "%s = %s\n", key, l->items[i]);
}

static int parse_consumer(const option_row *o, const char *key, void *field, const char *value,
                          const set_at *at, char *err, size_t errlen)
{
    (void)o, (void)key, (void)field;
    return hs__config_add_consumer(at->cfg, value, at->line, err, errlen);
}

/* A number in [o->min, o->max]: sizes (size_t), counts (unsigned, int). */
static int parse_whole(const option_row *o, const char *key, const char *value, const char *what,
                       unsigned long long *n, char *err, size_t errlen)
{
    if (parse_number(value, n) == 0 && (double)*n >= o->min && (double)*n <= o->max)
        return 0;
    char lo[32], hi[32];
    format_bound(o->min, strcmp(what, "size") == 0, lo, sizeof lo);
    format_bound(o->max, strcmp(what, "size") == 0, hi, sizeof hi);
    snprintf(err, errlen, "%s: '%s' is not a %s from %s to %s%s%s%s", key, value, what, lo, hi,
             o->dflt != NULL ? " (e.g. " : "", o->dflt != NULL ? o->dflt : "",
             o->dflt != NULL ? ")" : "");
    return -1;
}

/* Sizes and counts: a size_t, or an unsigned or int (the range keeps an
 * int's value within both). */
static int parse_count(const option_row *o, const char *key, void *field, const char *value,
                       const set_at *at, char *err, size_t errlen)
{
    (void)at;
    unsigned long long n;
    if (parse_whole(o, key, value, o->type->what, &n, err, errlen) != 0)
        return -1;
    if (o->type->size == sizeof(size_t))
        *(size_t *)field = (size_t)n;
    else
        *(unsigned *)field = (unsigned)n;
    return 0;
}

static void print_count(const option_row *o, const char *key, const void *field, FILE *out)
{
    unsigned long long n =
        o->type->size == sizeof(size_t) ? *(const size_t *)field : *(const unsigned *)field;
    fprintf(out, "%s = %llu\n", key, n);
}

static int parse_duration(const option_row *o, const char *key, void *field, const char *value,
                          const set_at *at, char *err, size_t errlen)
{
    (void)at;
    double v;
    if (parse_seconds(value, &v) == 0 && v >= o->min && v <= o->max) {
        *(double *)field = v;
        return 0;
    }
    char hi[32];
    format_double(o->max, hi, sizeof hi);
    snprintf(err, errlen, "%s: '%s' is not a duration from 0 to %s s (e.g. 10, 2.5s, 500ms)", key,
             value, hi);
    return -1;
}

static void print_duration(const option_row *o, const char *key, const void *field, FILE *out)
{
    (void)o;
    char text[32];
    format_double(*(const double *)field, text, sizeof text);
    fprintf(out, "%s = %s\n", key, text);
}

static int parse_on_full(const option_row *o, const char *key, void *field, const char *value,
                         const set_at *at, char *err, size_t errlen)
{
    (void)o, (void)at;
    if (strcmp(value, "block") == 0)
        *(hs__on_full *)field = HS__ON_FULL_BLOCK;
    else if (strcmp(value, "drop") == 0)
        *(hs__on_full *)field = HS__ON_FULL_DROP;
    else {
        snprintf(err, errlen, "%s: '%s' is not block or drop", key, value);
        return -1;
    }
    return 0;
}

static void print_on_full(const option_row *o, const char *key, const void *field, FILE *out)
{
    (void)o;
    fprintf(out, "%s = %s\n", key,
            *(const hs__on_full *)field == HS__ON_FULL_DROP ? "drop" : "block");
}

/* A file mode, octal (0640); the owner must be able to write. */
static int parse_mode(const option_row *o, const char *key, void *field, const char *value,
                      const set_at *at, char *err, size_t errlen)
{
    (void)o, (void)at;
    if (hs__outfile_parse_mode(value, field) == 0)
        return 0;
    snprintf(err, errlen,
             "%s: '%s' is not an octal mode (at most 0777) that lets the owner write (e.g. 0640)",
             key, value);
    return -1;
}

static void print_mode(const option_row *o, const char *key, const void *field, FILE *out)
{
    (void)o;
    fprintf(out, "%s = %04o\n", key, *(const unsigned *)field);
}

static int parse_bool(const option_row *o, const char *key, void *field, const char *value,
                      const set_at *at, char *err, size_t errlen)
{
    (void)o, (void)at;
    if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
        *(bool *)field = true;
    else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
        *(bool *)field = false;
    else {
        snprintf(err, errlen, "%s: '%s' is not yes or no", key, value);
        return -1;
    }
    return 0;
}

/* A positive real (a weight) in [o->min, o->max]. */
static int parse_real(const option_row *o, const char *key, void *field, const char *value,
                      const set_at *at, char *err, size_t errlen)
{
    (void)at;
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    if (end != value && *end == '\0' && errno == 0 && isfinite(v) && v >= o->min && v <= o->max &&
        v > 0) {
        *(double *)field = v;
        return 0;
    }
    char hi[32];
    format_double(o->max, hi, sizeof hi);
    snprintf(err, errlen, "%s: '%s' is not a positive number up to %s (e.g. 1, 2.5)", key, value,
             hi);
    return -1;
}

static int parse_ordered(const option_row *o, const char *key, void *field, const char *value,
                         const set_at *at, char *err, size_t errlen)
{
    (void)o, (void)at;
    if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0)
        *(hs__ordered *)field = HS__ORDERED_YES;
    else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 || strcmp(value, "0") == 0)
        *(hs__ordered *)field = HS__ORDERED_NO;
    else {
        snprintf(err, errlen, "%s: '%s' is not true or false", key, value);
        return -1;
    }
    return 0;
}

static void print_bool(const option_row *o, const char *key, const void *field, FILE *out)
{
    (void)o;
    fprintf(out, "%s = %s\n", key, *(const bool *)field ? "yes" : "no");
}

static void print_ordered(const option_row *o, const char *key, const void *field, FILE *out)
{
    (void)o;
    fprintf(out, "%s = %s\n", key,
            *(const hs__ordered *)field == HS__ORDERED_NO ? "false" : "true");
}

static const value_type T_STRING = {parse_str, print_str, sizeof(char *), NULL};
static const value_type T_CONTINUED = {parse_continued, print_continued, sizeof(char *), NULL};
static const value_type T_LIST = {parse_list, print_list, sizeof(hs__strlist), NULL};
static const value_type T_CONSUMER = {parse_consumer, NULL, 0, NULL};
static const value_type T_SIZE = {parse_count, print_count, sizeof(size_t), "size"};
static const value_type T_UNSIGNED = {parse_count, print_count, sizeof(unsigned), "number"};
static const value_type T_INT = {parse_count, print_count, sizeof(int), "number"};
static const value_type T_DURATION = {parse_duration, print_duration, sizeof(double), NULL};
static const value_type T_ON_FULL = {parse_on_full, print_on_full, sizeof(hs__on_full), NULL};
static const value_type T_MODE = {parse_mode, print_mode, sizeof(unsigned), NULL};
static const value_type T_BOOL = {parse_bool, print_bool, sizeof(bool), NULL};
static const value_type T_REAL = {parse_real, print_duration, sizeof(double), NULL};
static const value_type T_ORDERED = {parse_ordered, print_ordered, sizeof(hs__ordered), NULL};

/* ---- what start-up would refuse, checked where the value is read ---- */

static int valid_placement(const char *key, const char *value, char *err, size_t errlen)
{
    (void)key;
    if (hs_place_method_find(value) != NULL)
        return 0;
    snprintf(err, errlen, "unknown placement '%s' (expected one of: %s)", value,
             hs_place_method_names());
    return -1;
}

static int valid_hash(const char *key, const char *value, char *err, size_t errlen)
{
    (void)key;
    hs_hash_id id;
    if (hs_hash_find(value, &id) == HS_OK)
        return 0;
    snprintf(err, errlen, "unknown hash '%s' (expected one of: %s)", value, hs_hash_names());
    return -1;
}

static int valid_hash_key(const char *key, const char *value, char *err, size_t errlen)
{
    hs_hasher h;
    hs_hasher_init(&h, HS_HASH_SIPHASH);
    if (hs_hasher_set_secret_hex(&h, value) == HS_OK)
        return 0;
    snprintf(err, errlen, "%s: '%s' is not %d hex digits", key, value, 2 * HS_SIPHASH_KEYBYTES);
    return -1;
}

static int valid_key(const char *key, const char *value, char *err, size_t errlen)
{
    hs__key_spec spec;
    char why[400];
    if (hs__key_spec_parse(&spec, value, why, sizeof why) != HS_OK) {
        snprintf(err, errlen, "%s: %s", key, why);
        return -1;
    }
    hs__key_spec_clear(&spec);
    return 0;
}

/* A key spec, or none (no sequence tracking). */
static int valid_bus_seq(const char *key, const char *value, char *err, size_t errlen)
{
    return strcmp(value, "none") == 0 ? 0 : valid_key(key, value, err, errlen);
}

static int valid_metrics(const char *key, const char *value, char *err, size_t errlen)
{
    char host[256];
    int port;
    if (hs__config_parse_hostport(value, host, sizeof host, &port) == 0)
        return 0;
    snprintf(err, errlen, "%s: '%s' is not HOST:PORT or none", key, value);
    return -1;
}

static int valid_dead_letter(const char *key, const char *value, char *err, size_t errlen)
{
    (void)key;
    hs__deadletter *dl;
    if (hs__deadletter_new(&dl, value, err, errlen) != HS_OK)
        return -1;
    hs__deadletter_free(dl);
    return 0;
}

static int valid_log_level(const char *key, const char *value, char *err, size_t errlen)
{
    hs__log_level level;
    if (hs__log_level_parse(value, &level) == 0)
        return 0;
    snprintf(err, errlen, "%s: '%s' is not debug, info, warn or error", key, value);
    return -1;
}

/* CURVE keys are read where they are given, so that a missing file, bad
 * Z85 or a secret file others may read is an error on its line. */
static int valid_curve_secret(const char *key, const char *value, char *err, size_t errlen)
{
    hs__curve_pair pair;
    char why[400];
    int rc = hs__curve_secret_load(value, &pair, why, sizeof why);
    explicit_bzero(&pair, sizeof pair);
    if (rc == HS_OK)
        return 0;
    snprintf(err, errlen, "%s: %s", key, why);
    return -1;
}

static int valid_curve_public(const char *key, const char *value, char *err, size_t errlen)
{
    hs__curve_key k;
    char why[400];
    if (hs__curve_public_load(value, &k, why, sizeof why) == HS_OK)
        return 0;
    snprintf(err, errlen, "%s: %s", key, why);
    return -1;
}

static int valid_curve_allow(const char *key, const char *value, char *err, size_t errlen)
{
    hs__curve_allow *allow;
    char why[400];
    if (hs__curve_allow_load(&allow, value, why, sizeof why) != HS_OK) {
        snprintf(err, errlen, "%s: %s", key, why);
        return -1;
    }
    hs__curve_allow_free(allow);
    return 0;
}

static int valid_metrics_auth(const char *key, const char *value, char *err, size_t errlen)
{
    hs__webauth *auth;
    char why[400];
    if (hs__webauth_new(&auth, value, why, sizeof why) != HS_OK) {
        snprintf(err, errlen, "%s: %s", key, why);
        return -1;
    }
    hs__webauth_free(auth);
    return 0;
}

static int valid_coordinator(const char *key, const char *value, char *err, size_t errlen)
{
    hs__coord_url url;
    char why[400];
    if (hs__coord_url_parse(value, &url, why, sizeof why) == HS_OK)
        return 0;
    snprintf(err, errlen, "%s: %s (e.g. redis://127.0.0.1:6379/0)", key, why);
    return -1;
}

static int valid_member_name(const char *key, const char *value, char *err, size_t errlen)
{
    if (hs__coord_name_valid(value))
        return 0;
    snprintf(err, errlen,
             "%s: '%.80s' is not a name (1 to %d printable characters without blanks, ',' or "
             "'=')",
             key, value, HS_MEMBER_NAME_MAX);
    return -1;
}

/* The transports libzmq knows, with the capability a build may lack. A SUB
 * socket cannot use udp (radio/dish only). */
static const struct {
    const char *name, *capability;
} transports[] = {
    {"tcp", NULL},    {"ipc", "ipc"},   {"inproc", NULL}, {"pgm", "pgm"}, {"epgm", "pgm"},
    {"tipc", "tipc"}, {"vmci", "vmci"}, {"norm", "norm"}, {"ws", "ws"},   {"wss", "wss"},
};

/* What zmq_bind/zmq_connect would refuse at start-up: an unknown transport
 * (or one this libzmq lacks), and a tcp address without a port. */
static int valid_endpoint(const char *key, const char *value, bool bind, char *err, size_t errlen)
{
    const char *sep = strstr(value, "://");
    size_t len = sep != NULL ? (size_t)(sep - value) : 0;
    size_t k, n = sizeof transports / sizeof transports[0];
    for (k = 0; k < n; k++)
        if (strlen(transports[k].name) == len && strncmp(value, transports[k].name, len) == 0 &&
            (transports[k].capability == NULL || zmq_has(transports[k].capability)))
            break;
    if (sep == NULL || k == n || sep[3] == '\0') {
        char known[128] = "";
        for (size_t i = 0; i < n; i++)
            if (transports[i].capability == NULL || zmq_has(transports[i].capability))
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s://",
                         known[0] != '\0' ? ", " : "", transports[i].name);
        snprintf(err, errlen,
                 "%s: '%s' is not an endpoint this libzmq knows (expected %s..., e.g. "
                 "tcp://127.0.0.1:9940)",
                 key, value, known);
        return -1;
    }
    if (strcmp(transports[k].name, "tcp") == 0) {
        const char *address = sep + 3, *colon = strrchr(address, ':');
        const char *port = colon != NULL ? colon + 1 : "";
        bool port_ok = port[0] != '\0' && strspn(port, "0123456789") == strlen(port);
        if (bind && strcmp(port, "*") == 0)
            port_ok = true;
        if (colon == NULL || colon == address || !port_ok ||
            (!bind && strchr(address, '*') != NULL)) {
            snprintf(err, errlen, "%s: '%s' is not tcp://HOST:PORT%s", key, value,
                     bind ? " (HOST may be *, PORT may be *)" : "");
            return -1;
        }
    }
    return 0;
}

static int valid_connect(const char *key, const char *value, char *err, size_t errlen)
{
    return valid_endpoint(key, value, false, err, errlen);
}

static int valid_bind(const char *key, const char *value, char *err, size_t errlen)
{
    return valid_endpoint(key, value, true, err, errlen);
}

/* Where an option lives: the hub only; the hub (every consumer's default)
 * and each consumer under its own key; a [consumer NAME] section only. */
#define HUB(field) .offset = offsetof(hs__hub_config, field), .spec_offset = NO_FIELD
#define PER_CONSUMER(field, key, spec_field)                                                       \
    .offset = offsetof(hs__hub_config, field), .spec_name = key,                                   \
    .spec_offset = offsetof(hs__consumer_spec, spec_field)
#define SECTION(key, spec_field)                                                                   \
    .name = key, .spec_name = key, .offset = NO_FIELD,                                             \
    .spec_offset = offsetof(hs__consumer_spec, spec_field)
#define RANGE(lo, hi) .min = (lo), .max = (hi)
#define HELP(group_, arg_, text) .group = group_, .arg = arg_, .help = text

/* The order is the order of --help and of the printout. */
/* clang-format off */
static const option_row options[] = {
    {.name = "connect", .type = &T_LIST, HUB(connect), .flags = REPEATS, .valid = valid_connect,
     HELP("Bus", "ENDPOINT", "SUB-connect to a publisher (repeatable), e.g. tcp://HOST:9940")},
    {.name = "bind", .type = &T_LIST, HUB(bind), .flags = REPEATS, .valid = valid_bind,
     HELP("Bus", "ENDPOINT", "SUB-bind, for publishers that connect (repeatable)")},
    {.name = "subscribe", .type = &T_LIST, HUB(subscribe), .flags = REPEATS,
     HELP("Bus", "PREFIX", "topic prefix to subscribe to (repeatable; default: all)")},
    {.name = "max-body", .type = &T_SIZE, HUB(max_body), RANGE(1, 1ull << 31), .dflt = "8M",
     HELP("Bus", "SIZE", "larger bodies are dead-lettered (default 8M)")},
    {.name = "max-topic", .type = &T_SIZE, HUB(max_topic), RANGE(1, 1ull << 31), .dflt = "64K",
     HELP("Bus", "SIZE", "longer topics are dead-lettered (default 64K)")},
    {.name = "rcv-hwm", .type = &T_INT, HUB(rcv_hwm), RANGE(0, INT_MAX), .dflt = "1000000",
     HELP("Bus", "N", "messages ZeroMQ buffers before the bus drops\n"
                      "(default 1000000; 0: no limit)")},
    {.name = "reconnect-max", .type = &T_DURATION, HUB(reconnect_max_s), RANGE(0, 3600),
     .dflt = "0",
     HELP("Bus", "SECS", "a publisher that is gone is tried again every 100 ms; with\n"
                         "SECS, the wait doubles up to SECS (fewer wake-ups, but up to\n"
                         "SECS of its messages missed when it is back; default 0: off)")},
    {.name = "bus-seq", .type = &T_STRING, HUB(bus_seq), .valid = valid_bus_seq,
     .dflt = HS__DEFAULT_BUS_SEQ,
     HELP("Bus", "SPEC", "each publisher's sequence number, to count what the bus lost\n"
                         "(default json:/i, fedmsg's; none to disable)")},
    {.name = "bus-publisher", .type = &T_STRING, HUB(bus_publisher), .valid = valid_key,
     .dflt = HS__DEFAULT_BUS_PUBLISHER,
     HELP("Bus", "SPEC", "what names a publisher, with its address\n"
                         "(default json:/username)")},
    {.name = "curve-secret-key", .type = &T_STRING, HUB(curve_secret_key),
     .valid = valid_curve_secret,
     HELP("Bus", "KEY", "this hub's CURVE secret certificate (hashspace keygen) or\n"
                        "secret key in Z85; turns on CURVE for every bus socket")},
    {.name = "curve-server-key", .type = &T_STRING, HUB(curve_server_key),
     .valid = valid_curve_public,
     HELP("Bus", "KEY", "the publishers' public certificate or key, for --connect\n"
                        "(the hub is their CURVE client)")},
    {.name = "curve-allow", .type = &T_STRING, HUB(curve_allow), .valid = valid_curve_allow,
     HELP("Bus", "DIR", "public certificates of the publishers that may connect to\n"
                        "--bind endpoints (the hub is their CURVE server); reread\n"
                        "on SIGHUP")},

    {.name = "self", .type = &T_STRING, HUB(self),
     HELP("Claim", "NAME", "this hub's name among the members")},
    {.name = "members", .type = &T_CONTINUED, HUB(members), .sep = ',', .flags = REPEATS,
     HELP("Claim", "LIST", "comma-separated name[=weight], the same on every hub")},
    {.name = "coordinator", .type = &T_STRING, HUB(coordinator), .valid = valid_coordinator,
     HELP("Claim", "URL", "dynamic membership: redis://HOST:PORT[/DB] instead of --members\n"
                          "(hubs join, leave and fail over; needs --cluster)")},
    {.name = "cluster", .type = &T_STRING, HUB(cluster), .valid = valid_member_name,
     HELP("Claim", "NAME", "the cluster's name at the coordinator")},
    {.name = "weight", .type = &T_REAL, HUB(weight), RANGE(0, 1e6), .dflt = "1",
     HELP("Claim", "W", "this hub's weight in views the coordinator makes (default 1)")},
    {.name = "heartbeat", .type = &T_DURATION, HUB(heartbeat_s), RANGE(0.01, 3600), .dflt = "1",
     HELP("Claim", "SECS", "how often a hub renews its registration (default 1)")},
    {.name = "expiry", .type = &T_DURATION, HUB(expiry_s), RANGE(0.02, 3600), .dflt = "3",
     HELP("Claim", "SECS", "a registration not renewed for this long expires: a crash is\n"
                           "noticed after it, and a hub cut off fences itself (default 3)")},
    {.name = "lead-time", .type = &T_DURATION, HUB(lead_time_s), RANGE(0.01, 3600), .dflt = "2",
     HELP("Claim", "SECS", "a new view takes effect this long after it is made (default 2;\n"
                           "at least a heartbeat)")},
    {.name = "time-key", .type = &T_STRING, HUB(time_key), .valid = valid_bus_seq,
     .dflt = HS__DEFAULT_TIME_KEY,
     HELP("Claim", "SPEC", "a message's time, seconds since 1970 (default json:/timestamp,\n"
                           "fedmsg's); none: the time of receipt")},
    {.name = "time-skew", .type = &T_DURATION, HUB(time_skew_s), RANGE(0.001, 86400 * 365),
     .dflt = "30",
     HELP("Claim", "SECS", "a message time further than this from the hub's clock is\n"
                           "replaced by the time of receipt, and counted (default 30)")},
    {.name = "confirm-wait", .type = &T_DURATION, HUB(confirm_wait_s), RANGE(0, 3600),
     .dflt = "5",
     HELP("Claim", "SECS", "longest wait for the coordinator to confirm the views up to a\n"
                           "message's time before deciding it anyway (default 5)")},
    {.name = "join-wait", .type = &T_DURATION, HUB(join_wait_s), RANGE(0, 3600), .dflt = "1",
     HELP("Claim", "SECS", "register at the first message received, or after this long\n"
                           "when the bus is idle (default 1)")},
    {.name = "ring-seconds", .type = &T_DURATION, HUB(ring_seconds), RANGE(0, 86400),
     .dflt = "30",
     HELP("Claim", "SECS", "keep the messages other hubs own this long, to replay a crashed\n"
                           "hub's (default 30; more than expiry + lead-time)")},
    {.name = "ring-bytes", .type = &T_SIZE, HUB(ring_bytes), RANGE(0, 1ull << 40), .dflt = "256M",
     HELP("Claim", "SIZE", "and in at most this much memory (default 256M)")},
    {.name = "hold-max", .type = &T_SIZE, HUB(hold_max), RANGE(1, 1ull << 30), .dflt = "1000000",
     HELP("Claim", "N", "messages of moved keys held until their old owner is done;\n"
                        "beyond it the bus waits (default 1000000)")},
    {.name = "hold-timeout", .type = &T_DURATION, HUB(hold_timeout_s), RANGE(0, 86400),
     .dflt = "10",
     HELP("Claim", "SECS", "longest hold of a moved key's messages when its old owner lives\n"
                           "but does not finish (a hung consumer): then they go, counted as\n"
                           "possibly reordered (default 10, five lead-times; 0: no bound)")},
    {.name = "key", .type = &T_STRING, HUB(key), .valid = valid_key, .dflt = "body",
     HELP("Claim", "SPEC", "body (default), topic, or json:/pointer (e.g. json:/msg/user)")},
    {.name = "key-fallback", .type = &T_STRING, HUB(key_fallback), .valid = valid_key,
     HELP("Claim", "SPEC", "key for messages whose --key is missing (default: none, such\n"
                           "messages are dead-lettered), e.g. body")},
    {.name = "hash", .type = &T_STRING, HUB(hash), .valid = valid_hash,
     HELP("Claim", "H", "%s\n(default: the placement's own)"), .choices = hs_hash_names},
    {.name = "placement", .type = &T_STRING, HUB(placement), .valid = valid_placement,
     .dflt = "jump", HELP("Claim", "P", "%s\n(default: jump)"), .choices = hs_place_method_names},
    {.name = "hash-key", .type = &T_STRING, HUB(hash_key), .valid = valid_hash_key,
     HELP("Claim", "HEX", "siphash secret, 32 hex digits")},

    {.name = "consumer", .type = &T_CONSUMER, HUB(consumers), .flags = REPEATS,
     HELP("Consumers", "SPEC", "[NAME[,OPTION=VALUE...]@][GLOB=]KIND:ARG (repeatable);\n"
                               "GLOB defaults to *; KIND:ARG is one of\n"
                               "%s\n"
                               "OPTIONs (the consumer defaults below: workers, queue,\n"
                               "on_full, ...) override them for this consumer, e.g.\n"
                               "'slow,queue=100,on_full=drop@org.*=exec:./slow.py'"),
     .choices = hs__sink_usages},
    {SECTION("glob", glob), .type = &T_STRING},
    {SECTION("kind", kind), .type = &T_STRING},
    {SECTION("arg", arg), .type = &T_CONTINUED, .sep = ' ', .flags = REPEATS},

    {.name = "workers", .type = &T_UNSIGNED, PER_CONSUMER(workers, "workers", workers),
     RANGE(1, 1024), .dflt = "1",
     HELP("Consumer defaults", "N", "worker threads per consumer (default 1; same key, same worker)")},
    {.name = "queue-size", .type = &T_SIZE, PER_CONSUMER(queue_size, "queue", queue_size),
     RANGE(1, 1ull << 26), .dflt = "10000",
     HELP("Consumer defaults", "N", "queue slots per worker (default 10000)")},
    {.name = "on-full", .type = &T_ON_FULL, PER_CONSUMER(on_full, "on-full", on_full),
     .dflt = "block", HELP("Consumer defaults", "MODE", "block (default, lossless) or drop (and count)")},
    {.name = "timeout", .type = &T_DURATION, PER_CONSUMER(timeout_s, "timeout", timeout_s),
     RANGE(0, HS__TIMEOUT_MAX_S), .dflt = "0",
     HELP("Consumer defaults", "SECONDS", "per-message timeout of exec and push consumers\n"
                                          "(default 0: exec waits, push 5 s; at most 2147483)")},
    {.name = "max-tries", .type = &T_UNSIGNED, PER_CONSUMER(max_tries, "max-tries", max_tries),
     RANGE(1, 1024), .dflt = "3",
     HELP("Consumer defaults", "N", "tries before a message is dead-lettered (default 3)")},
    {.name = "file-mode", .type = &T_MODE, PER_CONSUMER(file_mode, "file-mode", file_mode),
     .dflt = "0640",
     HELP("Consumer defaults", "MODE", "octal mode of the files the hub creates (file: sinks,\n"
                                       "dead letters; default 0640); existing files keep theirs")},
    {.name = "push-server-key", .type = &T_STRING,
     PER_CONSUMER(push_server_key, "push-server-key", push_server_key),
     .valid = valid_curve_public,
     HELP("Consumer defaults", "KEY", "push: the PULL peer's CURVE public certificate or key\n"
                                      "(needed with curve-secret-key)")},
    {.name = "ordered", .type = &T_ORDERED, PER_CONSUMER(ordered, "ordered", ordered),
     .dflt = "true",
     HELP("Consumer defaults", "BOOL", "keep per-key order across a handover (default true);\n"
                                       "false: messages of a moved key come at once")},
    {.name = "dead-letter", .type = &T_STRING, HUB(dead_letter), .valid = valid_dead_letter,
     HELP("Consumer defaults", "SINK", "file:PATH, stderr or none\n"
                                       "(default file:hashspace-dead-letter-SELF.jsonl)")},

    {.name = "metrics", .type = &T_STRING, HUB(metrics), .valid = valid_metrics,
     .dflt = HS__DEFAULT_METRICS,
     HELP("Operation", "HOST:PORT", "Prometheus /metrics, JSON /status, /healthz, /readyz (default\n"
                                    "127.0.0.1:0, a free port, logged at start); none to disable")},
    {.name = "metrics-auth", .type = &T_STRING, HUB(metrics_auth), .valid = valid_metrics_auth,
     .dflt = "none",
     HELP("Operation", "AUTH", "who may read /metrics and /status: none (default),\n"
                               "bearer:FILE (the token in FILE) or basic:FILE (USER:PASSWORD)")},
    {.name = "status-args", .type = &T_BOOL, HUB(status_args), .dflt = "no",
     HELP("Operation", "yes|no", "show consumers' arguments (exec command lines, paths,\n"
                                 "endpoints) in /status (default no)")},
    {.name = "drain-timeout", .type = &T_DURATION, HUB(drain_timeout_s),
     RANGE(0, HS__TIMEOUT_MAX_S), .dflt = "10",
     HELP("Operation", "SECS", "at SIGTERM, time to finish queued messages (default 10)")},
    {.name = "log-level", .type = &T_STRING, HUB(log_level), .valid = valid_log_level,
     .dflt = "info", HELP("Operation", "LEVEL", "debug, info (default), warn, error")},
};
/* clang-format on */

#define NOPTIONS (sizeof options / sizeof options[0])
_Static_assert(NOPTIONS <= HS__CONFIG_OPTIONS_MAX, "raise HS__CONFIG_OPTIONS_MAX");

static bool in_hub(const option_row *o)
{
    return o->offset != NO_FIELD;
}

static bool in_section(const option_row *o)
{
    return o->spec_offset != NO_FIELD;
}

/* A consumer spec's OPTIONs: the per-consumer defaults, not glob/kind/arg. */
static bool in_spec(const option_row *o)
{
    return in_hub(o) && in_section(o);
}

static const option_row *find_option(const char *name, bool (*scope)(const option_row *))
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (scope(&options[i]) &&
            (same_name(name, options[i].name) ||
             (options[i].spec_name != NULL && same_name(name, options[i].spec_name))))
            return &options[i];
    return NULL;
}

/* The key of an option as printed: '_' between words, as in the files. */
static void print_key(const char *name, char *key, size_t len)
{
    snprintf(key, len, "%s", name);
    for (char *p = key; *p != '\0'; p++)
        if (*p == '-')
            *p = '_';
}

/* "glob, kind, arg, workers, ..." for a scope. */
static void option_names(bool (*scope)(const option_row *), char *out, size_t len)
{
    out[0] = '\0';
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (!scope(&options[i]))
            continue;
        char key[64];
        print_key(options[i].spec_name, key, sizeof key);
        snprintf(out + strlen(out), len - strlen(out), "%s%s", out[0] != '\0' ? ", " : "", key);
    }
}

void hs__config_init(hs__hub_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    char err[512];
    for (size_t i = 0; i < NOPTIONS; i++) {
        const option_row *o = &options[i];
        set_at at = {cfg, 0};
        if (o->dflt != NULL && in_hub(o))
            o->type->parse(o, o->name, (char *)cfg + o->offset, o->dflt, &at, err, sizeof err);
    }
}

void hs__config_free(hs__hub_config *cfg)
{
    char **strings[] = {&cfg->self,
                        &cfg->members,
                        &cfg->hash,
                        &cfg->placement,
                        &cfg->hash_key,
                        &cfg->key,
                        &cfg->key_fallback,
                        &cfg->metrics,
                        &cfg->dead_letter,
                        &cfg->log_level,
                        &cfg->file,
                        &cfg->bus_seq,
                        &cfg->bus_publisher,
                        &cfg->curve_secret_key,
                        &cfg->curve_server_key,
                        &cfg->curve_allow,
                        &cfg->push_server_key,
                        &cfg->metrics_auth,
                        &cfg->coordinator,
                        &cfg->cluster,
                        &cfg->time_key};
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
        free(cfg->consumers[i].push_server_key);
    }
    free(cfg->consumers);
    cfg->consumers = NULL;
    cfg->nconsumers = 0;
}

int hs__config_set(hs__hub_config *cfg, const char *name, const char *value, int line, char *err,
                   size_t errlen)
{
    const option_row *o = find_option(name, in_hub);
    if (o == NULL) {
        snprintf(err, errlen, "unknown option '%s'", name);
        return -1;
    }
    size_t index = (size_t)(o - options);
    if (line > 0 && !(o->flags & REPEATS) && cfg->line[index] > 0) {
        snprintf(err, errlen, "%s is already set on line %d (give it once)", o->name,
                 cfg->line[index]);
        return -1;
    }
    set_at at = {cfg, line};
    if (o->type->parse(o, o->name, (char *)cfg + o->offset, value, &at, err, errlen) != 0)
        return -1;
    cfg->line[index] = line;
    return 0;
}

/* A per-consumer key (in a [consumer NAME] section, or an OPTION of a
 * consumer spec) into spec s. */
static const option_row *consumer_option(hs__hub_config *cfg, hs__consumer_spec *s,
                                         bool (*scope)(const option_row *), const char *name,
                                         const char *value, int line, char *err, size_t errlen)
{
    const option_row *o = find_option(name, scope);
    if (o == NULL) {
        char names[256];
        option_names(scope, names, sizeof names);
        snprintf(err, errlen, "unknown consumer option '%s' (expected %s)", name, names);
        return NULL;
    }
    char key[64];
    print_key(o->spec_name, key, sizeof key);
    set_at at = {cfg, line};
    if (o->type->parse(o, key, (char *)s + o->spec_offset, value, &at, err, errlen) != 0)
        return NULL;
    return o;
}

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
        for (int k = 0; k < HS__SINKS; k++) {
            const char *kind = hs__sink_at(k)->kind;
            size_t len = strlen(kind);
            if (strncmp(p, kind, len) == 0 && p[len] == ':') {
                at = p;
                kind_len = len;
                break;
            }
        }
    }
    if (at == NULL) {
        snprintf(err, errlen,
                 "consumer '%s': expected [NAME[,OPTION=VALUE...]@][GLOB=]KIND:ARG with KIND one "
                 "of %s (e.g. 'org.*=file:out.jsonl')",
                 text, hs__sink_kinds());
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
            if (consumer_option(cfg, s, in_spec, o, eq + 1, line, why, sizeof why) == NULL) {
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
    size_t bytes;                         /* read so far, at most HS__CONFIG_MAX_BYTES */
    bool too_big;                         /* stop reading */
    bool header;                          /* a "[section]" line since the key before */
    char section[64];                     /* of the key before */
    hs__consumer_spec *consumer;          /* of the current [consumer NAME]; NULL: skip */
    int key_line[HS__CONFIG_OPTIONS_MAX]; /* where the current section set each key */
} load_ctx;

static void load_error(load_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void load_error(load_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(ctx->errors, "hashspace hub: %s:%d: ", ctx->path, ctx->line);
    vfprintf(ctx->errors, fmt, ap);
    fputc('\n', ctx->errors);
    va_end(ap);
    ctx->errors_seen++;
}

/* libinih's reader: one whole line per call, so ctx->line is the line the
 * handler is looking at. Lines too long for libinih's buffer are reported
 * and skipped; a file over HS__CONFIG_MAX_BYTES ends the reading, so that
 * an endless stream (a pipe, a device) cannot make the reader grow. */
static char *read_line(char *str, int num, void *stream)
{
    load_ctx *ctx = stream;
    size_t len = 0, room = (size_t)num - 1;
    bool too_long = false;
    int ch = EOF;
    while (!ctx->too_big && (ch = getc(ctx->f)) != EOF) {
        if (++ctx->bytes > HS__CONFIG_MAX_BYTES) {
            ctx->too_big = true;
            ctx->line++;
            load_error(ctx, "the file goes on past %u bytes: not a config file?",
                       HS__CONFIG_MAX_BYTES);
            return NULL;
        }
        if (len < room)
            str[len++] = (char)ch;
        else
            too_long = true;
        if (ch == '\n')
            break;
    }
    if (len == 0)
        return NULL;
    str[len] = '\0';
    ctx->line++;
    size_t blanks = strspn(str, " \t");
    if (str[blanks] == '[') {
        ctx->header = true;
    }
    if (too_long || (len == room && str[len - 1] != '\n')) {
        load_error(ctx, "line longer than %d bytes (continue the value on an indented line)",
                   num - 2);
        strcpy(str, "\n");
    }
    return str;
}

static hs__consumer_spec *find_consumer(hs__hub_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nconsumers; i++)
        if (cfg->consumers[i].name != NULL && strcmp(cfg->consumers[i].name, name) == 0)
            return &cfg->consumers[i];
    return NULL;
}

/* The first key of a [consumer NAME] section: a new consumer, unless the
 * name is taken (a second section would merge into the first silently). */
static void begin_consumer(load_ctx *ctx, const char *name)
{
    ctx->consumer = NULL;
    hs__consumer_spec *s = find_consumer(ctx->cfg, name);
    if (s != NULL) {
        load_error(ctx,
                   "[consumer %s] again: consumer '%s' is already defined on line %d (one "
                   "section per consumer)",
                   name, name, s->line);
        return;
    }
    if ((s = new_consumer(ctx->cfg, ctx->line)) == NULL || (s->name = strdup(name)) == NULL) {
        load_error(ctx, "out of memory");
        return;
    }
    ctx->consumer = s;
}

static void consumer_key(load_ctx *ctx, const char *name, const char *value)
{
    char err[512];
    hs__consumer_spec *s = ctx->consumer;
    const option_row *o = find_option(name, in_section);
    size_t index = o != NULL ? (size_t)(o - options) : 0;
    if (o != NULL && !(o->flags & REPEATS) && ctx->key_line[index] > 0) {
        char key[64];
        print_key(o->spec_name, key, sizeof key);
        load_error(ctx, "consumer '%s': %s is already set on line %d (give it once)", s->name, key,
                   ctx->key_line[index]);
        return;
    }
    if (consumer_option(ctx->cfg, s, in_section, name, value, ctx->line, err, sizeof err) == NULL)
        load_error(ctx, "%s", err);
    else
        ctx->key_line[index] = ctx->line;
}

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
    load_ctx *ctx = user;
    char err[512];
    bool new_section = ctx->header || strcmp(section, ctx->section) != 0;
    ctx->header = false;
    if (new_section) {
        snprintf(ctx->section, sizeof ctx->section, "%s", section);
        memset(ctx->key_line, 0, sizeof ctx->key_line);
    }
    if (strcmp(section, "hub") == 0) {
        if (hs__config_set(ctx->cfg, name, value, ctx->line, err, sizeof err) != 0)
            load_error(ctx, "%s", err);
        return 1;
    }
    if (strncmp(section, "consumer ", 9) == 0 && section[9] != '\0') {
        if (new_section)
            begin_consumer(ctx, section + 9);
        if (ctx->consumer != NULL)
            consumer_key(ctx, name, value);
        return 1;
    }
    load_error(ctx, "unknown section [%s] (expected [hub] or [consumer NAME])", section);
    return 1;
}

int hs__config_load(hs__hub_config *cfg, const char *path, FILE *errors)
{
    load_ctx ctx = {.cfg = cfg, .errors = errors, .path = path};
    ctx.f = fopen(path, "r");
    if (ctx.f == NULL) {
        fprintf(errors, "hashspace hub: %s: cannot read: %s\n", path, strerror(errno));
        return 1;
    }
    struct stat st;
    if (fstat(fileno(ctx.f), &st) != 0 || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))) {
        fprintf(errors, "hashspace hub: %s: not a config file: %s\n", path,
                S_ISDIR(st.st_mode)                          ? "a directory"
                : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                             : "not a regular file");
        fclose(ctx.f);
        return 1;
    }
    set_string(&cfg->file, path);
    int rc = ini_parse_stream(read_line, &ctx, on_ini, &ctx);
    if (rc > 0 && !ctx.too_big) {
        /* libinih stops reporting through the handler on syntax errors. */
        ctx.line = rc;
        load_error(&ctx, "syntax error (expected [section] or name = value)");
    }
    fclose(ctx.f);
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
    fputs("hashspace hub: ", c->errors);
    if (c->cfg->file != NULL && line > 0)
        fprintf(c->errors, "%s:%d: ", c->cfg->file, line);
    else if (c->cfg->file != NULL)
        fprintf(c->errors, "%s: ", c->cfg->file);
    vfprintf(c->errors, fmt, ap);
    fputc('\n', c->errors);
    va_end(ap);
    c->count++;
}

/* The line where an option was set (0: the command line or the default). */
static int line_of(const hs__hub_config *cfg, const char *name)
{
    const option_row *o = find_option(name, in_hub);
    return o != NULL ? cfg->line[o - options] : 0;
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

/* The view; on error also the option to blame (its line is the message's). */
static int view_build(const hs__hub_config *cfg, hs_view **out, size_t *self_index,
                      const char **culprit, char *err, size_t errlen)
{
    const char *placement = cfg->placement != NULL ? cfg->placement : "jump";
    const hs_place_info *info = hs_place_method_find(placement);
    *culprit = "placement";
    if (info == NULL) {
        snprintf(err, errlen, "unknown placement '%s' (expected one of: %s)", placement,
                 hs_place_method_names());
        return HS_EUNKNOWN_PLACEMENT;
    }
    hs_hash_id hid = info->default_hash;
    *culprit = "hash";
    if (cfg->hash != NULL && hs_hash_find(cfg->hash, &hid) != HS_OK) {
        snprintf(err, errlen, "unknown hash '%s' (expected one of: %s)", cfg->hash,
                 hs_hash_names());
        return HS_EUNKNOWN_HASH;
    }
    hs_hasher hasher;
    hs_hasher_init(&hasher, hid);
    *culprit = "hash-key";
    if (cfg->hash_key != NULL && hs_hasher_set_secret_hex(&hasher, cfg->hash_key) != HS_OK) {
        snprintf(err, errlen, "hash-key wants %d hex digits", 2 * HS_SIPHASH_KEYBYTES);
        return HS_EINVAL;
    }
    *culprit = "members";
    if (cfg->coordinator != NULL) {
        snprintf(err, errlen, "with a coordinator the views come from it, not from members");
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
    *culprit = "self";
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

int hs__config_hasher(const hs__hub_config *cfg, hs_hasher *out, char *err, size_t errlen)
{
    const hs_place_info *info =
        hs_place_method_find(cfg->placement != NULL ? cfg->placement : "jump");
    hs_hash_id hid = info != NULL ? info->default_hash : HS_HASH_XXH3;
    if (info == NULL || (cfg->hash != NULL && hs_hash_find(cfg->hash, &hid) != HS_OK)) {
        snprintf(err, errlen, "unknown placement or hash");
        return HS_EINVAL;
    }
    hs_hasher_init(out, hid);
    if (cfg->hash_key != NULL && hs_hasher_set_secret_hex(out, cfg->hash_key) != HS_OK) {
        snprintf(err, errlen, "hash-key wants %d hex digits", 2 * HS_SIPHASH_KEYBYTES);
        return HS_EINVAL;
    }
    return HS_OK;
}

int hs__config_view(const hs__hub_config *cfg, hs_view **out, size_t *self_index, char *err,
                    size_t errlen)
{
    const char *culprit;
    return view_build(cfg, out, self_index, &culprit, err, errlen);
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

/* 0 when path names a file this process may execute; else the errno. */
static int executable(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return errno;
    if (!S_ISREG(st.st_mode))
        return EACCES;
    return access(path, X_OK) == 0 ? 0 : errno;
}

/* The program of an exec consumer, found as posix_spawnp will at start-up:
 * a name with a '/' as it is, else in each directory of PATH. */
static int exec_program_ok(const char *arg, char *err, size_t errlen)
{
    char **argv;
    char why[400];
    if (hs__argv_split(arg, &argv, NULL, why, sizeof why) != HS_OK) {
        snprintf(err, errlen, "exec: %s", why);
        return -1;
    }
    int e = ENOENT;
    const char *prog = argv[0];
    if (strchr(prog, '/') != NULL) {
        e = executable(prog);
    } else {
        char fallback[256] = "/bin:/usr/bin";
        const char *path = getenv("PATH");
        if (path == NULL && confstr(_CS_PATH, fallback, sizeof fallback) > 0)
            path = fallback;
        for (const char *dir = path != NULL ? path : fallback; e != 0;) {
            size_t len = strcspn(dir, ":");
            char full[4096];
            snprintf(full, sizeof full, "%.*s/%s", (int)(len > 0 ? len : 1), len > 0 ? dir : ".",
                     prog);
            int found = executable(full);
            if (found == 0 || (found == EACCES && e == ENOENT))
                e = found;
            if (dir[len] == '\0')
                break;
            dir += len + 1;
        }
    }
    if (e != 0)
        snprintf(err, errlen, "exec: cannot run '%s': %s%s", prog, strerror(e),
                 strchr(prog, '/') == NULL && e == ENOENT ? " (not found in PATH)" : "");
    free(argv);
    return e == 0 ? 0 : -1;
}

/* A consumer's fields left zero take the hub's defaults. */
static void inherit_defaults(const hs__hub_config *cfg, hs__consumer_spec *s)
{
    static const char zero[sizeof(double) > sizeof(size_t) ? sizeof(double) : sizeof(size_t)];
    for (size_t i = 0; i < NOPTIONS; i++) {
        const option_row *o = &options[i];
        if (!in_spec(o))
            continue;
        char *field = (char *)s + o->spec_offset;
        if (memcmp(field, zero, o->type->size) != 0)
            continue;
        memcpy(field, (const char *)cfg + o->offset, o->type->size);
        /* A string is the consumer's own copy (config_free frees both). */
        char **text = (char **)field;
        if (o->type == &T_STRING && *text != NULL)
            *text = strdup(*text);
    }
}

static void check_consumers(check_ctx *c, hs__hub_config *cfg)
{
    unsigned counts[HS__SINKS] = {0};
    char err[512];
    for (size_t i = 0; i < cfg->nconsumers; i++) {
        hs__consumer_spec *s = &cfg->consumers[i];
        int k = s->kind != NULL ? hs__sink_index(s->kind) : -1;
        const char *label = s->name != NULL ? s->name : "";
        if (k < 0) {
            check_error(c, s->line, "consumer '%s': %s kind%s%s (expected %s)", label,
                        s->kind != NULL ? "unknown" : "no", s->kind != NULL ? " " : "",
                        s->kind != NULL ? s->kind : "", hs__sink_kinds());
            continue;
        }
        counts[k]++;
        if (s->name == NULL) {
            char name[64];
            snprintf(name, sizeof name, "%s-%u", s->kind, counts[k]);
            s->name = strdup(name);
        }
        if (!consumer_name_ok(s->name))
            check_error(c, s->line,
                        "consumer '%s': a name is 1 to %d letters, digits, '.', '_' or '-' (it "
                        "must fit an INI section [consumer NAME])",
                        s->name, HS__CONSUMER_NAME_MAX);
        if (s->glob == NULL)
            s->glob = strdup("*");
        if (s->arg == NULL || s->arg[0] == '\0')
            check_error(c, s->line, "consumer '%s': %s wants an argument (%s:...)", s->name,
                        s->kind, s->kind);
        else if (strcmp(s->kind, "exec") == 0 && exec_program_ok(s->arg, err, sizeof err) != 0)
            check_error(c, s->line, "consumer '%s': %s", s->name, err);
        else if (strcmp(s->kind, "push") == 0 &&
                 valid_endpoint("push", s->arg, false, err, sizeof err) != 0)
            check_error(c, s->line, "consumer '%s': %s", s->name, err);
        inherit_defaults(cfg, s);
        for (size_t j = 0; j < i; j++)
            if (s->name != NULL && cfg->consumers[j].name != NULL &&
                strcmp(cfg->consumers[j].name, s->name) == 0)
                check_error(c, s->line, "consumer '%s': name used twice", s->name);
    }
}

/* CURVE is all or nothing: with this hub's key pair set, every bus socket
 * needs the keys of its role, so that nothing falls back to a plain
 * connection; the peer keys are of no use without the hub's own. */
static void check_curve(check_ctx *c, const hs__hub_config *cfg)
{
    bool on = cfg->curve_secret_key != NULL;
    const char *given = cfg->curve_server_key != NULL ? "curve-server-key"
                        : cfg->curve_allow != NULL    ? "curve-allow"
                                                      : NULL;
    if ((on || given != NULL) && !hs__curve_available())
        check_error(c, line_of(cfg, on ? "curve-secret-key" : given),
                    "this libzmq has no CURVE (zmq_has(\"curve\") is false)");
    if (!on) {
        if (given != NULL)
            check_error(c, line_of(cfg, given),
                        "%s needs curve-secret-key (this hub's own key pair, from hashspace "
                        "keygen)",
                        given);
        for (size_t i = 0; i < cfg->nconsumers; i++)
            if (cfg->consumers[i].push_server_key != NULL &&
                strcmp(cfg->consumers[i].kind != NULL ? cfg->consumers[i].kind : "", "push") == 0)
                check_error(c, cfg->consumers[i].line,
                            "consumer '%s': push-server-key needs curve-secret-key (this hub's "
                            "own key pair, from hashspace keygen)",
                            cfg->consumers[i].name);
        return;
    }
    int line = line_of(cfg, "curve-secret-key");
    if (cfg->connect.n > 0 && cfg->curve_server_key == NULL)
        check_error(c, line,
                    "curve-secret-key is set, so connect (%s) needs curve-server-key, the "
                    "publishers' public key: the hub never falls back to a plain connection",
                    cfg->connect.items[0]);
    if (cfg->bind.n > 0 && cfg->curve_allow == NULL)
        check_error(c, line,
                    "curve-secret-key is set, so bind (%s) needs curve-allow, the directory of "
                    "the publishers' public keys: the hub never lets in a plain connection",
                    cfg->bind.items[0]);
    for (size_t i = 0; i < cfg->nconsumers; i++) {
        const hs__consumer_spec *s = &cfg->consumers[i];
        if (s->kind != NULL && strcmp(s->kind, "push") == 0 && s->push_server_key == NULL)
            check_error(c, s->line,
                        "consumer '%s': curve-secret-key is set, so push needs push-server-key, "
                        "its PULL peer's public key",
                        s->name != NULL ? s->name : "");
    }
    /* A secret key written into the config file makes the file a secret. */
    struct stat st;
    if (hs__curve_spec_is_text(cfg->curve_secret_key) && line > 0 && cfg->file != NULL &&
        stat(cfg->file, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077) != 0)
        check_error(c, line,
                    "curve-secret-key is written in this file, which group or others may read "
                    "(mode %04o): chmod 600 it, or give the key as a file",
                    (unsigned)(st.st_mode & 07777));
}

/* Dynamic membership: a coordinator, a cluster and a self; no members. */
static void check_dynamic(check_ctx *c, const hs__hub_config *cfg)
{
    int line = line_of(cfg, "coordinator");
    char err[512];
    if (cfg->members != NULL)
        check_error(c, line_of(cfg, "members"),
                    "members and coordinator exclude each other: static membership (members) or "
                    "views from the coordinator");
    if (cfg->cluster == NULL)
        check_error(c, line, "coordinator wants cluster, the cluster's name (e.g. cluster = prod)");
    if (cfg->self == NULL)
        check_error(c, line, "self is required: this hub's name in the cluster");
    else if (valid_member_name("self", cfg->self, err, sizeof err) != 0)
        check_error(c, line_of(cfg, "self"), "%s", err);
    if (cfg->expiry_s <= cfg->heartbeat_s)
        check_error(c, line_of(cfg, "expiry"),
                    "expiry (%g s) must be longer than heartbeat (%g s), a few of them",
                    cfg->expiry_s, cfg->heartbeat_s);
    if (cfg->lead_time_s < cfg->heartbeat_s)
        check_error(c, line_of(cfg, "lead-time"),
                    "lead-time (%g s) must be at least one heartbeat (%g s), so that every hub "
                    "learns of a view before it takes effect",
                    cfg->lead_time_s, cfg->heartbeat_s);
    if (cfg->hold_timeout_s > 0 && cfg->hold_timeout_s < 2 * cfg->heartbeat_s)
        check_error(c, line_of(cfg, "hold-timeout"),
                    "hold-timeout (%g s) must be at least two heartbeats (%g s): an old owner's "
                    "watermark reaches the others a heartbeat or two after it is done (or 0: no "
                    "bound)",
                    cfg->hold_timeout_s, 2 * cfg->heartbeat_s);
    const char *placement = cfg->placement != NULL ? cfg->placement : "jump";
    const hs_place_info *info = hs_place_method_find(placement);
    hs_hash_id hid = info != NULL ? info->default_hash : HS_HASH_XXH3;
    if (info == NULL)
        check_error(c, line_of(cfg, "placement"), "unknown placement '%s' (expected one of: %s)",
                    placement, hs_place_method_names());
    else if (cfg->hash != NULL && hs_hash_find(cfg->hash, &hid) != HS_OK)
        check_error(c, line_of(cfg, "hash"), "unknown hash '%s' (expected one of: %s)", cfg->hash,
                    hs_hash_names());
}

int hs__config_check(hs__hub_config *cfg, FILE *errors)
{
    check_ctx c = {cfg, errors, 0};
    char err[512];
    hs_view *view;
    size_t self;
    const char *culprit;
    if (cfg->coordinator != NULL)
        check_dynamic(&c, cfg);
    else if (view_build(cfg, &view, &self, &culprit, err, sizeof err) == HS_OK)
        hs_view_release(view);
    else
        check_error(&c, line_of(cfg, culprit), "%s", err);
    if (cfg->connect.n + cfg->bind.n == 0)
        check_error(&c, 0, "no bus: give at least one connect or bind endpoint");
    if (cfg->nconsumers == 0)
        check_error(&c, 0, "no consumer: give at least one (e.g. --consumer file:out.jsonl)");
    check_consumers(&c, cfg);
    check_curve(&c, cfg);
    return c.count;
}

/* ---- printing ---- */

/* A value that a repeated key continues (members with ',', arg with ' '),
 * on as many lines as libinih needs: each line at most HS__INI_VALUE_MAX
 * bytes of value, cut only where the reader puts the separator back (not
 * next to a blank, which libinih would trim). */
#define HS__INI_VALUE_MAX 180
static void print_continued(const option_row *o, const char *key, const void *field, FILE *out)
{
    const char *value = *(char *const *)field;
    char sep = o->sep;
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
        fprintf(out, "%s = %.*s\n", key, (int)(cut - start), value + start);
        start = cut + 1;
    }
    fprintf(out, "%s = %s\n", key, value + start);
}

void hs__config_print(const hs__hub_config *cfg, FILE *out)
{
    char key[64];
    fprintf(out, "[hub]\n");
    for (size_t i = 0; i < NOPTIONS; i++) {
        const option_row *o = &options[i];
        if (!in_hub(o) || o->type->print == NULL)
            continue;
        print_key(o->name, key, sizeof key);
        o->type->print(o, key, (const char *)cfg + o->offset, out);
    }
    for (size_t c = 0; c < cfg->nconsumers; c++) {
        const hs__consumer_spec *s = &cfg->consumers[c];
        fprintf(out, "\n[consumer %s]\n", s->name != NULL ? s->name : "?");
        for (size_t i = 0; i < NOPTIONS; i++) {
            const option_row *o = &options[i];
            if (!in_section(o))
                continue;
            print_key(o->spec_name, key, sizeof key);
            o->type->print(o, key, (const char *)s + o->spec_offset, out);
        }
    }
}

/* ---- the command line ---- */

size_t hs__config_long_options(struct option *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < NOPTIONS && n < cap; i++)
        if (in_hub(&options[i]))
            out[n++] = (struct option){options[i].name, required_argument, NULL, 0};
    return n;
}

void hs__config_usage(FILE *out)
{
    const char *group = NULL;
    for (size_t i = 0; i < NOPTIONS; i++) {
        const option_row *o = &options[i];
        if (!in_hub(o) || o->help == NULL)
            continue;
        if (group == NULL || strcmp(group, o->group) != 0)
            fprintf(out, "%s:\n", group = o->group);
        char left[64], help[1024];
        snprintf(left, sizeof left, "--%s %s", o->name, o->arg);
        if (o->choices != NULL)
            snprintf(help, sizeof help, o->help, o->choices());
        else
            snprintf(help, sizeof help, "%s", o->help);
        const char *line = help;
        for (bool first = true;; first = false) {
            size_t len = strcspn(line, "\n");
            fprintf(out, "  %-22s  %.*s\n", first ? left : "", (int)len, line);
            if (line[len] == '\0')
                break;
            line += len + 1;
        }
    }
}

void hs__config_keys(FILE *out)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        const option_row *o = &options[i];
        char help[1024] = "";
        if (o->help != NULL && o->choices != NULL)
            snprintf(help, sizeof help, o->help, o->choices());
        else if (o->help != NULL)
            snprintf(help, sizeof help, "%s", o->help);
        for (char *p = help; *p != '\0'; p++)
            if (*p == '\n' || *p == '\t')
                *p = ' ';
        char hub_key[64] = "-", section_key[64] = "-";
        if (in_hub(o))
            print_key(o->name, hub_key, sizeof hub_key);
        if (in_section(o))
            print_key(o->spec_name, section_key, sizeof section_key);
        fprintf(out, "%s\t%s\t%s\t%s\t%s\t%s\n", o->name, hub_key, section_key,
                o->group != NULL ? o->group : "-", o->arg != NULL ? o->arg : "-",
                help[0] != '\0' ? help : "-");
    }
}
