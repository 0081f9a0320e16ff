/* stats.c - the counter maps compiled into tables, and what is written from
 * them: the Prometheus text of /metrics, the JSON of /status and the words
 * of the exit summary. A new row in HS__HUB_COUNTER_MAP or
 * HS__CONSUMER_COUNTER_MAP shows in all of them without a change here.
 *
 * Everything here only reads: the atomics with relaxed loads, the queues
 * through hs__consumer_backlog (each queue's mutex, briefly). The metrics
 * thread calls the renderers while the hub runs.
 */
#include "hub.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the tables --- */

#define HUB_ROW_ATOMIC(field) .source = HS__STAT_ATOMIC, .offset = offsetof(hs__hub, field)
#define HUB_ROW_REASONS(field) .source = HS__STAT_REASONS, .offset = offsetof(hs__hub, field)
#define HUB_ROW_DEADLETTER(field) .source = HS__STAT_DEADLETTER, .read = hs__deadletter_##field
#define HUB_ROW_SECONDS(field) .source = HS__STAT_SECONDS, .offset = offsetof(hs__hub, field)
#define HUB_ROW_CLAIM(field)                                                                       \
    .source = HS__STAT_ATOMIC, .offset = offsetof(hs__hub, claim) + offsetof(hs__claim_stats, field)
#define HUB_ROW_CLAIM_SECONDS(field)                                                               \
    .source = HS__STAT_SECONDS,                                                                    \
    .offset = offsetof(hs__hub, claim) + offsetof(hs__claim_stats, field)
#define HUB_ROW_RING(field)                                                                        \
    .source = HS__STAT_ATOMIC, .offset = offsetof(hs__hub, ring) + offsetof(hs__ring, gauge_##field)
#define HUB_ROW(field, source, type_, metric_, key_, label_, shown_, help_)                        \
    {.metric = metric_,                                                                            \
     .type = type_,                                                                                \
     .key = key_,                                                                                  \
     .label = label_,                                                                              \
     .shown = HS__SHOWN_##shown_,                                                                  \
     .help = help_,                                                                                \
     HUB_ROW_##source(field)},

const hs__stat hs__hub_stats[HS__HUB_STATS] = {HS__HUB_COUNTER_MAP(HUB_ROW)};

#define CONSUMER_ROW_INGRESS(field)                                                                \
    .source = HS__STAT_ATOMIC, .offset = offsetof(hs__consumer, field)
#define CONSUMER_ROW_WORKER(field) CONSUMER_ROW_INGRESS(field)
#define CONSUMER_ROW_BACKLOG(field) .source = HS__STAT_BACKLOG
#define CONSUMER_ROW_OLDEST(field) .source = HS__STAT_OLDEST
#define CONSUMER_ROW_HISTOGRAM(field)                                                              \
    .source = HS__STAT_HISTOGRAM, .offset = offsetof(hs__consumer, field##_buckets),               \
    .sum_offset = offsetof(hs__consumer, field##_sum_ns)
#define CONSUMER_ROW(field, source, type_, metric_, key_, label_, shown_, column_, help_)          \
    {.metric = metric_,                                                                            \
     .type = type_,                                                                                \
     .key = key_,                                                                                  \
     .label = label_,                                                                              \
     .shown = HS__SHOWN_##shown_,                                                                  \
     .column = column_,                                                                            \
     .help = help_,                                                                                \
     CONSUMER_ROW_##source(field)},

const hs__stat hs__consumer_stats[HS__CONSUMER_STATS] = {HS__CONSUMER_COUNTER_MAP(CONSUMER_ROW)};

/* --- reading --- */

static uint64_t load(const atomic_uint_fast64_t *a)
{
    return atomic_load_explicit((atomic_uint_fast64_t *)a, memory_order_relaxed);
}

static const atomic_uint_fast64_t *at(const void *base, size_t offset)
{
    return (const atomic_uint_fast64_t *)((const char *)base + offset);
}

uint64_t hs__hub_stat_value(const hs__hub *hub, const hs__stat *row)
{
    uint64_t sum = 0;
    switch (row->source) {
    case HS__STAT_ATOMIC:
    case HS__STAT_SECONDS:
        return load(at(hub, row->offset));
    case HS__STAT_REASONS:
        for (int r = 0; r < HS__MALFORMED__COUNT; r++)
            sum += load(at(hub, row->offset) + r);
        return sum;
    case HS__STAT_DEADLETTER:
        return row->read(hub->deadletter);
    default:
        return 0;
    }
}

void hs__consumer_sample_read(hs__consumer *c, uint64_t now_ns, hs__consumer_sample *out)
{
    size_t backlog;
    uint64_t oldest;
    hs__consumer_backlog(c, &backlog, &oldest);
    for (size_t i = 0; i < HS__CONSUMER_STATS; i++) {
        const hs__stat *row = &hs__consumer_stats[i];
        uint64_t v = 0;
        switch (row->source) {
        case HS__STAT_ATOMIC:
            v = load(at(c, row->offset));
            break;
        case HS__STAT_BACKLOG:
            v = backlog;
            break;
        case HS__STAT_OLDEST:
            v = oldest != 0 && now_ns > oldest ? now_ns - oldest : 0;
            break;
        case HS__STAT_HISTOGRAM:
            for (int b = 0; b <= HS__DURATION_BUCKETS; b++)
                v += out->buckets[b] = load(at(c, row->offset) + b);
            out->sum_ns = load(at(c, row->sum_offset));
            break;
        default:
            break;
        }
        out->value[i] = v;
    }
}

size_t hs__stats_format(char *out, size_t len, const hs__stat *rows, size_t n,
                        const uint64_t *values, const char *sep, bool notes)
{
    size_t used = 0;
    if (len == 0)
        return 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (rows[i].shown == HS__SHOWN_NEVER ||
            (rows[i].shown == HS__SHOWN_NONZERO && values[i] == 0))
            continue;
        if (notes && (rows[i].column != NULL || values[i] == 0))
            continue;
        int w = snprintf(out + used, len - used, "%s%s %llu", used > 0 ? sep : "", rows[i].label,
                         (unsigned long long)values[i]);
        if (w < 0 || (size_t)w >= len - used) {
            out[used] = '\0'; /* whole rows only */
            return used;
        }
        used += (size_t)w;
    }
    return used;
}

/* --- /metrics --- */

/* A label value with \, " and newline escaped. */
static void put_label(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\' || *s == '"')
            fputc('\\', f), fputc(*s, f);
        else if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The length of a row's metric name without its {labels}. */
static int base_len(const hs__stat *row)
{
    return (int)strcspn(row->metric, "{");
}

/* The HELP and TYPE lines, once for the rows that share a name. */
static void family(FILE *f, const hs__stat *rows, size_t i)
{
    int n = base_len(&rows[i]);
    if (i > 0 && base_len(&rows[i - 1]) == n && strncmp(rows[i - 1].metric, rows[i].metric, n) == 0)
        return;
    fprintf(f, "# HELP %.*s %s\n# TYPE %.*s %s\n", n, rows[i].metric, rows[i].help, n,
            rows[i].metric, rows[i].type);
}

static void render_hub(FILE *f, const hs__hub *hub)
{
    for (size_t i = 0; i < HS__HUB_STATS; i++) {
        const hs__stat *row = &hs__hub_stats[i];
        family(f, hs__hub_stats, i);
        if (row->source == HS__STAT_SECONDS) {
            fprintf(f, "%s %.9f\n", row->metric, (double)hs__hub_stat_value(hub, row) / 1e9);
            continue;
        }
        if (row->source != HS__STAT_REASONS) {
            fprintf(f, "%s %llu\n", row->metric, (unsigned long long)hs__hub_stat_value(hub, row));
            continue;
        }
        for (int r = 0; r < HS__MALFORMED__COUNT; r++)
            fprintf(f, "%s{reason=\"%s\"} %llu\n", row->metric, hs__malformed_labels[r],
                    (unsigned long long)load(at(hub, row->offset) + r));
    }
}

/* One series of a consumer: NAME{consumer="C"[,the row's labels][,more]}. */
static void series(FILE *f, const hs__stat *row, const char *suffix, const char *consumer,
                   const char *more)
{
    int n = base_len(row);
    fprintf(f, "%.*s%s{consumer=\"", n, row->metric, suffix);
    put_label(f, consumer);
    fputc('"', f);
    const char *labels = row->metric + n;
    if (*labels == '{')
        fprintf(f, ",%.*s", (int)strlen(labels) - 2, labels + 1);
    fprintf(f, "%s} ", more);
}

static void render_histogram(FILE *f, const hs__stat *row, const char *name,
                             const hs__consumer_sample *s)
{
    uint64_t cumulative = 0;
    char le[48];
    for (int b = 0; b <= HS__DURATION_BUCKETS; b++) {
        cumulative += s->buckets[b];
        if (b < HS__DURATION_BUCKETS)
            snprintf(le, sizeof le, ",le=\"%g\"", hs__duration_bounds[b]);
        else
            snprintf(le, sizeof le, ",le=\"+Inf\"");
        series(f, row, "_bucket", name, le);
        fprintf(f, "%llu\n", (unsigned long long)cumulative);
    }
    series(f, row, "_sum", name, "");
    fprintf(f, "%.9f\n", (double)s->sum_ns / 1e9);
    series(f, row, "_count", name, "");
    fprintf(f, "%llu\n", (unsigned long long)cumulative);
}

static void render_consumers(FILE *f, const hs__hub *hub, const hs__consumer_sample *samples)
{
    for (size_t i = 0; i < HS__CONSUMER_STATS; i++) {
        const hs__stat *row = &hs__consumer_stats[i];
        family(f, hs__consumer_stats, i);
        for (size_t k = 0; k < hub->nconsumers; k++) {
            const char *name = hub->consumers[k]->spec.name;
            if (row->source == HS__STAT_HISTOGRAM) {
                render_histogram(f, row, name, &samples[k]);
                continue;
            }
            series(f, row, "", name, "");
            if (row->source == HS__STAT_OLDEST)
                fprintf(f, "%.6f\n", (double)samples[k].value[i] / 1e9);
            else
                fprintf(f, "%llu\n", (unsigned long long)samples[k].value[i]);
        }
    }
}

/* Bus losses, per publisher (busseq.h). */
static void render_bus(FILE *f, hs__hub *hub)
{
    if (!hub->track_seq)
        return;
    hs__busseq *s = &hub->busseq;
    size_t n = hs__busseq_count(s);
#define HS__BUS_ROW(field, suffix, help)                                                           \
    head(f, "hashspace_bus_" suffix "_total", "counter", help);                                    \
    for (size_t i = 0; i < n; i++) {                                                               \
        fputs("hashspace_bus_" suffix "_total{publisher=\"", f);                                   \
        put_label(f, s->pubs[i].name);                                                             \
        fprintf(f, "\"} %llu\n", (unsigned long long)load(&s->pubs[i].field));                     \
    }
    HS__BUSSEQ_COUNTER_MAP(HS__BUS_ROW)
#undef HS__BUS_ROW
    head(f, "hashspace_bus_unsequenced_total", "counter",
         "Messages without a sequence number (not tracked for losses).");
    fprintf(f, "hashspace_bus_unsequenced_total %llu\n", (unsigned long long)load(&s->unsequenced));
    head(f, "hashspace_bus_untracked_total", "counter",
         "Messages of publishers beyond the tracker's limit (not tracked for losses).");
    fprintf(f, "hashspace_bus_untracked_total %llu\n", (unsigned long long)load(&s->untracked));
}

/* Every consumer's sample (calloc'd, one extra so that none is size 0). */
/* CURVE handshakes refused, by reason (curve.h); only with CURVE on. */
static void render_auth(FILE *f, hs__hub *hub)
{
    if (hub->curve == NULL)
        return;
    head(f, "hashspace_bus_auth_failures_total", "counter",
         "Bus connections refused by CURVE: a key not in the allowlist, a peer without CURVE, "
         "another failed handshake.");
    for (int r = 0; r < HS__AUTH_FAILURE__COUNT; r++)
        fprintf(f, "hashspace_bus_auth_failures_total{reason=\"%s\"} %llu\n",
                hs__auth_failure_labels[r],
                (unsigned long long)hs__curve_auth_failures(hub->curve, (hs__auth_failure)r));
}

static json_t *status_auth(hs__hub *hub)
{
    json_t *auth = json_object();
    for (int r = 0; auth != NULL && r < HS__AUTH_FAILURE__COUNT; r++)
        json_object_set_new(
            auth, hs__auth_failure_labels[r],
            json_integer((json_int_t)hs__curve_auth_failures(hub->curve, (hs__auth_failure)r)));
    return auth;
}

static hs__consumer_sample *samples_read(hs__hub *hub)
{
    hs__consumer_sample *samples = calloc(hub->nconsumers + 1, sizeof *samples);
    uint64_t now = hs__monotonic_ns();
    for (size_t k = 0; samples != NULL && k < hub->nconsumers; k++)
        hs__consumer_sample_read(hub->consumers[k], now, &samples[k]);
    return samples;
}

char *hs__metrics_render(hs__hub *hub, size_t *len)
{
    hs__consumer_sample *samples = samples_read(hub);
    char *buf = NULL;
    FILE *f = samples != NULL ? open_memstream(&buf, len) : NULL;
    if (f == NULL) {
        free(samples);
        return NULL;
    }
    render_hub(f, hub);
    render_consumers(f, hub, samples);
    render_bus(f, hub);
    render_auth(f, hub);
    free(samples);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* --- /status --- */

static json_t *status_bus(hs__hub *hub)
{
    json_t *a = json_array();
    if (a == NULL || !hub->track_seq)
        return a;
    hs__busseq *s = &hub->busseq;
    size_t n = hs__busseq_count(s);
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_object();
        if (p == NULL)
            continue;
        json_object_set_new(p, "publisher", json_string(s->pubs[i].name));
        json_object_set_new(p, "last", json_integer((json_int_t)load(&s->pubs[i].last)));
#define HS__BUS_FIELD(field, suffix, help)                                                         \
    json_object_set_new(p, suffix, json_integer((json_int_t)load(&s->pubs[i].field)));
        HS__BUSSEQ_COUNTER_MAP(HS__BUS_FIELD)
#undef HS__BUS_FIELD
        json_array_append_new(a, p);
    }
    return a;
}

static json_t *status_hub_row(const hs__hub *hub, const hs__stat *row)
{
    if (row->source == HS__STAT_SECONDS)
        return json_real((double)hs__hub_stat_value(hub, row) / 1e9);
    if (row->source != HS__STAT_REASONS)
        return json_integer((json_int_t)hs__hub_stat_value(hub, row));
    json_t *by_reason = json_object();
    for (int r = 0; r < HS__MALFORMED__COUNT && by_reason != NULL; r++)
        json_object_set_new(by_reason, hs__malformed_labels[r],
                            json_integer((json_int_t)load(at(hub, row->offset) + r)));
    return by_reason;
}

/* {"bounds": [upper bounds, s], "counts": [per bucket, +Inf last], "sum": s} */
static json_t *status_histogram(const hs__consumer_sample *s)
{
    json_t *bounds = json_array(), *counts = json_array();
    for (int b = 0; b <= HS__DURATION_BUCKETS; b++) {
        if (b < HS__DURATION_BUCKETS)
            json_array_append_new(bounds, json_real(hs__duration_bounds[b]));
        json_array_append_new(counts, json_integer((json_int_t)s->buckets[b]));
    }
    return json_pack("{s:o, s:o, s:f}", "bounds", bounds, "counts", counts, "sum",
                     (double)s->sum_ns / 1e9);
}

static json_t *status_consumer(const hs__consumer *c, const hs__consumer_sample *s, bool show_args)
{
    /* Command lines may hold secrets: shown only when asked for (status-args). */
    json_t *j = json_pack("{s:s, s:s, s:s, s:s*, s:i}", "name", c->spec.name, "glob", c->spec.glob,
                          "kind", c->spec.kind, "arg", show_args ? c->spec.arg : NULL, "workers",
                          (int)c->spec.workers);
    for (size_t i = 0; i < HS__CONSUMER_STATS && j != NULL; i++) {
        const hs__stat *row = &hs__consumer_stats[i];
        json_t *v;
        if (row->source == HS__STAT_OLDEST)
            v = json_real((double)s->value[i] / 1e9);
        else if (row->source == HS__STAT_HISTOGRAM)
            v = status_histogram(s);
        else
            v = json_integer((json_int_t)s->value[i]);
        json_object_set_new(j, row->key, v);
    }
    return j;
}

char *hs__status_render(hs__hub *hub, size_t *len)
{
    json_t *o = json_object();
    json_t *consumers = json_array();
    hs__consumer_sample *samples = samples_read(hub);
    if (o == NULL || consumers == NULL || samples == NULL) {
        json_decref(o);
        json_decref(consumers);
        free(samples);
        return NULL;
    }
    const hs__hub_config *cfg = hub->cfg;
    json_object_set_new(o, "self", json_string(cfg->self));
    json_object_set_new(o, "members", json_string(cfg->members));
    json_object_set_new(o, "coordinator", json_string(cfg->coordinator));
    json_object_set_new(o, "cluster", json_string(cfg->cluster));
    for (size_t i = 0; i < HS__HUB_STATS; i++)
        json_object_set_new(o, hs__hub_stats[i].key, status_hub_row(hub, &hs__hub_stats[i]));
    for (size_t k = 0; k < hub->nconsumers; k++)
        json_array_append_new(consumers,
                              status_consumer(hub->consumers[k], &samples[k], cfg->status_args));
    free(samples);
    json_object_set_new(o, "consumers", consumers);
    json_object_set_new(o, "bus", status_bus(hub));
    json_object_set_new(o, "curve", json_boolean(hub->curve != NULL));
    json_object_set_new(o, "bus_auth_failures", status_auth(hub));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text != NULL)
        *len = strlen(text);
    return text;
}
