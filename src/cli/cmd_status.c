/* cmd_status.c - `hashspace status`: fetch a hub's /status (JSON) over HTTP
 * and show it as a table a person reads at a glance: the view, the message
 * counters, and per consumer its backlog, throughput and latency; or, with
 * --json, the hub's /status as it is, one line per hub.
 *
 * The GET is cli_http.c's (libcurl); the body is read with jansson. What is shown comes
 * from the counter maps (hub.h, consumer.h): a row the hub gains shows here
 * without a change to this file. */
#include "cli_http.h"
#include "cli_util.h"
#include "commands.h"

#include "clock.h"
#include "hub.h"

#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STATUS_DEFAULT_ADDR "127.0.0.1:9941"
#define STATUS_MAX_HUBS 64
#define STATUS_MAX_BODY (64u << 20)
#define STATUS_MAX_COLUMNS 16

static void status_usage(FILE *out)
{
    fprintf(out,
            "usage: hashspace status [--watch S] [--timeout S] [--json]\n"
            "                        [--auth bearer:FILE|basic:FILE] [ADDR...]\n\n"
            "Fetch the status of one or more hubs (HTTP GET http://ADDR/status) and print\n"
            "for each: its name, the view (epoch, members); with a coordinator, the\n"
            "membership: a pending view and when it takes effect, messages held for a\n"
            "handover, fencing, crashes seen, replayed and possible duplicates (or\n"
            "\"settled\"); the messages received, claimed, skipped, malformed and\n"
            "dead-lettered (and any other count that is not 0), the\n"
            "bus's losses, and one row per consumer: backlog, age of the oldest queued\n"
            "message, processed ok and failed, processing rate (with --watch, from two\n"
            "samples), p50/p99 processing time from the duration histogram, drops and\n"
            "restarts; under it, what a consumer left or possibly lost.\n\n"
            "  ADDR         HOST:PORT, or a URL http://HOST:PORT[/PATH] (default %s);\n"
            "               a hub serves its status at its --metrics HOST:PORT, or on a\n"
            "               free port it logs at start (\"metrics on http://...\")\n"
            "  --watch S    refresh every S seconds until interrupted\n"
            "  --timeout S  give up on a hub after S seconds (default 2)\n"
            "  --json       print each hub's /status as it is, one line per hub\n"
            "  --auth A     the credentials of hubs run with --metrics-auth: bearer:FILE\n"
            "               sends FILE's first line as a bearer token, basic:FILE its\n"
            "               USER:PASSWORD by HTTP basic authentication (FILE readable by\n"
            "               its owner only, as for the hub)\n"
            "  -h, --help   this text\n\n"
            "Exit status: 0 when every hub answered, 1 when one could not be read, 2 on bad\n"
            "usage.\n\n"
            "Example:\n"
            "  hashspace status --watch 1 127.0.0.1:9941 127.0.0.1:9942\n",
            STATUS_DEFAULT_ADDR);
}

/* --auth: what every request carries. */
static hs_cli_auth status_auth;

/* ADDR as hs_cli_target_parse reads it; the path /status when it has none. */
static int parse_target(const char *text, hs_cli_target *t)
{
    char err[700];
    if (hs_cli_target_parse(text, t, err, sizeof err) != 0) {
        hs_cli_error("%s", err);
        return -1;
    }
    if (t->path[0] == '\0')
        snprintf(t->path, sizeof t->path, "/status");
    return 0;
}

/* --- reading /status --- */

static double number(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* A row's value in o: a number, or the sum of an object of numbers (the
 * malformed reasons); NAN when absent. */
static double row_value(const json_t *o, const hs__stat *row)
{
    const json_t *v = json_object_get(o, row->key);
    if (!json_is_object(v))
        return number(o, row->key);
    double sum = 0;
    const char *k;
    const json_t *x;
    json_object_foreach((json_t *)v, k, x) sum += json_number_value(x);
    return sum;
}

/* Values of every row of a map, as hs__stats_format takes them (a row the
 * hub does not send counts 0). */
static void row_values(const json_t *o, const hs__stat *rows, size_t n, uint64_t *out)
{
    for (size_t i = 0; i < n; i++) {
        double v = row_value(o, &rows[i]);
        out[i] = isnan(v) || v < 0 ? 0 : (uint64_t)v;
    }
}

/* The q-quantile of a histogram {bounds, counts} (counts per bucket, +Inf
 * last), interpolated linearly inside the bucket that holds it (as
 * Prometheus's histogram_quantile does). NAN when there is no observation;
 * *count gets the observations. */
static double histogram_quantile(const json_t *h, double q, double *count)
{
    const json_t *bounds = json_object_get(h, "bounds"), *counts = json_object_get(h, "counts");
    size_t n = json_array_size(counts);
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += json_number_value(json_array_get(counts, i));
    if (count != NULL)
        *count = n > 0 ? total : NAN;
    if (!(total > 0))
        return NAN;
    double rank = q * total, prev_le = 0, cumulative = 0;
    for (size_t i = 0; i < n; i++) {
        double in_bucket = json_number_value(json_array_get(counts, i));
        const json_t *le = json_array_get(bounds, i);
        if (le == NULL)
            return prev_le; /* beyond the last finite bound: the best we know */
        double bound = json_number_value(le);
        if (cumulative + in_bucket >= rank && in_bucket > 0)
            return prev_le + (bound - prev_le) * (rank - cumulative) / in_bucket;
        if (cumulative + in_bucket >= rank)
            return bound;
        cumulative += in_bucket;
        prev_le = bound;
    }
    return prev_le;
}

/* --- the table --- */

static void fmt_count(char *out, size_t len, double v)
{
    if (isnan(v))
        snprintf(out, len, "-");
    else
        snprintf(out, len, "%.0f", v);
}

static void fmt_seconds(char *out, size_t len, double v)
{
    if (isnan(v))
        snprintf(out, len, "-");
    else if (v == 0)
        snprintf(out, len, "0");
    else if (v < 1e-3)
        snprintf(out, len, "%.0fus", v * 1e6);
    else if (v < 1)
        snprintf(out, len, "%.2fms", v * 1e3);
    else if (v < 120)
        snprintf(out, len, "%.2fs", v);
    else
        snprintf(out, len, "%.0fm%02.0fs", floor(v / 60), fmod(v, 60));
}

typedef struct hub_state {
    hs_cli_target t;
    json_t *now, *before;
    double t_now, t_before;
} hub_state;

/* The consumer named name in a /status, or NULL. */
static const json_t *consumer_in(const json_t *status, const char *name)
{
    const json_t *consumers = json_object_get(status, "consumers");
    for (size_t i = 0; i < json_array_size(consumers); i++) {
        const json_t *c = json_array_get(consumers, i);
        const char *n = json_string_value(json_object_get(c, "name"));
        if (n != NULL && strcmp(n, name) == 0)
            return c;
    }
    return NULL;
}

/* One table: a header and a cell per consumer and column. */
typedef struct table {
    char header[STATUS_MAX_COLUMNS][32];
    size_t ncolumns;
    char (*cell)[STATUS_MAX_COLUMNS][32]; /* [consumer][column] */
} table;

/* The columns of a histogram row: processing rate (from its count, over
 * two samples), p50 and p99. */
static void histogram_cells(const hub_state *h, const json_t *c, const hs__stat *row,
                            char (*cell)[32])
{
    double count, before = NAN;
    const json_t *hist = json_object_get(c, row->key);
    fmt_seconds(cell[1], sizeof cell[1], histogram_quantile(hist, 0.50, &count));
    fmt_seconds(cell[2], sizeof cell[2], histogram_quantile(hist, 0.99, NULL));
    const json_t *was = h->before != NULL
                            ? consumer_in(h->before, json_string_value(json_object_get(c, "name")))
                            : NULL;
    if (was != NULL)
        histogram_quantile(json_object_get(was, row->key), 0.5, &before);
    double dt = h->t_now - h->t_before;
    snprintf(cell[0], sizeof cell[0], "-");
    if (!isnan(before) && !isnan(count) && count >= before && dt > 0)
        snprintf(cell[0], sizeof cell[0], "%.0f", (count - before) / dt);
}

/* Fill t from the consumers of h's latest /status. */
static void table_fill(const hub_state *h, const json_t *consumers, table *t)
{
    t->ncolumns = 0;
    for (size_t i = 0; i < HS__CONSUMER_STATS; i++) {
        const hs__stat *row = &hs__consumer_stats[i];
        if (row->column == NULL)
            continue;
        /* A histogram's column holds three headers: "rate/s p50 p99". */
        const char *p = row->column;
        size_t first = t->ncolumns;
        while (*p != '\0' && t->ncolumns < STATUS_MAX_COLUMNS) {
            size_t n = strcspn(p, " ");
            snprintf(t->header[t->ncolumns++], sizeof t->header[0], "%.*s", (int)n, p);
            p += n + (p[n] == ' ');
        }
        for (size_t k = 0; k < json_array_size(consumers); k++) {
            const json_t *c = json_array_get(consumers, k);
            char(*cell)[32] = &t->cell[k][first];
            if (row->source == HS__STAT_HISTOGRAM && t->ncolumns - first == 3)
                histogram_cells(h, c, row, cell);
            else if (row->source == HS__STAT_OLDEST)
                fmt_seconds(cell[0], sizeof cell[0], number(c, row->key));
            else
                fmt_count(cell[0], sizeof cell[0], row_value(c, row));
        }
    }
}

static void print_consumers(const hub_state *h)
{
    const json_t *consumers = json_object_get(h->now, "consumers");
    size_t n = json_array_size(consumers);
    if (n == 0) {
        printf("  no consumers\n");
        return;
    }
    table t = {.cell = calloc(n, sizeof *t.cell)};
    if (t.cell == NULL) {
        printf("  (out of memory)\n");
        return;
    }
    table_fill(h, consumers, &t);
    int name_w = 8, w[STATUS_MAX_COLUMNS];
    for (size_t k = 0; k < n; k++) {
        const char *name = json_string_value(json_object_get(json_array_get(consumers, k), "name"));
        if (name != NULL && (int)strlen(name) > name_w)
            name_w = (int)strlen(name);
    }
    for (size_t j = 0; j < t.ncolumns; j++) {
        w[j] = (int)strlen(t.header[j]) > 6 ? (int)strlen(t.header[j]) : 6;
        for (size_t k = 0; k < n; k++)
            if ((int)strlen(t.cell[k][j]) > w[j])
                w[j] = (int)strlen(t.cell[k][j]);
    }
    printf("  %-*s", name_w, "consumer");
    for (size_t j = 0; j < t.ncolumns; j++)
        printf(" %*s", w[j], t.header[j]);
    putchar('\n');
    for (size_t k = 0; k < n; k++) {
        const json_t *c = json_array_get(consumers, k);
        const char *name = json_string_value(json_object_get(c, "name"));
        printf("  %-*s", name_w, name != NULL ? name : "?");
        for (size_t j = 0; j < t.ncolumns; j++)
            printf(" %*s", w[j], t.cell[k][j]);
        putchar('\n');
    }
    /* Under the table: what a consumer counts outside its columns, when not 0. */
    for (size_t k = 0; k < n; k++) {
        const json_t *c = json_array_get(consumers, k);
        uint64_t values[HS__CONSUMER_STATS];
        char notes[512];
        row_values(c, hs__consumer_stats, HS__CONSUMER_STATS, values);
        if (hs__stats_format(notes, sizeof notes, hs__consumer_stats, HS__CONSUMER_STATS, values,
                             ", ", true) > 0)
            printf("    %s: %s\n", json_string_value(json_object_get(c, "name")), notes);
    }
    free(t.cell);
}

/* The reasons behind a non-zero malformed count. */
static void print_reasons(const json_t *status)
{
    for (size_t i = 0; i < HS__HUB_STATS; i++) {
        const json_t *by = json_object_get(status, hs__hub_stats[i].key);
        if (hs__hub_stats[i].source != HS__STAT_REASONS || !json_is_object(by))
            continue;
        bool first = true;
        const char *reason;
        const json_t *v;
        json_object_foreach((json_t *)by, reason, v)
        {
            if (!(json_number_value(v) > 0))
                continue;
            printf("%s%s %.0f", first ? "  malformed by reason: " : ", ", reason,
                   json_number_value(v));
            first = false;
        }
        if (!first)
            putchar('\n');
    }
}

/* What the bus lost: summed over publishers, and the ones that lost. */
static void print_bus(const json_t *status)
{
    const json_t *bus = json_object_get(status, "bus");
    size_t n = json_array_size(bus);
    if (n == 0)
        return;
    double missing = 0, late = 0, duplicates = 0, restarts = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_array_get(bus, i);
        missing += number(p, "missing");
        late += number(p, "late");
        duplicates += number(p, "duplicates");
        restarts += number(p, "restarts");
    }
    printf("  bus: missing %.0f (late %.0f)  duplicates %.0f  publisher restarts %.0f\n", missing,
           late, duplicates, restarts);
    for (size_t i = 0; i < n; i++) {
        const json_t *p = json_array_get(bus, i);
        const char *who = json_string_value(json_object_get(p, "publisher"));
        if (number(p, "missing") > 0)
            printf("    publisher %s: missing %.0f\n", who != NULL ? who : "?",
                   number(p, "missing"));
    }
}

/* prefix, then the items of text (separated by two spaces), in lines under
 * 80 columns: an item that would reach column 80 starts the next line, under
 * the first. */
static void print_wrapped(const char *prefix, const char *text)
{
    size_t indent = strlen(prefix), col = indent;
    fputs(prefix, stdout);
    while (*text != '\0') {
        const char *sep = strstr(text, "  ");
        size_t n = sep != NULL ? (size_t)(sep - text) : strlen(text);
        if (col > indent && col + 2 + n > 79) {
            printf("\n%*s", (int)indent, "");
            col = indent;
        } else if (col > indent) {
            fputs("  ", stdout);
            col += 2;
        }
        fwrite(text, 1, n, stdout);
        col += n;
        text += n + (sep != NULL ? 2 : 0);
    }
    putchar('\n');
}

/* Append an item to a line of items separated by two spaces. */
static void add_item(char *line, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_item(char *line, size_t len, const char *fmt, ...)
{
    size_t used = strlen(line);
    if (used > 0 && used + 2 < len) {
        memcpy(line + used, "  ", 3);
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + used, len - used, fmt, ap);
    va_end(ap);
}

/* The hub counters a handover or a crash moves: shown on the membership line
 * when not 0, and left out of the counters line. */
static const char *const membership_keys[] = {
    "fenced",      "fenced_messages", "crashes",
    "replayed",    "taken_over",      "possible_duplicates",
    "ring_misses", "held_total",      "hold_timeouts",
};

/* A dynamic hub's membership (its /status names a coordinator): the pending
 * view and when it takes effect, the messages held for a handover, fencing,
 * and what crashes cost; "settled" when none of it is going on. Zeroes the
 * values it showed (they are not repeated on the counters line). */
static void print_membership(const json_t *s, uint64_t *values)
{
    if (json_string_value(json_object_get(s, "coordinator")) == NULL)
        return;
    char line[1024] = "";
    double pending = number(s, "pending_views");
    if (pending > 0) {
        double in = number(s, "pending_effective_seconds") - (double)hs__realtime_ns() / 1e9;
        char when[64];
        if (isnan(in))
            snprintf(when, sizeof when, "not yet in force");
        else if (in > 0)
            snprintf(when, sizeof when, "in force in %.1f s", in);
        else
            snprintf(when, sizeof when, "coming into force");
        if (pending == 1)
            add_item(line, sizeof line, "view %.0f pending, %s", number(s, "newest_epoch"), when);
        else
            add_item(line, sizeof line, "%.0f views pending, the next %s", pending, when);
    }
    double held = number(s, "held");
    if (held > 0)
        add_item(line, sizeof line, "holding %.0f message%s of moved keys", held,
                 held == 1 ? "" : "s");
    for (size_t i = 0; i < HS__HUB_STATS; i++) {
        const hs__stat *row = &hs__hub_stats[i];
        for (size_t k = 0; k < sizeof membership_keys / sizeof *membership_keys; k++) {
            if (strcmp(row->key, membership_keys[k]) != 0)
                continue;
            if (values[i] > 0 && strcmp(row->key, "fenced") == 0)
                add_item(line, sizeof line, "FENCED (claims nothing)");
            else if (values[i] > 0)
                add_item(line, sizeof line, "%s %llu", row->label, (unsigned long long)values[i]);
            values[i] = 0;
        }
    }
    if (line[0] == '\0')
        add_item(line, sizeof line, "settled");
    const char *cluster = json_string_value(json_object_get(s, "cluster"));
    char prefix[128];
    snprintf(prefix, sizeof prefix, "  membership (%.60s): ", cluster != NULL ? cluster : "?");
    print_wrapped(prefix, line);
}

static void print_hub(const hub_state *h)
{
    const json_t *s = h->now;
    const char *self = json_string_value(json_object_get(s, "self"));
    char epoch[32], members[32], line[1024];
    fmt_count(epoch, sizeof epoch, number(s, "epoch"));
    fmt_count(members, sizeof members, number(s, "view_members"));
    printf("hub %s (%s): view epoch %s, %s members\n", self != NULL ? self : "?", h->t.label, epoch,
           members);
    uint64_t values[HS__HUB_STATS];
    row_values(s, hs__hub_stats, HS__HUB_STATS, values);
    print_membership(s, values);
    hs__stats_format(line, sizeof line, hs__hub_stats, HS__HUB_STATS, values, "  ", false);
    print_wrapped("  ", line);
    print_reasons(s);
    print_bus(s);
    print_consumers(h);
}

/* Fetch one hub into h->now (keeping the previous sample for rates); with
 * raw, print the body as it came, on one line. */
static int refresh(hub_state *h, double timeout_s, bool raw)
{
    char err[600];
    size_t len;
    char *text = hs_cli_http_get(&h->t, h->t.path, &status_auth, timeout_s, STATUS_MAX_BODY, &len,
                                 err, sizeof err);
    double t = hs__monotonic_s();
    json_error_t jerr;
    json_t *status = text != NULL ? json_loads(text, 0, &jerr) : NULL;
    if (text != NULL && !json_is_object(status))
        snprintf(err, sizeof err, "GET %s: not the JSON of a hub's /status (%s)", h->t.path,
                 status == NULL ? jerr.text : "not an object");
    if (!json_is_object(status)) {
        hs_cli_error("cannot read the status of %s: %s%s", h->t.label, err,
                     strstr(err, "refused") ? " (is a hub running with this --metrics address?)"
                                            : "");
        json_decref(status);
        free(text);
        return -1;
    }
    if (raw)
        printf("%.*s\n", (int)strcspn(text, "\n"), text);
    free(text);
    json_decref(h->before);
    h->before = h->now;
    h->t_before = h->t_now;
    h->now = status;
    h->t_now = t;
    return 0;
}

static volatile sig_atomic_t status_stop;

static void status_on_signal(int sig)
{
    (void)sig;
    status_stop = 1;
}

/* Every round until interrupted (once without --watch). */
static int status_loop(hub_state *hubs, size_t nhubs, double watch, double timeout, bool raw)
{
    struct sigaction sa = {.sa_handler = status_on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    bool tty = isatty(STDOUT_FILENO);
    int status = 0;
    while (!status_stop) {
        status = 0;
        double t0 = hs__monotonic_s();
        if (watch > 0 && tty && !raw)
            fputs("\033[H\033[J", stdout); /* home, clear: a steady screen */
        for (size_t i = 0; i < nhubs; i++) {
            fflush(stdout);
            if (refresh(&hubs[i], timeout, raw) != 0) {
                status = 1;
                continue;
            }
            if (raw)
                continue;
            if (i > 0)
                putchar('\n');
            print_hub(&hubs[i]);
        }
        if (watch == 0)
            break;
        if (!tty && !raw)
            putchar('\n');
        fflush(stdout);
        double next = t0 + watch;
        while (!status_stop && hs__monotonic_s() < next)
            usleep(20000);
    }
    return watch > 0 && status_stop ? 0 : status;
}

int hs_cmd_status(int argc, char **argv)
{
    static const struct option options[] = {
        {"watch", required_argument, NULL, 'w'}, {"timeout", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},        {"auth", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    double watch = 0, timeout = 2;
    char auth_err[600];
    bool raw = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'w':
        case 't': {
            char *end;
            double v = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || !(v > 0) || !isfinite(v)) {
                hs_cli_error("--%s: '%s' is not a positive number of seconds",
                             opt == 'w' ? "watch" : "timeout", optarg);
                return 2;
            }
            *(opt == 'w' ? &watch : &timeout) = v;
            break;
        }
        case 'j':
            raw = true;
            break;
        case 'a':
            if (hs_cli_auth_parse(optarg, &status_auth, auth_err, sizeof auth_err) != 0) {
                hs_cli_error("--auth: %s", auth_err);
                return 2;
            }
            break;
        case 'h':
            status_usage(stdout);
            return 0;
        default:
            status_usage(stderr);
            return 2;
        }
    }
    size_t nhubs = argc > optind ? (size_t)(argc - optind) : 1;
    if (nhubs > STATUS_MAX_HUBS) {
        hs_cli_error("at most %d hubs at once", STATUS_MAX_HUBS);
        return 2;
    }
    hub_state *hubs = calloc(nhubs, sizeof *hubs);
    if (hubs == NULL || hs_cli_http_init() != 0) {
        hs_cli_error("out of memory");
        free(hubs);
        return 1;
    }
    int status = 0;
    for (size_t i = 0; i < nhubs && status == 0; i++)
        if (parse_target(argc > optind ? argv[optind + (int)i] : STATUS_DEFAULT_ADDR, &hubs[i].t) !=
            0)
            status = 2;
    if (status == 0)
        status = status_loop(hubs, nhubs, watch, timeout, raw);
    for (size_t i = 0; i < nhubs; i++) {
        json_decref(hubs[i].now);
        json_decref(hubs[i].before);
    }
    free(hubs);
    hs_cli_auth_clear(&status_auth);
    if (fflush(stdout) != 0)
        status = 1;
    return status;
}
