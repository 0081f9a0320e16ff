/* metrics.c - Prometheus text exposition on /metrics, a JSON summary on
 * /status, a liveness check on /healthz and a readiness check on /readyz,
 * served by libmicrohttpd.
 *
 * DESIGN: libmicrohttpd runs its own polling thread, which calls answer()
 * and renders from the hub's atomics and from each queue's stats (taking
 * each queue's mutex briefly). It writes nothing that other threads read.
 * It holds at most METRICS_MAX_CONNECTIONS connections, at most
 * METRICS_MAX_PER_IP from one address, and closes one idle for
 * METRICS_IDLE_TIMEOUT_S: idle clients can neither take the file
 * descriptors the sinks need nor, from one address, lock out a scraper.
 */
#include "hub.h"

#include "log.h"

#include "hashspace/error.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define METRICS_MAX_CONNECTIONS 64u
#define METRICS_MAX_PER_IP 16u
#define METRICS_IDLE_TIMEOUT_S 10u

static uint64_t load(const atomic_uint_fast64_t *a)
{
    return atomic_load_explicit((atomic_uint_fast64_t *)a, memory_order_relaxed);
}

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

static void per_consumer(FILE *f, hs__hub *hub, const char *name, const char *suffix,
                         const atomic_uint_fast64_t *(*field)(const hs__consumer *))
{
    for (size_t i = 0; i < hub->nconsumers; i++) {
        fprintf(f, "%s{consumer=\"", name);
        put_label(f, hub->consumers[i]->spec.name);
        fprintf(f, "\"%s} %llu\n", suffix, (unsigned long long)load(field(hub->consumers[i])));
    }
}

static const atomic_uint_fast64_t *f_ok(const hs__consumer *c)
{
    return &c->ok;
}
static const atomic_uint_fast64_t *f_failed(const hs__consumer *c)
{
    return &c->failed;
}
static const atomic_uint_fast64_t *f_restarts(const hs__consumer *c)
{
    return &c->restarts;
}
static const atomic_uint_fast64_t *f_dropped(const hs__consumer *c)
{
    return &c->dropped;
}
static const atomic_uint_fast64_t *f_left(const hs__consumer *c)
{
    return &c->left;
}
static const atomic_uint_fast64_t *f_possibly_lost(const hs__consumer *c)
{
    return &c->possibly_lost;
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

char *hs__metrics_render(hs__hub *hub, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (f == NULL)
        return NULL;
    head(f, "hashspace_messages_received_total", "counter",
         "Messages received from the bus (a multi-frame message counts once).");
    fprintf(f, "hashspace_messages_received_total %llu\n",
            (unsigned long long)load(&hub->received));
    head(f, "hashspace_messages_claimed_total", "counter",
         "Messages this hub owns under the current view.");
    fprintf(f, "hashspace_messages_claimed_total %llu\n", (unsigned long long)load(&hub->claimed));
    head(f, "hashspace_messages_skipped_total", "counter", "Messages another member owns.");
    fprintf(f, "hashspace_messages_skipped_total %llu\n", (unsigned long long)load(&hub->skipped));
    head(f, "hashspace_messages_malformed_total", "counter",
         "Messages refused at ingress, by reason; each is dead-lettered.");
    for (int r = 0; r < HS__MALFORMED__COUNT; r++)
        fprintf(f, "hashspace_messages_malformed_total{reason=\"%s\"} %llu\n",
                hs__malformed_labels[r], (unsigned long long)load(&hub->malformed[r]));
    head(f, "hashspace_messages_dead_lettered_total", "counter",
         "Dead letters (malformed, or failed by a consumer) written whole to the dead-letter "
         "sink (with none: counted only).");
    fprintf(f, "hashspace_messages_dead_lettered_total %llu\n",
            (unsigned long long)hs__deadletter_count(hub->deadletter));
    head(f, "hashspace_dead_letter_failures_total", "counter",
         "Dead letters the dead-letter file could not take (cannot open, full disk); a copy "
         "went to stderr.");
    fprintf(f, "hashspace_dead_letter_failures_total %llu\n",
            (unsigned long long)hs__deadletter_failures(hub->deadletter));
    head(f, "hashspace_messages_key_fallback_total", "counter",
         "Messages whose key was not found, placed by the fallback key instead.");
    fprintf(f, "hashspace_messages_key_fallback_total %llu\n",
            (unsigned long long)load(&hub->key_fallbacks));
    head(f, "hashspace_messages_unmatched_total", "counter",
         "Claimed messages whose topic no consumer's glob matches.");
    fprintf(f, "hashspace_messages_unmatched_total %llu\n",
            (unsigned long long)load(&hub->unmatched));

    uint64_t now = hs__monotonic_ns();
    head(f, "hashspace_consumer_backlog", "gauge",
         "Messages queued for a consumer or being processed.");
    size_t *backlog = calloc(hub->nconsumers + 1, sizeof *backlog);
    uint64_t *oldest = calloc(hub->nconsumers + 1, sizeof *oldest);
    for (size_t i = 0; i < hub->nconsumers && backlog != NULL && oldest != NULL; i++)
        hs__consumer_backlog(hub->consumers[i], &backlog[i], &oldest[i]);
    for (size_t i = 0; i < hub->nconsumers; i++) {
        fputs("hashspace_consumer_backlog{consumer=\"", f);
        put_label(f, hub->consumers[i]->spec.name);
        fprintf(f, "\"} %zu\n", backlog != NULL ? backlog[i] : 0);
    }
    head(f, "hashspace_consumer_oldest_age_seconds", "gauge",
         "Age of the oldest message queued for a consumer (0 when none).");
    for (size_t i = 0; i < hub->nconsumers; i++) {
        uint64_t t = oldest != NULL ? oldest[i] : 0;
        fputs("hashspace_consumer_oldest_age_seconds{consumer=\"", f);
        put_label(f, hub->consumers[i]->spec.name);
        fprintf(f, "\"} %.6f\n", t != 0 && now > t ? (double)(now - t) / 1e9 : 0.0);
    }
    free(backlog);
    free(oldest);
    head(f, "hashspace_consumer_processed_total", "counter",
         "Messages a consumer finished: ok, or failed after its tries.");
    per_consumer(f, hub, "hashspace_consumer_processed_total", ",result=\"ok\"", f_ok);
    per_consumer(f, hub, "hashspace_consumer_processed_total", ",result=\"failed\"", f_failed);
    head(f, "hashspace_consumer_duration_seconds", "histogram",
         "Time to process one message, all tries included.");
    for (size_t i = 0; i < hub->nconsumers; i++) {
        hs__consumer *c = hub->consumers[i];
        uint64_t cumulative = 0;
        for (int b = 0; b <= HS__DURATION_BUCKETS; b++) {
            cumulative += load(&c->duration_buckets[b]);
            fputs("hashspace_consumer_duration_seconds_bucket{consumer=\"", f);
            put_label(f, c->spec.name);
            if (b < HS__DURATION_BUCKETS)
                fprintf(f, "\",le=\"%g\"} %llu\n", hs__duration_bounds[b],
                        (unsigned long long)cumulative);
            else
                fprintf(f, "\",le=\"+Inf\"} %llu\n", (unsigned long long)cumulative);
        }
        fputs("hashspace_consumer_duration_seconds_sum{consumer=\"", f);
        put_label(f, c->spec.name);
        fprintf(f, "\"} %.9f\n", (double)load(&c->duration_sum_ns) / 1e9);
        fputs("hashspace_consumer_duration_seconds_count{consumer=\"", f);
        put_label(f, c->spec.name);
        fprintf(f, "\"} %llu\n", (unsigned long long)cumulative);
    }
    head(f, "hashspace_consumer_restarts_total", "counter",
         "Times a consumer's child process was restarted.");
    per_consumer(f, hub, "hashspace_consumer_restarts_total", "", f_restarts);
    head(f, "hashspace_consumer_dropped_total", "counter",
         "Messages dropped because a consumer's queue was full (on_full=drop).");
    per_consumer(f, hub, "hashspace_consumer_dropped_total", "", f_dropped);
    head(f, "hashspace_consumer_left_total", "counter",
         "Messages a consumer had not processed when the drain deadline passed at shutdown; "
         "each is dead-lettered with reason \"left\".");
    per_consumer(f, hub, "hashspace_consumer_left_total", "", f_left);
    head(f, "hashspace_consumer_possibly_lost_total", "counter",
         "push: messages counted ok (handed to ZeroMQ) whose peer then disconnected, so "
         "possibly never delivered (an upper estimate).");
    per_consumer(f, hub, "hashspace_consumer_possibly_lost_total", "", f_possibly_lost);
    head(f, "hashspace_view_epoch", "gauge", "Epoch of the membership view in use.");
    fprintf(f, "hashspace_view_epoch %llu\n", (unsigned long long)load(&hub->view_epoch));
    head(f, "hashspace_view_members", "gauge", "Members in the view in use.");
    fprintf(f, "hashspace_view_members %llu\n", (unsigned long long)load(&hub->view_members));
    render_bus(f, hub);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

char *hs__status_render(hs__hub *hub, size_t *len)
{
    json_t *o = json_object();
    json_t *malformed = json_object();
    json_t *consumers = json_array();
    if (o == NULL || malformed == NULL || consumers == NULL) {
        json_decref(o);
        json_decref(malformed);
        json_decref(consumers);
        return NULL;
    }
    const hs__hub_config *cfg = hub->cfg;
    json_object_set_new(o, "self", json_string(cfg->self));
    json_object_set_new(o, "members", json_string(cfg->members));
    json_object_set_new(o, "epoch", json_integer((json_int_t)load(&hub->view_epoch)));
    json_object_set_new(o, "view_members", json_integer((json_int_t)load(&hub->view_members)));
    json_object_set_new(o, "received", json_integer((json_int_t)load(&hub->received)));
    json_object_set_new(o, "claimed", json_integer((json_int_t)load(&hub->claimed)));
    json_object_set_new(o, "skipped", json_integer((json_int_t)load(&hub->skipped)));
    json_object_set_new(o, "unmatched", json_integer((json_int_t)load(&hub->unmatched)));
    json_object_set_new(o, "dead_lettered",
                        json_integer((json_int_t)hs__deadletter_count(hub->deadletter)));
    json_object_set_new(o, "dead_letter_failures",
                        json_integer((json_int_t)hs__deadletter_failures(hub->deadletter)));
    for (int r = 0; r < HS__MALFORMED__COUNT; r++)
        json_object_set_new(malformed, hs__malformed_labels[r],
                            json_integer((json_int_t)load(&hub->malformed[r])));
    json_object_set_new(o, "malformed", malformed);
    uint64_t now = hs__monotonic_ns();
    for (size_t i = 0; i < hub->nconsumers; i++) {
        hs__consumer *c = hub->consumers[i];
        size_t backlog;
        uint64_t oldest;
        hs__consumer_backlog(c, &backlog, &oldest);
        json_t *j = json_pack(
            "{s:s, s:s, s:s, s:s, s:i, s:i, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "name",
            c->spec.name, "glob", c->spec.glob, "kind", c->spec.kind, "arg", c->spec.arg, "workers",
            (int)c->spec.workers, "backlog", (int)backlog, "oldest_age_seconds",
            oldest != 0 && now > oldest ? (double)(now - oldest) / 1e9 : 0.0, "ok",
            (json_int_t)load(&c->ok), "failed", (json_int_t)load(&c->failed), "dropped",
            (json_int_t)load(&c->dropped), "restarts", (json_int_t)load(&c->restarts), "routed",
            (json_int_t)load(&c->routed), "left", (json_int_t)load(&c->left), "possibly_lost",
            (json_int_t)load(&c->possibly_lost));
        if (j != NULL)
            json_array_append_new(consumers, j);
    }
    json_object_set_new(o, "consumers", consumers);
    json_object_set_new(o, "bus", status_bus(hub));
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text != NULL)
        *len = strlen(text);
    return text;
}

/* /readyz: ready to take traffic when the hub runs, knows its view and every
 * consumer runs (a load balancer or an orchestrator waits for this); else
 * 503 and the first reason. /healthz says only that it is alive. */
static char *readyz(hs__hub *hub, unsigned *status)
{
    char why[300] = "";
    if (atomic_load(&hub->failed))
        snprintf(why, sizeof why, "the bus failed");
    else if (atomic_load(&hub->stop))
        snprintf(why, sizeof why, "stopping");
    else if (load(&hub->view_epoch) == 0)
        snprintf(why, sizeof why, "no view yet");
    for (size_t i = 0; why[0] == '\0' && i < hub->nconsumers; i++)
        hs__consumer_ready(hub->consumers[i], why, sizeof why);
    *status = why[0] == '\0' ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE;
    char *body = malloc(strlen(why) + 16);
    if (body != NULL)
        sprintf(body, "%s\n", why[0] == '\0' ? "ready" : why);
    return body;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)con_cls;
    hs__hub *hub = cls;
    char *body = NULL;
    size_t len = 0;
    const char *type = "text/plain; charset=utf-8";
    unsigned status = MHD_HTTP_OK;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
    } else if (strcmp(url, "/metrics") == 0) {
        body = hs__metrics_render(hub, &len);
        type = "text/plain; version=0.0.4; charset=utf-8";
    } else if (strcmp(url, "/status") == 0) {
        body = hs__status_render(hub, &len);
        type = "application/json";
    } else if (strcmp(url, "/readyz") == 0) {
        body = readyz(hub, &status);
        len = body != NULL ? strlen(body) : 0;
    } else if (strcmp(url, "/healthz") == 0) {
        /* Alive: answering, and the bus has not failed. */
        bool failed = atomic_load(&hub->failed);
        body = strdup(failed ? "failed: the bus\n" : "ok\n");
        len = body != NULL ? strlen(body) : 0;
        if (failed)
            status = MHD_HTTP_SERVICE_UNAVAILABLE;
    } else {
        status = MHD_HTTP_NOT_FOUND;
    }
    if (body == NULL) {
        static const char msg[] = "hashspace hub: /metrics, /status, /healthz or /readyz\n";
        body = strdup(status == MHD_HTTP_OK ? "out of memory\n" : msg);
        if (status == MHD_HTTP_OK)
            status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        len = body != NULL ? strlen(body) : 0;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", type);
    enum MHD_Result rc = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

/* libmicrohttpd's complaints (a refused connection at the limits, say) are
 * about what clients do: rate-limited, like other bad input. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[256];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    hs__log_bad("metrics: %s", line);
}

int hs__metrics_start(hs__hub *hub, const char *hostport, char *err, size_t errlen)
{
    char host[256];
    int port;
    if (hs__config_parse_hostport(hostport, host, sizeof host, &port) != 0) {
        snprintf(err, errlen, "metrics: '%s' is not HOST:PORT or none", hostport);
        return HS_EPARSE;
    }
    if (port < 0)
        return HS_OK;
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host) - 2);
        host[strlen(host) - 2] = '\0';
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *ai;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    int gai = getaddrinfo(host, service, &hints, &ai);
    if (gai != 0) {
        snprintf(err, errlen, "metrics: %s: %s", host, gai_strerror(gai));
        return HS_EINVAL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, answer, hub, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_CONNECTION_TIMEOUT, METRICS_IDLE_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT,
        METRICS_MAX_CONNECTIONS, MHD_OPTION_PER_IP_CONNECTION_LIMIT, METRICS_MAX_PER_IP,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_END);
    char shown[INET6_ADDRSTRLEN];
    const void *addr = ai->ai_family == AF_INET6
                           ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
                           : (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;
    inet_ntop(ai->ai_family, addr, shown, sizeof shown);
    bool v6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);
    if (d == NULL) {
        snprintf(err, errlen,
                 "metrics: cannot listen on %s (in use, or not an address of "
                 "this host?)",
                 hostport);
        return HS_EIO;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned bound = info != NULL ? info->port : (unsigned)port;
    snprintf(hub->metrics_addr, sizeof hub->metrics_addr, "%s%s%s:%u", v6 ? "[" : "", shown,
             v6 ? "]" : "", bound);
    hub->metrics = d;
    return HS_OK;
}

void hs__metrics_stop(hs__hub *hub)
{
    if (hub->metrics != NULL)
        MHD_stop_daemon(hub->metrics);
    hub->metrics = NULL;
}
