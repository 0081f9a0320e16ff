/* cmd_dashboard.c - `hashspace dashboard`: one page for a whole cluster. It
 * reads every hub's /status, duration histogram (/metrics) and /view itself,
 * server-side, so that the browser talks to this one origin, and with
 * --coordinator the cluster's views and members; it serves the hub's
 * dashboard page (embedded, assets.h) with /cluster, the latest round as JSON.
 *
 * DESIGN: the main thread polls, one round per --interval: each hub in turn
 * (GETs bounded by --timeout), then the coordinator; it renders the round
 * into one JSON text and swaps it in under a mutex. libmicrohttpd's polling
 * thread answers /cluster with a copy of that text and the assets from the
 * constant table, and touches nothing else. SIGTERM and SIGINT are blocked in
 * every thread and taken by the main thread with sigtimedwait, which is also
 * its sleep between rounds. The history is the page's (docs/design.md
 * "Dashboard"): this process keeps only the latest round.
 */
#include "cli_http.h"
#include "cli_util.h"
#include "commands.h"

#include "config.h"
#include "coord.h"
#include "dashboard.h"
#include "httpreply.h"

#include "hashspace/error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define DASHBOARD_DEFAULT_LISTEN "127.0.0.1:9950"
#define DASHBOARD_MAX_HUBS 256
#define DASHBOARD_MAX_BODY (16u << 20)
#define DASHBOARD_BUCKETS "hashspace_consumer_duration_seconds_bucket{"

static void dashboard_usage(FILE *out)
{
    fprintf(out,
            "usage: hashspace dashboard [--listen HOST:PORT] [--coordinator URL --cluster NAME]\n"
            "                           [--interval S] [--timeout S]\n"
            "                           [--auth bearer:FILE|basic:FILE] HUB_ADDR...\n\n"
            "Serve one live page for a whole cluster: every hub side by side (its view and\n"
            "shares of the hash space, per consumer backlog, oldest age, rates and processing\n"
            "time), the cluster's total backlog, and the handovers in progress (hubs on\n"
            "different epochs; with --coordinator, the pending views). This process reads the\n"
            "hubs' /status, /metrics and /view itself, so the browser needs to reach only it.\n"
            "Each hub also serves its own page at http://ADDR/.\n\n"
            "  HUB_ADDR           a hub's metrics address, HOST:PORT or http://HOST:PORT\n"
            "  --listen HOST:PORT where to serve the page (default %s; port 0: a free one)\n"
            "  --coordinator URL  redis://HOST[:PORT][/DB]: also show the cluster's views\n"
            "  --cluster NAME     the hubs' --cluster (with --coordinator)\n"
            "  --interval S       read the hubs every S seconds (default 1)\n"
            "  --timeout S        give up on a hub or the coordinator after S seconds (default 1)\n"
            "  --auth A           the credentials of hubs run with --metrics-auth (as for\n"
            "                     hashspace status: bearer:FILE or basic:FILE, FILE owner-only)\n"
            "  -h, --help         this text\n\n"
            "It prints \"dashboard on http://HOST:PORT/\" once it listens, and runs until\n"
            "SIGTERM or SIGINT. Exit status: 0 after a signal, 1 when it cannot listen, 2 on\n"
            "bad usage.\n\n"
            "Example:\n"
            "  hashspace dashboard --listen 127.0.0.1:9950 127.0.0.1:9941 127.0.0.1:9942\n",
            DASHBOARD_DEFAULT_LISTEN);
}

typedef struct hub_state {
    hs_cli_target t;
    json_t *view; /* the hub's last /view, or NULL */
    json_int_t view_epoch;
} hub_state;

typedef struct dashboard {
    hub_state *hubs;
    size_t nhubs;
    hs__coord *coord; /* NULL without --coordinator */
    bool coord_connected;
    double timeout_s;
    pthread_mutex_t lock; /* guards round */
    char *round;          /* the latest /cluster text */
    size_t round_len;
} dashboard;

/* --auth: what every request to a hub carries (set before any thread starts,
 * read-only after). */
static hs_cli_auth dashboard_auth;

/* Only the histogram's bucket lines: the page needs no more of /metrics. */
static char *bucket_lines(const char *text)
{
    size_t cap = strlen(text) + 1, n = 0;
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    for (const char *line = text; *line != '\0';) {
        const char *eol = strchr(line, '\n');
        size_t len = eol != NULL ? (size_t)(eol - line) + 1 : strlen(line);
        if (strncmp(line, DASHBOARD_BUCKETS, sizeof DASHBOARD_BUCKETS - 1) == 0) {
            memcpy(out + n, line, len);
            n += len;
        }
        line += len;
    }
    out[n] = '\0';
    return out;
}

static json_t *get_json(const hs_cli_target *t, const char *path, double timeout_s, char *err,
                        size_t errlen)
{
    size_t len;
    char *body =
        hs_cli_http_get(t, path, &dashboard_auth, timeout_s, DASHBOARD_MAX_BODY, &len, err, errlen);
    if (body == NULL)
        return NULL;
    json_error_t je;
    json_t *j = json_loadb(body, len, 0, &je);
    free(body);
    if (j == NULL || !json_is_object(j)) {
        snprintf(err, errlen, "%s is not a JSON object (%s)", path, j ? "other JSON" : je.text);
        json_decref(j);
        return NULL;
    }
    return j;
}

static json_t *poll_hub(hub_state *h, double timeout_s)
{
    json_t *o = json_pack("{s:s}", "addr", h->t.label);
    char err[512];
    json_t *status = o != NULL ? get_json(&h->t, "/status", timeout_s, err, sizeof err) : NULL;
    if (status == NULL) {
        json_object_set_new(o, "error", json_string(err));
        return o;
    }
    json_object_set_new(o, "status", status);
    size_t len;
    char *metrics = hs_cli_http_get(&h->t, "/metrics", &dashboard_auth, timeout_s,
                                    DASHBOARD_MAX_BODY, &len, err, sizeof err);
    char *buckets = metrics != NULL ? bucket_lines(metrics) : NULL;
    free(metrics);
    json_object_set_new(o, "durations", json_string(buckets != NULL ? buckets : ""));
    free(buckets);
    /* /view costs the hub a few milliseconds: read it again only when the
     * hub's epoch moved. */
    json_int_t epoch = json_integer_value(json_object_get(status, "epoch"));
    if (h->view == NULL || h->view_epoch != epoch) {
        json_t *view = get_json(&h->t, "/view", timeout_s, err, sizeof err);
        if (view != NULL) {
            json_decref(h->view);
            h->view = view;
            h->view_epoch = epoch;
        }
    }
    if (h->view != NULL)
        json_object_set(o, "view", h->view);
    return o;
}

/* The coordinator's views (all it keeps, the pending ones included) and
 * members. Read-only, like `hashspace members`: no promise asked. */
static json_t *poll_coord(dashboard *d)
{
    char url[HS__COORD_URL_MAX];
    hs__coord_url_format(&d->coord->url, url, sizeof url);
    json_t *o = json_pack("{s:s,s:s}", "url", url, "cluster", d->coord->cluster);
    unsigned timeout_ms = (unsigned)(d->timeout_s * 1000);
    if (!d->coord_connected && hs__coord_connect(d->coord, timeout_ms) != HS_OK) {
        json_object_set_new(o, "error", json_string(hs__coord_error(d->coord)));
        return o;
    }
    d->coord_connected = true;
    hs__coord_member *m = NULL;
    size_t n = 0;
    uint64_t now = 0;
    hs__coord_fetch f;
    if (hs__coord_members(d->coord, &m, &n, &now) != HS_OK ||
        hs__coord_fetch_since(d->coord, 0, 0, 0, &f) != HS_OK) {
        json_object_set_new(o, "error", json_string(hs__coord_error(d->coord)));
        d->coord_connected = false; /* reconnect next round */
        free(m);
        return o;
    }
    json_t *views = json_array(), *members = json_array();
    for (size_t i = 0; i < f.n; i++) {
        char *text = hs__coord_view_json(&f.views[i]);
        json_t *v = text != NULL ? json_loads(text, 0, NULL) : NULL;
        free(text);
        if (v != NULL)
            json_array_append_new(views, v);
    }
    for (size_t i = 0; i < n; i++)
        json_array_append_new(members, json_pack("{s:s,s:b,s:b,s:f}", "name", m[i].name, "live",
                                                 m[i].live, "leaving", m[i].leaving, "weight",
                                                 m[i].live ? m[i].weight : 0.0));
    json_object_set_new(o, "now", json_integer((json_int_t)(f.now_ns > now ? f.now_ns : now)));
    json_object_set_new(o, "views", views);
    json_object_set_new(o, "members", members);
    hs__coord_fetch_free(&f);
    free(m);
    return o;
}

static void poll_round(dashboard *d, double interval)
{
    json_t *hubs = json_array();
    for (size_t i = 0; i < d->nhubs; i++)
        json_array_append_new(hubs, poll_hub(&d->hubs[i], d->timeout_s));
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    json_t *root =
        json_pack("{s:I,s:f,s:o}", "now_ms", (json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
                  "interval", interval, "hubs", hubs);
    if (root == NULL)
        return;
    json_object_set_new(root, "cluster", d->coord ? json_string(d->coord->cluster) : json_null());
    json_object_set_new(root, "coordinator", d->coord ? poll_coord(d) : json_null());
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (text == NULL)
        return;
    pthread_mutex_lock(&d->lock);
    free(d->round);
    d->round = text;
    d->round_len = strlen(text);
    pthread_mutex_unlock(&d->lock);
}

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned status, const char *type,
                                 char *body, size_t len)
{
    return hs__http_reply(conn, status, type, "no-store", body, len);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)con_cls;
    dashboard *d = cls;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return send_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain; charset=utf-8",
                         strdup("GET or HEAD only\n"), 17);
    if (strcmp(url, "/cluster") == 0) {
        pthread_mutex_lock(&d->lock);
        char *body = d->round != NULL ? strdup(d->round) : strdup("{\"hubs\":[]}");
        pthread_mutex_unlock(&d->lock);
        if (body == NULL)
            return MHD_NO;
        return send_text(conn, MHD_HTTP_OK, "application/json", body, strlen(body));
    }
    const hs__asset *a = hs__asset_find(url);
    if (a != NULL)
        return hs__dashboard_send_asset(conn, a);
    static const char msg[] = "hashspace dashboard: / (the page) or /cluster (JSON)\n";
    return send_text(conn, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", strdup(msg),
                     sizeof msg - 1);
}

/* Listen on hostport; the daemon, or NULL with a sentence in err. shown gets
 * the address bound ("127.0.0.1:9950"). */
static struct MHD_Daemon *listen_on(const char *hostport, dashboard *d, char *shown,
                                    size_t shownlen, char *err, size_t errlen)
{
    char host[256];
    int port;
    if (hs__config_parse_hostport(hostport, host, sizeof host, &port) != 0 || port < 0) {
        snprintf(err, errlen, "--listen: '%s' is not HOST:PORT", hostport);
        return NULL;
    }
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host) - 2);
        host[strlen(host) - 2] = '\0';
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    int gai = getaddrinfo(host, service, &hints, &ai);
    if (gai != 0) {
        snprintf(err, errlen, "--listen: %s: %s", host, gai_strerror(gai));
        return NULL;
    }
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    struct MHD_Daemon *daemon = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, answer, d, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
        MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_CONNECTION_LIMIT, 64u,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, 16u, MHD_OPTION_END);
    char addr[INET6_ADDRSTRLEN];
    const void *a = ai->ai_family == AF_INET6
                        ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
                        : (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;
    inet_ntop(ai->ai_family, a, addr, sizeof addr);
    bool v6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);
    if (daemon == NULL) {
        snprintf(err, errlen, "cannot listen on %s (in use, or not an address of this host?)",
                 hostport);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(shown, shownlen, "%s%s%s:%u", v6 ? "[" : "", addr, v6 ? "]" : "",
             info != NULL ? info->port : (unsigned)port);
    return daemon;
}

static int parse_seconds(const char *name, const char *text, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || !(v >= 0.05) || !isfinite(v) || v > 3600) {
        hs_cli_error("--%s: '%s' is not a number of seconds from 0.05 to 3600", name, text);
        return -1;
    }
    *out = v;
    return 0;
}

/* Serve the page on listen until SIGTERM or SIGINT, polling the hubs every
 * interval; the exit status. */
static int dashboard_serve(dashboard *d, const char *listen, double interval)
{
    char err[512];
    int rc;
    /* Block the stop signals before libmicrohttpd starts its thread, so that
     * only this thread takes them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    poll_round(d, interval);
    char shown[300];
    struct MHD_Daemon *daemon = listen_on(listen, d, shown, sizeof shown, err, sizeof err);
    if (daemon == NULL) {
        hs_cli_error("%s", err);
        rc = 1;
    } else {
        printf("dashboard on http://%s/ (%zu hub%s%s%s)\n", shown, d->nhubs,
               d->nhubs == 1 ? "" : "s", d->coord ? ", cluster " : "",
               d->coord ? d->coord->cluster : "");
        fflush(stdout);
        for (;;) {
            struct timespec wait = {(time_t)interval, (long)((interval - floor(interval)) * 1e9)};
            int sig = sigtimedwait(&stop, NULL, &wait);
            if (sig == SIGTERM || sig == SIGINT)
                break;
            if (sig < 0 && errno != EAGAIN && errno != EINTR)
                break;
            poll_round(d, interval);
        }
        MHD_stop_daemon(daemon);
        rc = 0;
    }
    return rc;
}

int hs_cmd_dashboard(int argc, char **argv)
{
    static const struct option options[] = {
        {"listen", required_argument, NULL, 'l'},  {"coordinator", required_argument, NULL, 'c'},
        {"cluster", required_argument, NULL, 'k'}, {"interval", required_argument, NULL, 'i'},
        {"timeout", required_argument, NULL, 't'}, {"auth", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *listen = DASHBOARD_DEFAULT_LISTEN, *url = NULL, *cluster = NULL;
    char auth_err[600];
    double interval = 1, timeout = 1;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'l':
            listen = optarg;
            break;
        case 'c':
            url = optarg;
            break;
        case 'k':
            cluster = optarg;
            break;
        case 'i':
        case 't':
            if (parse_seconds(opt == 'i' ? "interval" : "timeout", optarg,
                              opt == 'i' ? &interval : &timeout) != 0)
                return 2;
            break;
        case 'a':
            if (hs_cli_auth_parse(optarg, &dashboard_auth, auth_err, sizeof auth_err) != 0) {
                hs_cli_error("--auth: %s", auth_err);
                return 2;
            }
            break;
        case 'h':
            dashboard_usage(stdout);
            return 0;
        default:
            dashboard_usage(stderr);
            return 2;
        }
    }
    size_t nhubs = (size_t)(argc - optind);
    if ((url == NULL) != (cluster == NULL)) {
        hs_cli_error("--coordinator URL and --cluster NAME go together (e.g. "
                     "--coordinator redis://127.0.0.1:6379 --cluster demo)");
        return 2;
    }
    if (nhubs == 0 && url == NULL) {
        hs_cli_error("name the hubs' metrics addresses (e.g. hashspace dashboard "
                     "127.0.0.1:9941 127.0.0.1:9942), or a --coordinator and --cluster");
        return 2;
    }
    if (nhubs > DASHBOARD_MAX_HUBS) {
        hs_cli_error("at most %d hubs", DASHBOARD_MAX_HUBS);
        return 2;
    }
    if (hs_cli_http_init() != 0) {
        hs_cli_error("cannot set up libcurl");
        return 1;
    }
    dashboard d = {.nhubs = nhubs, .timeout_s = timeout};
    d.hubs = calloc(nhubs > 0 ? nhubs : 1, sizeof *d.hubs);
    if (d.hubs == NULL) {
        hs_cli_error("out of memory");
        return 1;
    }
    char err[512];
    int rc = 2;
    for (size_t i = 0; i < nhubs; i++)
        if (hs_cli_target_parse(argv[optind + (int)i], &d.hubs[i].t, err, sizeof err) != 0) {
            hs_cli_error("%s", err);
            goto out;
        }
    if (url != NULL && hs__coord_open(&d.coord, url, cluster, err, sizeof err) != HS_OK) {
        hs_cli_error("%s", err);
        goto out;
    }
    pthread_mutex_init(&d.lock, NULL);
    rc = dashboard_serve(&d, listen, interval);
    pthread_mutex_destroy(&d.lock);
    free(d.round);
out:
    for (size_t i = 0; i < nhubs; i++)
        json_decref(d.hubs[i].view);
    free(d.hubs);
    hs__coord_close(d.coord);
    hs_cli_auth_clear(&dashboard_auth);
    return rc;
}
