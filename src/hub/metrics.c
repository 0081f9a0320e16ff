/* metrics.c - Prometheus text exposition on /metrics, a JSON summary on
 * /status (both written by stats.c), a liveness check on /healthz and a
 * readiness check on /readyz,
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

#include "dashboard.h"
#include "httpreply.h"
#include "log.h"
#include "webauth.h"

#include "hashspace/error.h"

#include <arpa/inet.h>
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
    else if (load(&hub->claim.view_epoch) == 0)
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
    /* Everything but the liveness probe needs the credentials, if set. */
    if (strcmp(url, "/healthz") != 0 && !hs__webauth_allows(hub->webauth, conn))
        return hs__webauth_refuse(hub->webauth, conn) == MHD_YES ? MHD_YES : MHD_NO;
    enum MHD_Result routed;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
    } else if (hs__dashboard_answer(hub, conn, url, &routed)) {
        return routed; /* the page, its assets and /view (dashboard.c) */
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
    return hs__http_reply(conn, status, type, NULL, body, len);
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

/* The endpoint is for this host unless told otherwise: listening on an
 * address other hosts can reach is said at start, louder without
 * metrics-auth. */
static void warn_exposed(const hs__hub *hub, const char *shown, bool v6)
{
    bool loopback = v6 ? strcmp(shown, "::1") == 0 : strncmp(shown, "127.", 4) == 0;
    if (loopback)
        return;
    if (hub->webauth == NULL)
        hs__warn("metrics: listening on %s, which other hosts may reach, with no metrics-auth: "
                 "anyone there can read /metrics and /status (set metrics-auth, or listen on "
                 "127.0.0.1)",
                 hub->metrics_addr);
    else
        hs__info("metrics: listening on %s, which other hosts may reach; metrics-auth is set",
                 hub->metrics_addr);
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
    warn_exposed(hub, shown, v6);
    return HS_OK;
}

void hs__metrics_stop(hs__hub *hub)
{
    if (hub->metrics != NULL)
        MHD_stop_daemon(hub->metrics);
    hub->metrics = NULL;
}
