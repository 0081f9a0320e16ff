/* cmd_status.c - `hashspace status`: fetch a hub's /metrics over HTTP and
 * show it as a table a person reads at a glance: the view, the message
 * counters, and per consumer its backlog, throughput and latency.
 *
 * The GET is plain HTTP/1.0 over a POSIX socket (the hub serves loopback);
 * the body is parsed as the Prometheus text exposition format. */
#include "cli_util.h"
#include "commands.h"
#include "promtext.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define STATUS_DEFAULT_ADDR "127.0.0.1:9941"
#define STATUS_MAX_HUBS 64
#define STATUS_MAX_BODY (64u << 20)

static void status_usage(FILE *out)
{
    fprintf(out,
            "usage: hashspace status [--watch S] [--timeout S] [ADDR...]\n\n"
            "Fetch the metrics of one or more hubs (HTTP GET http://ADDR/metrics) and print\n"
            "for each: the view (epoch, members), the messages received, claimed, skipped,\n"
            "malformed and dead-lettered, and one row per consumer: backlog, age of the\n"
            "oldest queued message, processed ok and failed, processing rate (with --watch,\n"
            "from two samples), p50/p99 processing time from the duration histogram,\n"
            "restarts and drops.\n\n"
            "  ADDR         HOST:PORT, or a URL http://HOST:PORT[/PATH] (default %s);\n"
            "               a hub serves its metrics at its --metrics HOST:PORT, or on a\n"
            "               free port it logs at start (\"metrics on http://...\")\n"
            "  --watch S    refresh every S seconds until interrupted\n"
            "  --timeout S  give up on a hub after S seconds (default 2)\n"
            "  -h, --help   this text\n\n"
            "Exit status: 0 when every hub answered, 1 when one could not be read, 2 on bad\n"
            "usage.\n\n"
            "Example:\n"
            "  hashspace status --watch 1 127.0.0.1:9941 127.0.0.1:9942\n",
            STATUS_DEFAULT_ADDR);
}

/* --- HTTP GET --- */

typedef struct target {
    char host[300], port[16], path[512], label[512];
} target;

static int parse_target(const char *text, target *t)
{
    const char *p = text;
    if (strncmp(p, "http://", 7) == 0)
        p += 7;
    else if (strstr(p, "://") != NULL) {
        hs_cli_error("'%s': only http:// URLs are supported", text);
        return -1;
    }
    const char *slash = strchr(p, '/');
    size_t hostport_len = slash ? (size_t)(slash - p) : strlen(p);
    snprintf(t->path, sizeof t->path, "%s", slash && slash[1] ? slash : "/metrics");
    char hostport[300];
    if (hostport_len == 0 || hostport_len >= sizeof hostport) {
        hs_cli_error("'%s': expected HOST:PORT (e.g. %s)", text, STATUS_DEFAULT_ADDR);
        return -1;
    }
    memcpy(hostport, p, hostport_len);
    hostport[hostport_len] = '\0';
    const char *host = hostport, *port = NULL;
    char *colon;
    if (hostport[0] == '[' && (colon = strstr(hostport, "]:")) != NULL) { /* [::1]:9941 */
        *colon = '\0';
        host = hostport + 1;
        port = colon + 2;
    } else if ((colon = strrchr(hostport, ':')) != NULL) {
        *colon = '\0';
        port = colon + 1;
    }
    char *end;
    long portnum = port ? strtol(port, &end, 10) : 0;
    if (port == NULL || *port == '\0' || *end != '\0' || portnum < 1 || portnum > 65535 ||
        *host == '\0') {
        hs_cli_error("'%s': expected HOST:PORT (e.g. %s)", text, STATUS_DEFAULT_ADDR);
        return -1;
    }
    snprintf(t->host, sizeof t->host, "%s", host);
    snprintf(t->port, sizeof t->port, "%ld", portnum);
    snprintf(t->label, sizeof t->label, "%.*s", (int)hostport_len, p);
    return 0;
}

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int wait_fd(int fd, short events, double deadline)
{
    for (;;) {
        double left = deadline - now_mono();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)(left * 1000) + 1);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

static int connect_to(const target *t, double deadline, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *list;
    int rc = getaddrinfo(t->host, t->port, &hints, &list);
    if (rc != 0) {
        snprintf(err, errlen, "%s", gai_strerror(rc));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *a = list; a != NULL && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            int soerr = errno;
            socklen_t len = sizeof soerr;
            if (soerr == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) == 0)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
            else if (soerr == EINPROGRESS)
                soerr = errno;
            if (soerr != 0 && soerr != EINPROGRESS) {
                saved = soerr;
                close(fd);
                fd = -1;
            }
        }
    }
    freeaddrinfo(list);
    if (fd < 0)
        snprintf(err, errlen, "%s", strerror(saved ? saved : ECONNREFUSED));
    return fd;
}

/* Undo Transfer-Encoding: chunked in place; the new length, or -1. */
static long dechunk(char *body, size_t len)
{
    size_t in = 0, out = 0;
    for (;;) {
        char *end;
        if (in >= len)
            return -1;
        unsigned long size = strtoul(body + in, &end, 16);
        char *eol = memchr(body + in, '\n', len - in);
        if (eol == NULL || end == body + in)
            return -1;
        in = (size_t)(eol - body) + 1;
        if (size == 0)
            return (long)out;
        if (size > len - in)
            return -1;
        memmove(body + out, body + in, size);
        out += size;
        in += size;
        if (in < len && body[in] == '\r')
            in++;
        if (in < len && body[in] == '\n')
            in++;
    }
}

/* GET the metrics page: a malloc'd, NUL-terminated body, or NULL with err
 * filled in. */
static char *http_get(const target *t, double timeout_s, char *err, size_t errlen)
{
    double deadline = now_mono() + timeout_s;
    int fd = connect_to(t, deadline, err, errlen);
    if (fd < 0)
        return NULL;
    char req[1024];
    int reqlen = snprintf(req, sizeof req,
                          "GET %s HTTP/1.0\r\nHost: %s:%s\r\nAccept: text/plain\r\n"
                          "User-Agent: hashspace-status\r\nConnection: close\r\n\r\n",
                          t->path, t->host, t->port);
    size_t sent = 0, len = 0, cap = 65536;
    char *buf = malloc(cap);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory");
        close(fd);
        return NULL;
    }
    while (sent < (size_t)reqlen) {
        ssize_t n = send(fd, req + sent, (size_t)reqlen - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(fd, POLLOUT, deadline) != 0)
                goto fail_errno;
        } else {
            goto fail_errno;
        }
    }
    for (;;) {
        if (len + 1 >= cap) {
            if (cap >= STATUS_MAX_BODY) {
                snprintf(err, errlen, "answer larger than %u bytes", STATUS_MAX_BODY);
                goto fail;
            }
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
        if (n > 0) {
            len += (size_t)n;
        } else if (n == 0) {
            break;
        } else if (errno == EAGAIN || errno == EINTR) {
            if (wait_fd(fd, POLLIN, deadline) != 0)
                goto fail_errno;
        } else {
            goto fail_errno;
        }
    }
    close(fd);
    buf[len] = '\0';

    int code = 0;
    if (sscanf(buf, "HTTP/%*d.%*d %d", &code) != 1) {
        snprintf(err, errlen, "not an HTTP answer");
        free(buf);
        return NULL;
    }
    char *body = strstr(buf, "\r\n\r\n");
    size_t skip = 4;
    if (body == NULL) {
        body = strstr(buf, "\n\n");
        skip = 2;
    }
    if (body == NULL) {
        snprintf(err, errlen, "truncated HTTP answer");
        free(buf);
        return NULL;
    }
    *body = '\0';
    if (code != 200) {
        char *eol = strpbrk(buf, "\r\n");
        snprintf(err, errlen, "GET %s: %.*s", t->path, eol ? (int)(eol - buf) : 80, buf);
        free(buf);
        return NULL;
    }
    bool chunked = strcasestr(buf, "\ntransfer-encoding: chunked") != NULL;
    body += skip;
    size_t body_len = len - (size_t)(body - buf);
    memmove(buf, body, body_len);
    if (chunked) {
        long n = dechunk(buf, body_len);
        if (n < 0) {
            snprintf(err, errlen, "bad chunked encoding");
            free(buf);
            return NULL;
        }
        body_len = (size_t)n;
    }
    buf[body_len] = '\0';
    return buf;
fail_errno:
    snprintf(err, errlen, "%s", errno == ETIMEDOUT ? "timed out" : strerror(errno));
fail:
    close(fd);
    free(buf);
    return NULL;
}

/* Sum of a metric over all its series whose label `key` equals `want`
 * (key NULL: all series). NAN when there is no such series. */
static double sum_where(const hs_prom_samples *s, const char *metric, const char *key,
                        const char *want)
{
    double sum = 0;
    bool found = false;
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i].name, metric) != 0)
            continue;
        if (key != NULL) {
            const char *v = hs_prom_label_of(&s->v[i], key);
            if (v == NULL || strcmp(v, want) != 0)
                continue;
        }
        sum += s->v[i].value;
        found = true;
    }
    return found ? sum : NAN;
}

static double consumer_metric(const hs_prom_samples *s, const char *metric, const char *consumer,
                              const char *key2, const char *want2)
{
    double sum = 0;
    bool found = false;
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i].name, metric) != 0)
            continue;
        const char *c = hs_prom_label_of(&s->v[i], "consumer");
        if (c == NULL || strcmp(c, consumer) != 0)
            continue;
        if (key2 != NULL) {
            const char *v = hs_prom_label_of(&s->v[i], key2);
            if (v == NULL || strcmp(v, want2) != 0)
                continue;
        }
        sum += s->v[i].value;
        found = true;
    }
    return found ? sum : NAN;
}

typedef struct bucket {
    double le, count;
} bucket;

static int by_le(const void *a, const void *b)
{
    double x = ((const bucket *)a)->le, y = ((const bucket *)b)->le;
    return x < y ? -1 : x > y;
}

/* The q-quantile of a consumer's duration histogram, interpolated linearly
 * inside the bucket that holds it (as Prometheus's histogram_quantile does).
 * NAN when there is no observation. */
static double histogram_quantile(const hs_prom_samples *s, const char *consumer, double q)
{
    bucket b[128];
    size_t n = 0;
    for (size_t i = 0; i < s->n && n < 128; i++) {
        if (strcmp(s->v[i].name, "hashspace_consumer_duration_seconds_bucket") != 0)
            continue;
        const char *c = hs_prom_label_of(&s->v[i], "consumer"),
                   *le = hs_prom_label_of(&s->v[i], "le");
        if (c == NULL || le == NULL || strcmp(c, consumer) != 0)
            continue;
        const char *end;
        double bound;
        if (hs_prom_parse_value(le, &end, &bound) != 0)
            continue;
        /* Several series for one bound (e.g. per worker) add up. */
        size_t j;
        for (j = 0; j < n && b[j].le != bound; j++)
            ;
        if (j == n)
            b[n++] = (bucket){bound, 0};
        b[j].count += s->v[i].value;
    }
    if (n == 0)
        return NAN;
    qsort(b, n, sizeof *b, by_le);
    double total = b[n - 1].count;
    if (!(total > 0))
        return NAN;
    double rank = q * total, prev_le = 0, prev_count = 0;
    for (size_t i = 0; i < n; i++) {
        if (b[i].count >= rank) {
            if (isinf(b[i].le))
                return prev_le; /* beyond the last finite bound: the best we know */
            if (b[i].count == prev_count)
                return b[i].le;
            return prev_le + (b[i].le - prev_le) * (rank - prev_count) / (b[i].count - prev_count);
        }
        prev_le = b[i].le;
        prev_count = b[i].count;
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
    target t;
    hs_prom_samples now, before;
    double t_now, t_before;
    bool have_before;
} hub_state;

/* Consumer names, in order of first appearance; at most max. */
static size_t consumer_names(const hs_prom_samples *s, const char **names, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (strncmp(s->v[i].name, "hashspace_consumer_", 19) != 0)
            continue;
        const char *c = hs_prom_label_of(&s->v[i], "consumer");
        if (c == NULL)
            continue;
        size_t j;
        for (j = 0; j < n && strcmp(names[j], c) != 0; j++)
            ;
        if (j == n && n < max)
            names[n++] = c;
    }
    return n;
}

static void print_hub(hub_state *h)
{
    const hs_prom_samples *s = &h->now;
    char a[32], b[32], c[32], d[32], e[32];
    fmt_count(a, sizeof a, sum_where(s, "hashspace_view_epoch", NULL, NULL));
    fmt_count(b, sizeof b, sum_where(s, "hashspace_view_members", NULL, NULL));
    printf("hub %s: view epoch %s, %s members\n", h->t.label, a, b);
    fmt_count(a, sizeof a, sum_where(s, "hashspace_messages_received_total", NULL, NULL));
    fmt_count(b, sizeof b, sum_where(s, "hashspace_messages_claimed_total", NULL, NULL));
    fmt_count(c, sizeof c, sum_where(s, "hashspace_messages_skipped_total", NULL, NULL));
    fmt_count(d, sizeof d, sum_where(s, "hashspace_messages_malformed_total", NULL, NULL));
    fmt_count(e, sizeof e, sum_where(s, "hashspace_messages_dead_lettered_total", NULL, NULL));
    printf("  messages: received %s  claimed %s  skipped %s  malformed %s  dead-lettered %s\n", a,
           b, c, d, e);
    /* The reasons behind a non-zero malformed count. */
    bool first = true;
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i].name, "hashspace_messages_malformed_total") != 0 || !(s->v[i].value > 0))
            continue;
        const char *reason = hs_prom_label_of(&s->v[i], "reason");
        printf("%s%s %.0f", first ? "  malformed by reason: " : ", ", reason ? reason : "?",
               s->v[i].value);
        first = false;
    }
    if (!first)
        putchar('\n');
    /* What the bus lost: summed over publishers, and the ones that lost. */
    double missing = sum_where(s, "hashspace_bus_missing_total", NULL, NULL);
    if (!isnan(missing)) {
        fmt_count(a, sizeof a, missing);
        fmt_count(b, sizeof b, sum_where(s, "hashspace_bus_late_total", NULL, NULL));
        fmt_count(c, sizeof c, sum_where(s, "hashspace_bus_duplicates_total", NULL, NULL));
        fmt_count(d, sizeof d, sum_where(s, "hashspace_bus_restarts_total", NULL, NULL));
        printf("  bus: missing %s (late %s)  duplicates %s  publisher restarts %s\n", a, b, c, d);
        for (size_t i = 0; i < s->n; i++) {
            if (strcmp(s->v[i].name, "hashspace_bus_missing_total") != 0 || !(s->v[i].value > 0))
                continue;
            const char *who = hs_prom_label_of(&s->v[i], "publisher");
            printf("    publisher %s: missing %.0f\n", who != NULL ? who : "?", s->v[i].value);
        }
    }

    const char *names[256];
    size_t n = consumer_names(s, names, 256);
    if (n == 0) {
        printf("  no consumers\n");
        return;
    }
    int w = 8;
    for (size_t i = 0; i < n; i++)
        if ((int)strlen(names[i]) > w)
            w = (int)strlen(names[i]);
    printf("  %-*s %9s %8s %11s %8s %9s %9s %9s %8s %8s\n", w, "consumer", "backlog", "oldest",
           "ok", "failed", "rate/s", "p50", "p99", "restarts", "dropped");
    double dt = h->t_now - h->t_before;
    for (size_t i = 0; i < n; i++) {
        const char *nm = names[i];
        char backlog[32], oldest[32], ok[32], failed[32], rate[32], p50[32], p99[32], rs[32],
            dropped[32];
        fmt_count(backlog, sizeof backlog,
                  consumer_metric(s, "hashspace_consumer_backlog", nm, NULL, NULL));
        fmt_seconds(oldest, sizeof oldest,
                    consumer_metric(s, "hashspace_consumer_oldest_age_seconds", nm, NULL, NULL));
        double done_ok =
            consumer_metric(s, "hashspace_consumer_processed_total", nm, "result", "ok");
        double done_failed =
            consumer_metric(s, "hashspace_consumer_processed_total", nm, "result", "failed");
        fmt_count(ok, sizeof ok, done_ok);
        fmt_count(failed, sizeof failed, done_failed);
        snprintf(rate, sizeof rate, "-");
        if (h->have_before && dt > 0) {
            double before =
                consumer_metric(&h->before, "hashspace_consumer_processed_total", nm, NULL, NULL);
            double after = consumer_metric(s, "hashspace_consumer_processed_total", nm, NULL, NULL);
            if (!isnan(before) && !isnan(after) && after >= before)
                snprintf(rate, sizeof rate, "%.0f", (after - before) / dt);
        }
        fmt_seconds(p50, sizeof p50, histogram_quantile(s, nm, 0.50));
        fmt_seconds(p99, sizeof p99, histogram_quantile(s, nm, 0.99));
        fmt_count(rs, sizeof rs,
                  consumer_metric(s, "hashspace_consumer_restarts_total", nm, NULL, NULL));
        fmt_count(dropped, sizeof dropped,
                  consumer_metric(s, "hashspace_consumer_dropped_total", nm, NULL, NULL));
        printf("  %-*s %9s %8s %11s %8s %9s %9s %9s %8s %8s\n", w, nm, backlog, oldest, ok, failed,
               rate, p50, p99, rs, dropped);
    }
}

/* Fetch one hub into h->now (keeping the previous sample for rates). */
static int refresh(hub_state *h, double timeout_s)
{
    char err[256];
    char *body = http_get(&h->t, timeout_s, err, sizeof err);
    double t = now_mono();
    if (body == NULL) {
        hs_cli_error("cannot read the metrics of %s: %s%s", h->t.label, err,
                     strstr(err, "refused") ? " (is a hub running with this --metrics address?)"
                                            : "");
        return -1;
    }
    hs_prom_clear(&h->before);
    h->before = h->now;
    h->t_before = h->t_now;
    h->have_before = h->before.n > 0;
    memset(&h->now, 0, sizeof h->now);
    hs_prom_parse(body, &h->now);
    h->t_now = t;
    free(body);
    return 0;
}

static volatile sig_atomic_t status_stop;

static void status_on_signal(int sig)
{
    (void)sig;
    status_stop = 1;
}

int hs_cmd_status(int argc, char **argv)
{
    static const struct option options[] = {
        {"watch", required_argument, NULL, 'w'},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    double watch = 0, timeout = 2;
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
    if (hubs == NULL) {
        hs_cli_error("out of memory");
        return 1;
    }
    int status = 0;
    for (size_t i = 0; i < nhubs && status == 0; i++)
        if (parse_target(argc > optind ? argv[optind + (int)i] : STATUS_DEFAULT_ADDR, &hubs[i].t) !=
            0)
            status = 2;
    if (status == 0) {
        struct sigaction sa = {.sa_handler = status_on_signal};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        bool tty = isatty(STDOUT_FILENO);
        for (unsigned round = 0; !status_stop; round++) {
            status = 0;
            double t0 = now_mono();
            if (watch > 0 && tty)
                fputs("\033[H\033[J", stdout); /* home, clear: a steady screen */
            for (size_t i = 0; i < nhubs; i++) {
                fflush(stdout);
                if (refresh(&hubs[i], timeout) != 0) {
                    status = 1;
                    continue;
                }
                if (i > 0)
                    putchar('\n');
                print_hub(&hubs[i]);
            }
            if (watch == 0)
                break;
            if (!tty)
                putchar('\n');
            fflush(stdout);
            double next = t0 + watch;
            while (!status_stop && now_mono() < next)
                usleep(20000);
        }
        if (watch > 0 && status_stop)
            status = 0;
    }
    for (size_t i = 0; i < nhubs; i++) {
        hs_prom_clear(&hubs[i].now);
        hs_prom_clear(&hubs[i].before);
    }
    free(hubs);
    if (fflush(stdout) != 0)
        status = 1;
    return status;
}
