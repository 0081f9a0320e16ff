/* hub_ingest.c - how fast a real `hashspace hub` takes messages off the bus
 * and through a consumer, compared with a bare libzmq receive loop fed by the
 * same publisher in the same run; the publish-to-consumer latency at half
 * that rate; and the memory a queued message costs.
 *
 * DESIGN: this program is the publisher (an XPUB socket in the main thread,
 * sending pre-built fedmsg bodies so that building JSON is not what is
 * measured). The receivers are processes of their own: the bare loop is this
 * program again (`--bare-receiver`), the hub the real binary, started on
 * loopback with the probe plugin (probe_plugin.c) as its consumer. The probe
 * reports through a file when the last message was processed and, in the
 * latency runs, how old each message was; the memory run reads the hub's
 * backlog from its /metrics page with a plain HTTP/1.0 GET.
 */
#include "fedmsg.h"
#include "clock.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define POOL_SIZE 1024
#define TOPIC "org.fedoraproject.bench.hub_ingest"

static pid_t hub_pid = -1;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("hub_ingest: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (hub_pid > 0) {
        kill(hub_pid, SIGKILL);
        waitpid(hub_pid, NULL, 0);
    }
    exit(1);
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
    nanosleep(&ts, NULL);
}

/* CPU time (user + system) of this process (pid 0) or of another one, in ns.
 * Another process's comes from its CPU clock (the scheduler's run time, to
 * the nanosecond), not from /proc's clock ticks: an idle hub that wakes for
 * a few microseconds ten times a second is sometimes charged a whole 10 ms
 * tick there. /proc when the clock cannot be had. */
static uint64_t cpu_ns(pid_t pid)
{
    if (pid == 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
               (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
    }
    clockid_t clock;
    struct timespec ts;
    if (clock_getcpuclockid(pid, &clock) == 0 && clock_gettime(clock, &ts) == 0)
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    size_t len = f != NULL ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    buf[len] = '\0';
    /* Fields 14 and 15 (utime, stime, in clock ticks) follow the command
     * name, which ends with the last ')'. */
    char *p = strrchr(buf, ')');
    unsigned long long utime, stime;
    if (p == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        die("cannot read %s", path);
    return (utime + stime) * (1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK));
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        die("cannot find a free port: %s", strerror(errno));
    close(fd);
    return ntohs(a.sin_port);
}

/* --- messages --- */

typedef struct pool {
    char *body[POOL_SIZE];
    size_t len[POOL_SIZE];
} pool;

static void pool_build(pool *p, size_t size)
{
    const char *topics[] = {TOPIC};
    hs__fedmsg_opts o = {
        .topics = topics, .ntopics = 1, .keys = 100000, .dist = HS__KEY_UNIFORM, .size = size};
    hs__fedmsg_gen *g;
    if (hs__fedmsg_gen_new(&g, &o) != 0)
        die("cannot build messages");
    for (size_t i = 0; i < POOL_SIZE; i++) {
        const char *t, *b;
        size_t tl;
        if (hs__fedmsg_gen_next(g, &t, &tl, &b, &p->len[i]) != 0 ||
            (p->body[i] = strdup(b)) == NULL)
            die("cannot build messages");
    }
    hs__fedmsg_gen_free(g);
}

static void pool_free(pool *p)
{
    for (size_t i = 0; i < POOL_SIZE; i++)
        free(p->body[i]);
}

/* --curve: the publisher's secret key (it is then a CURVE server) and the
 * hub's key pair, in Z85; NULL: plain. */
static const char *pub_curve_secret, *hub_curve_secret, *hub_curve_server;
static char curve_keys[4][41];

/* An XPUB socket that waits for its peers instead of dropping. */
static void *publisher(void *ctx, const char *ep)
{
    void *s = zmq_socket(ctx, ZMQ_XPUB);
    int hwm = 1000000, one = 1, linger = 5000;
    if (pub_curve_secret != NULL &&
        (zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
         zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, pub_curve_secret, 41) != 0))
        die("CURVE server: %s", zmq_strerror(errno));
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_XPUB_NODROP, &one, sizeof one);
    zmq_setsockopt(s, ZMQ_XPUB_VERBOSE, &one, sizeof one);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(s, ep) != 0)
        die("bind %s: %s", ep, zmq_strerror(errno));
    return s;
}

static void wait_subscription(void *pub, double timeout_s)
{
    zmq_pollitem_t it = {.socket = pub, .events = ZMQ_POLLIN};
    if (zmq_poll(&it, 1, (long)(timeout_s * 1000)) <= 0)
        die("no subscriber within %.0f s", timeout_s);
    char buf[64];
    zmq_recv(pub, buf, sizeof buf, 0);
}

static void send_msg(void *pub, const char *topic, size_t tlen, const char *body, size_t blen)
{
    if (zmq_send(pub, topic, tlen, ZMQ_SNDMORE) < 0 || zmq_send(pub, body, blen, 0) < 0)
        die("send: %s", zmq_strerror(errno));
}

/* Send n messages from the pool as fast as the socket takes them. */
static void blast(void *pub, const pool *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        send_msg(pub, TOPIC, sizeof TOPIC - 1, p->body[i % POOL_SIZE], p->len[i % POOL_SIZE]);
}

/* --- the bare loop: a process of its own, as the hub is --- */

/* Per-thread CPU (below), also the bare loop's own. */
#define MAX_THREADS 32
/* One thread's name, CPU time (ns) and voluntary context switches. */
typedef struct thread_cpu {
    int tid;
    char name[24];
    uint64_t cpu_ns, switches;
} thread_cpu;
static size_t threads_cpu(pid_t pid, thread_cpu *out, size_t max);
static size_t threads_diff(const thread_cpu *before, size_t nb, const thread_cpu *after, size_t na,
                           thread_cpu *diff);
static void threads_print(const char *what, const thread_cpu *t, size_t n, double per);
static void threads_report(pid_t pid, const thread_cpu *before, size_t nb, const char *what,
                           double per);

/* `hub_ingest --bare-receiver EP N [stamps]`: a SUB socket connected to EP
 * receives N two-frame messages; prints what the probe plugin writes: "done
 * NS" (CLOCK_MONOTONIC, when the last one arrived), then with stamps the age
 * of each message in ns. Prints nothing after 20 s without a message. */
static int bare_receiver_main(const char *ep, uint64_t n, bool stamps)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_SUB);
    int hwm = 1000000, linger = 0, timeout = 20000;
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
    if (zmq_connect(s, ep) != 0)
        die("bare receiver %s: %s", ep, zmq_strerror(errno));
    uint64_t *age = stamps ? calloc(n, sizeof *age) : NULL;
    if (stamps && age == NULL)
        die("out of memory");
    zmq_msg_t m;
    zmq_msg_init(&m);
    uint64_t got = 0, stamp = 0, cpu0 = 0;
    thread_cpu *th0 = calloc(3 * MAX_THREADS, sizeof *th0), *th1 = th0 + MAX_THREADS,
               *d = th1 + MAX_THREADS;
    size_t n0 = 0;
    if (th0 == NULL)
        die("out of memory");
    while (got < n && zmq_msg_recv(&m, s, 0) >= 0) {
        if (got == 0 && cpu0 == 0) {
            cpu0 = cpu_ns(0);
            n0 = threads_cpu(getpid(), th0, MAX_THREADS);
        }
        if (zmq_msg_more(&m)) {
            if (stamps) {
                const char *t = zmq_msg_data(&m);
                size_t len = zmq_msg_size(&m);
                stamp = 0;
                for (size_t i = len >= 19 ? len - 19 : 0; i < len; i++)
                    if (t[i] >= '0' && t[i] <= '9')
                        stamp = stamp * 10 + (uint64_t)(t[i] - '0');
            }
            continue;
        }
        if (stamps)
            age[got] = hs__monotonic_ns() - stamp;
        got++;
    }
    uint64_t done = hs__monotonic_ns(), cpu = cpu_ns(0) - cpu0;
    size_t n1 = threads_cpu(getpid(), th1, MAX_THREADS);
    if (!stamps && got == n) /* the bare loop's threads, beside the hub's */
        threads_print("bare, per message", d, threads_diff(th0, n0, th1, n1, d), (double)n);
    free(th0);
    zmq_msg_close(&m);
    zmq_close(s);
    zmq_ctx_term(ctx);
    if (got < n)
        return 1;
    printf("done %llu %llu\n", (unsigned long long)done, (unsigned long long)cpu);
    for (uint64_t i = 0; stamps && i < n; i++)
        printf("%llu\n", (unsigned long long)age[i]);
    free(age);
    return 0;
}

static void send_paced(void *pub, const pool *p, uint64_t n, double rate, bool stamps);

/* The bare loop receives n messages, sent as fast as the socket takes them
 * (rate 0) or at a steady rate; returns its report (the caller frees it). */
static char *bare_run(void *ctx, const pool *p, uint64_t n, double rate, bool stamps, uint64_t *t0)
{
    char ep[64], count[32];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", free_port());
    snprintf(count, sizeof count, "%llu", (unsigned long long)n);
    void *pub = publisher(ctx, ep);
    int fds[2];
    if (pipe(fds) != 0)
        die("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        char *argv[] = {"hub_ingest", "--bare-receiver", ep, count, stamps ? "stamps" : NULL, NULL};
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    close(fds[1]);
    wait_subscription(pub, 10);
    *t0 = hs__monotonic_ns();
    if (rate > 0)
        send_paced(pub, p, n, rate, stamps);
    else
        blast(pub, p, n);
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    ssize_t got;
    while (text != NULL && (got = read(fds[0], text + len, cap - len - 1)) > 0) {
        len += (size_t)got;
        if (len + 1 == cap) {
            char *bigger = realloc(text, cap *= 2);
            if (bigger == NULL)
                free(text);
            text = bigger;
        }
    }
    close(fds[0]);
    int st;
    waitpid(pid, &st, 0);
    zmq_close(pub);
    if (text == NULL || !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
        die("bare loop: did not receive %llu messages", (unsigned long long)n);
    text[len] = '\0';
    return text;
}

/* A rate run: messages per second, and the receiver's CPU time (all its
 * threads) per message, less sensitive than the rate to what else runs. */
typedef struct rate_run {
    double rate, cpu_ns;
} rate_run;

/* rate 0: as fast as the socket takes them. */
static rate_run bare_rate(void *ctx, const pool *p, uint64_t n, double rate)
{
    uint64_t t0;
    unsigned long long done = 0, cpu = 0;
    char *text = bare_run(ctx, p, n, rate, false, &t0);
    if (sscanf(text, "done %llu %llu", &done, &cpu) != 2 || done <= t0)
        die("bare loop: no done line");
    free(text);
    return (rate_run){(double)n * 1e9 / (double)(done - t0), (double)cpu / (double)n};
}

/* --- the hub --- */

static const char *hub_bin;

/* The key spec of the hubs started from here (--skipped); NULL: the hub's
 * default (body). */
static const char *hub_key;

static void hub_start(const char *sub_ep, int metrics_port, const char *members,
                      const char *consumer, const char *queue_size)
{
    char metrics[64];
    snprintf(metrics, sizeof metrics, "127.0.0.1:%d", metrics_port);
    /* clang-format off */
    char *argv[32] = {(char *)hub_bin, "hub", "--connect", (char *)sub_ep,
                      "--self", "a", "--members", (char *)members,
                      "--metrics", metrics, "--consumer", (char *)consumer,
                      "--queue-size", (char *)queue_size, "--timeout", "0",
                      "--drain-timeout", "1", "--log-level", "error",
                      "--dead-letter", "none"};
    /* clang-format on */
    size_t argc = 0;
    while (argv[argc] != NULL)
        argc++;
    if (hub_key != NULL) {
        argv[argc++] = "--key";
        argv[argc++] = (char *)hub_key;
    }
    if (hub_curve_secret != NULL) {
        argv[argc++] = "--curve-secret-key";
        argv[argc++] = (char *)hub_curve_secret;
        argv[argc++] = "--curve-server-key";
        argv[argc++] = (char *)hub_curve_server;
    }
    argv[argc] = NULL;
    hub_pid = fork();
    if (hub_pid < 0)
        die("fork: %s", strerror(errno));
    if (hub_pid == 0) {
        execv(hub_bin, argv);
        fprintf(stderr, "hub_ingest: cannot run %s: %s\n", hub_bin, strerror(errno));
        _exit(127);
    }
}

/* SIGTERM: the hub drains (for at most its --drain-timeout) and stops its
 * consumers' children. With must_be_clean, anything but exit 0 is fatal. */
static void hub_stop(bool must_be_clean)
{
    if (hub_pid <= 0)
        return;
    kill(hub_pid, SIGTERM);
    int st;
    waitpid(hub_pid, &st, 0);
    hub_pid = -1;
    if (must_be_clean && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
        die("the hub did not exit cleanly on SIGTERM (wait status %d)", st);
}

/* The sum of a metric's series on the hub's /metrics page; -1 if the page
 * could not be read or has no such metric. */
static double hub_metric(int port, const char *name)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0)
        return -1;
    static const char req[] = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
        close(fd);
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    ssize_t n;
    while (buf != NULL && (n = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (len + 1 == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (bigger == NULL)
                free(buf);
            buf = bigger;
        }
    }
    close(fd);
    if (buf == NULL)
        return -1;
    buf[len] = '\0';
    double sum = -1;
    size_t nl = strlen(name);
    for (char *line = strstr(buf, "\r\n\r\n"); line != NULL; line = strchr(line + 1, '\n')) {
        char *p = line + 1, *eol = strchr(p, '\n');
        if (strncmp(p, name, nl) == 0 && (p[nl] == ' ' || p[nl] == '{')) {
            char *v = strchr(p, '}');
            v = v != NULL && (eol == NULL || v < eol) ? v + 1 : p + nl;
            sum = (sum < 0 ? 0 : sum) + strtod(v, NULL);
        }
    }
    free(buf);
    return sum;
}

/* Wait until a metric reaches at least want; the time it did, in ns. */
static uint64_t wait_metric(int port, const char *name, double want, double timeout_s)
{
    uint64_t deadline = hs__monotonic_ns() + (uint64_t)(timeout_s * 1e9);
    double v = -1;
    while (hs__monotonic_ns() < deadline) {
        v = hub_metric(port, name);
        if (v >= want)
            return hs__monotonic_ns();
        sleep_ns(2000000);
    }
    die("%s: %.0f, waited for %.0f for %.0f s", name, v, want, timeout_s);
}

/* Start a hub and a publisher it subscribes to; wait for its subscription
 * and its metrics page. */
static void *hub_with_publisher(void *ctx, int *metrics_port, const char *members,
                                const char *consumer, const char *queue_size)
{
    char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", free_port());
    void *pub = publisher(ctx, ep);
    *metrics_port = free_port();
    hub_start(ep, *metrics_port, members, consumer, queue_size);
    wait_subscription(pub, 20);
    wait_metric(*metrics_port, "hashspace_view_members", 1, 20);
    return pub;
}

static char run_dir[] = "/tmp/hub_ingest.XXXXXX";
static unsigned run_files;

/* A fresh path in the run directory. */
static void run_path(char *out, size_t len, const char *what)
{
    snprintf(out, len, "%s/%s-%u", run_dir, what, run_files++);
}

/* Wait for the probe plugin's result file; returns its contents (the caller
 * frees them) and the "done" time in *done_ns. */
static char *wait_probe(const char *path, double timeout_s, uint64_t *done_ns)
{
    uint64_t deadline = hs__monotonic_ns() + (uint64_t)(timeout_s * 1e9);
    while (access(path, F_OK) != 0) {
        if (hs__monotonic_ns() > deadline ||
            (hub_pid > 0 && waitpid(hub_pid, NULL, WNOHANG) == hub_pid))
            die("the hub's consumer did not report within %.0f s (%s)", timeout_s, path);
        sleep_ns(1000000);
    }
    FILE *f = fopen(path, "r");
    if (f == NULL)
        die("%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    char *text = malloc((size_t)size + 1);
    if (text == NULL || fread(text, 1, (size_t)size, f) != (size_t)size)
        die("cannot read %s", path);
    text[size] = '\0';
    fclose(f);
    unlink(path);
    unsigned long long done;
    if (sscanf(text, "done %llu", &done) != 1)
        die("%s: no done line", path);
    *done_ns = done;
    return text;
}

/* Ingest: the hub is the only member, so every message is claimed and
 * processed by its consumer (the probe plugin, one worker); the rate is n
 * over the time from the first send to the n-th message processed. */
static rate_run hub_rate(void *ctx, const pool *p, uint64_t n)
{
    char out[256], consumer[512];
    run_path(out, sizeof out, "rate");
    snprintf(consumer, sizeof consumer, "plugin:%s,out=%s,count=%llu", HS_BENCH_PROBE_PLUGIN, out,
             (unsigned long long)n);
    int port;
    void *pub = hub_with_publisher(ctx, &port, "a", consumer, "100000");
    thread_cpu th0[MAX_THREADS];
    size_t n0 = threads_cpu(hub_pid, th0, MAX_THREADS);
    uint64_t cpu0 = cpu_ns(hub_pid), t0 = hs__monotonic_ns(), done;
    blast(pub, p, n);
    free(wait_probe(out, 120, &done));
    uint64_t cpu = cpu_ns(hub_pid) - cpu0;
    threads_report(hub_pid, th0, n0, "owned, per message", (double)n);
    hub_stop(true);
    zmq_close(pub);
    return (rate_run){(double)n * 1e9 / (double)(done - t0), (double)cpu / (double)n};
}

/* Every thread of pid: /proc/PID/task/TID/stat (name, utime, stime) and
 * .../status (voluntary_ctxt_switches). Returns how many were read. */
static size_t threads_cpu(pid_t pid, thread_cpu *out, size_t max)
{
    char path[96], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (d == NULL)
        die("cannot read %s: %s", path, strerror(errno));
    size_t n = 0;
    struct dirent *e;
    while (n < max && (e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        thread_cpu *t = &out[n];
        t->tid = atoi(e->d_name);
        snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, t->tid);
        FILE *f = fopen(path, "r");
        size_t len = f != NULL ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f != NULL)
            fclose(f);
        buf[len] = '\0';
        char *open = strchr(buf, '('), *close = strrchr(buf, ')');
        unsigned long long utime, stime;
        if (open == NULL || close == NULL ||
            sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                   &stime) != 2)
            continue; /* the thread ended meanwhile */
        size_t nl = (size_t)(close - open - 1);
        nl = nl < sizeof t->name - 1 ? nl : sizeof t->name - 1;
        memcpy(t->name, open + 1, nl);
        t->name[nl] = '\0';
        t->cpu_ns = (utime + stime) * (1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK));
        t->switches = 0;
        snprintf(path, sizeof path, "/proc/%d/task/%d/status", (int)pid, t->tid);
        f = fopen(path, "r");
        while (f != NULL && fgets(buf, sizeof buf, f) != NULL)
            if (sscanf(buf, "voluntary_ctxt_switches: %llu", &utime) == 1)
                t->switches = utime;
        if (f != NULL)
            fclose(f);
        n++;
    }
    closedir(d);
    return n;
}

/* after - before, per thread (matched by tid), into diff; returns the count. */
static size_t threads_diff(const thread_cpu *before, size_t nb, const thread_cpu *after, size_t na,
                           thread_cpu *diff)
{
    for (size_t i = 0; i < na; i++) {
        diff[i] = after[i];
        for (size_t k = 0; k < nb; k++)
            if (before[k].tid == after[i].tid) {
                diff[i].cpu_ns -= before[k].cpu_ns;
                diff[i].switches -= before[k].switches;
            }
    }
    return na;
}

static void threads_print(const char *what, const thread_cpu *t, size_t n, double per)
{
    fprintf(stderr, "hub_ingest:   %s:", what);
    for (size_t i = 0; i < n; i++)
        if (t[i].cpu_ns > 0 || t[i].switches > 0)
            fprintf(stderr, " %s %.0f ns/%.2f wake-ups", t[i].name, (double)t[i].cpu_ns / per,
                    (double)t[i].switches / per);
    fputc('\n', stderr);
}

/* What pid's threads used since `before` (threads_cpu's, nb of them), each
 * over `per`, printed as threads_print does. */
static void threads_report(pid_t pid, const thread_cpu *before, size_t nb, const char *what,
                           double per)
{
    thread_cpu after[MAX_THREADS], d[MAX_THREADS];
    size_t na = threads_cpu(pid, after, MAX_THREADS);
    threads_print(what, d, threads_diff(before, nb, after, na, d), per);
}

/* Skipped: the hub is one of 1,000 members (jump, the default placement),
 * so it owns about 0.1% of the messages and skips the rest after extracting
 * and placing their key; timed until its received count reaches n (polled
 * every 20 ms, so that the polling costs the hub little). The CPU per message
 * is what a hub spends on the messages other members own. */
static rate_run hub_skipped_rate(void *ctx, const pool *p, uint64_t n, double rate,
                                 double *skipped_share)
{
    char out[256], consumer[512];
    run_path(out, sizeof out, "skipped");
    snprintf(consumer, sizeof consumer, "plugin:%s,out=%s,count=%llu", HS_BENCH_PROBE_PLUGIN, out,
             (unsigned long long)n + 1);
    int port;
    static char members[8000];
    size_t len = (size_t)snprintf(members, sizeof members, "a");
    for (int i = 1; i < 1000; i++)
        len += (size_t)snprintf(members + len, sizeof members - len, ",m%d", i);
    void *pub = hub_with_publisher(ctx, &port, members, consumer, "100000");
    thread_cpu th0[MAX_THREADS];
    size_t n0 = threads_cpu(hub_pid, th0, MAX_THREADS);
    uint64_t cpu0 = cpu_ns(hub_pid), t0 = hs__monotonic_ns(), deadline = t0 + 120 * 1000000000ull;
    if (rate > 0)
        send_paced(pub, p, n, rate, false);
    else
        blast(pub, p, n);
    double got;
    while ((got = hub_metric(port, "hashspace_messages_received_total")) < (double)n) {
        if (hs__monotonic_ns() > deadline)
            die("the hub received %.0f of %llu messages in 120 s", got, (unsigned long long)n);
        sleep_ns(20000000);
    }
    uint64_t done = hs__monotonic_ns(), cpu = cpu_ns(hub_pid) - cpu0;
    threads_report(hub_pid, th0, n0, "skipped, per message", (double)n);
    *skipped_share = hub_metric(port, "hashspace_messages_skipped_total") / (double)n;
    hub_stop(true);
    zmq_close(pub);
    unlink(out);
    return (rate_run){(double)n * 1e9 / (double)(done - t0), (double)cpu / (double)n};
}

/* Send n messages at a steady rate. The publisher sleeps until the next
 * message is due, then sends every message that is due (at high rates, small
 * bursts: a thread spinning between sends would take one of the machine's
 * few cores from the hub). With stamps, the topic ends with the send time. */
static void send_paced(void *pub, const pool *p, uint64_t n, double rate, bool stamps)
{
    char topic[96];
    double gap = 1e9 / rate;
    uint64_t t0 = hs__monotonic_ns();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t due = t0 + (uint64_t)((double)i * gap), t = hs__monotonic_ns();
        if (t < due)
            sleep_ns(due - t);
        int tl = stamps ? snprintf(topic, sizeof topic, "%s.%019llu", TOPIC,
                                   (unsigned long long)hs__monotonic_ns())
                        : snprintf(topic, sizeof topic, "%s", TOPIC);
        send_msg(pub, topic, (size_t)tl, p->body[i % POOL_SIZE], p->len[i % POOL_SIZE]);
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef struct latency {
    size_t size;
    double rate, p50_us, p99_us, p999_us, max_us;
} latency;

/* Percentiles of a probe report's ages (freed here), leaving out the first
 * tenth: connections and caches warming up. */
static latency latency_of(char *text, uint64_t n, double rate)
{
    uint64_t *v = calloc(n, sizeof *v);
    if (v == NULL)
        die("out of memory");
    char *line = strchr(text, '\n');
    for (uint64_t i = 0; i < n; i++) {
        if (line == NULL || *line != '\n')
            die("latency run: %llu of %llu latencies", (unsigned long long)i,
                (unsigned long long)n);
        v[i] = strtoull(line + 1, &line, 10);
    }
    free(text);
    uint64_t skip = n / 10, m = n - skip;
    qsort(v + skip, m, sizeof *v, cmp_u64);
    const uint64_t *s = v + skip;
    latency r = {
        .rate = rate,
        .p50_us = (double)s[m / 2] / 1e3,
        .p99_us = (double)s[(size_t)((double)m * 0.99)] / 1e3,
        .p999_us = (double)s[(size_t)((double)m * 0.999)] / 1e3,
        .max_us = (double)s[m - 1] / 1e3,
    };
    free(v);
    return r;
}

/* Publish n stamped messages at a steady rate to a hub (sole member) whose
 * probe consumer records now - stamp for each: publish to consumer, the
 * hub's receive, queue and worker hand-over included. */
static latency hub_latency(void *ctx, const pool *p, uint64_t n, double rate)
{
    char out[256], consumer[512];
    run_path(out, sizeof out, "latency");
    snprintf(consumer, sizeof consumer, "plugin:%s,out=%s,count=%llu,stamps", HS_BENCH_PROBE_PLUGIN,
             out, (unsigned long long)n);
    int port;
    void *pub = hub_with_publisher(ctx, &port, "a", consumer, "100000");
    send_paced(pub, p, n, rate, true);
    uint64_t done;
    char *text = wait_probe(out, 60, &done);
    hub_stop(true);
    zmq_close(pub);
    return latency_of(text, n, rate);
}

/* The same for the bare loop, as a baseline: what libzmq and this machine
 * give without the hub. */
static latency bare_latency(void *ctx, const pool *p, uint64_t n, double rate)
{
    uint64_t t0;
    return latency_of(bare_run(ctx, p, n, rate, true, &t0), n, rate);
}

static double rss_bytes(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    double kib = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmRSS: %lf", &kib) == 1)
            break;
    if (f != NULL)
        fclose(f);
    if (kib < 0)
        die("cannot read the hub's RSS");
    return kib * 1024;
}

/* Memory per queued message: the probe consumer holds its first message
 * until told to go on, so every later one stays queued. Messages are sent at
 * a pace the ingress keeps up with (so libzmq's pipes stay nearly empty and
 * what grows is the hub's queue), after a first batch that warms the
 * allocator up. The growth of the hub's RSS over n messages, over n. */
static double bytes_per_queued(void *ctx, const pool *p, uint64_t n)
{
    char release[256], consumer[512], queue[32];
    run_path(release, sizeof release, "release");
    snprintf(consumer, sizeof consumer, "plugin:%s,hold=%s", HS_BENCH_PROBE_PLUGIN, release);
    snprintf(queue, sizeof queue, "%llu", (unsigned long long)(n + 2000));
    int port;
    void *pub = hub_with_publisher(ctx, &port, "a", consumer, queue);
    send_paced(pub, p, 1000, 50000, false);
    wait_metric(port, "hashspace_consumer_backlog", 1000, 20);
    sleep_ns(100000000);
    double before = rss_bytes(hub_pid);
    send_paced(pub, p, n, 50000, false);
    wait_metric(port, "hashspace_consumer_backlog", (double)(n + 1000), 60);
    sleep_ns(100000000);
    double after = rss_bytes(hub_pid);
    FILE *f = fopen(release, "w");
    if (f != NULL)
        fclose(f);
    hub_stop(false);
    unlink(release);
    zmq_close(pub);
    return (after - before) / (double)n;
}

/* --skipped: alternating bare-loop and skipping-hub runs on 300-byte
 * messages; medians of the CPU per message and of the per-run ratios. */
static int skipped_main(void *ctx, uint64_t count, unsigned repeat, double rate)
{
    pool p;
    pool_build(&p, 300);
    double *bc = calloc(repeat, sizeof *bc), *hc = calloc(repeat, sizeof *hc),
           *r = calloc(repeat, sizeof *r), share = 0;
    if (bc == NULL || hc == NULL || r == NULL)
        die("out of memory");
    for (unsigned k = 0; k < repeat; k++) {
        rate_run br, hr;
        if (k % 2 == 0) {
            br = bare_rate(ctx, &p, count, rate);
            hr = hub_skipped_rate(ctx, &p, count, rate, &share);
        } else {
            hr = hub_skipped_rate(ctx, &p, count, rate, &share);
            br = bare_rate(ctx, &p, count, rate);
        }
        bc[k] = br.cpu_ns, hc[k] = hr.cpu_ns, r[k] = hr.cpu_ns / br.cpu_ns;
        fprintf(stderr,
                "hub_ingest: skipped run %u: bare %.0f ns CPU each, hub (--key %s, %.2f%% "
                "skipped) %.0f ns CPU each: %.2fx\n",
                k + 1, bc[k], hub_key, 100 * share, hc[k], r[k]);
    }
    double b = median(bc, repeat), h = median(hc, repeat), q = median(r, repeat);
    char fed[64] = "as fast as they take them";
    if (rate > 0)
        snprintf(fed, sizeof fed, "at %.0f msg/s", rate);
    printf("skipped 300-byte messages, --key %s, fed %s: CPU per message (all threads) hub "
           "%.0f ns, bare loop %.0f ns: %.2fx (median of %u runs' ratios %.2fx; goal <= 1.3x)\n",
           hub_key, fed, h, b, h / b, repeat, q);
    free(bc);
    free(hc);
    free(r);
    pool_free(&p);
    zmq_ctx_term(ctx);
    rmdir(run_dir);
    return 0;
}

/* CURVE on or off for the hub runs that follow: the publisher a CURVE
 * server, the hub its client (the hub takes the keys as Z85 text). */
static void set_curve(bool on)
{
    if (curve_keys[0][0] == '\0' && (zmq_curve_keypair(curve_keys[0], curve_keys[1]) != 0 ||
                                     zmq_curve_keypair(curve_keys[2], curve_keys[3]) != 0))
        die("zmq_curve_keypair: %s (no CURVE in this libzmq?)", zmq_strerror(errno));
    pub_curve_secret = on ? curve_keys[1] : NULL;
    hub_curve_server = on ? curve_keys[0] : NULL;
    hub_curve_secret = on ? curve_keys[3] : NULL;
}

/* --curve: alternating hub runs with CURVE off and on, 200-byte and 2 KiB
 * messages; medians of the rates, of the CPU per message and of the
 * per-run on/off ratios. */
static int curve_main(void *ctx, uint64_t count, unsigned repeat, bool markdown)
{
    static const size_t sizes[] = {200, 2048};
    double *off = calloc(repeat, sizeof *off), *on = calloc(repeat, sizeof *on),
           *r = calloc(repeat, sizeof *r), *offc = calloc(repeat, sizeof *offc),
           *onc = calloc(repeat, sizeof *onc);
    if (off == NULL || on == NULL || r == NULL || offc == NULL || onc == NULL)
        die("out of memory");
    if (markdown)
        printf("| messages | CURVE off | CURVE on | on / off (runs) | CPU per message off, on |\n"
               "| --- | --- | --- | --- | --- |\n");
    for (int i = 0; i < 2; i++) {
        pool p;
        pool_build(&p, sizes[i]);
        for (unsigned k = 0; k < repeat; k++) {
            rate_run a, b;
            if (k % 2 == 0) {
                set_curve(false), a = hub_rate(ctx, &p, count);
                set_curve(true), b = hub_rate(ctx, &p, count);
            } else {
                set_curve(true), b = hub_rate(ctx, &p, count);
                set_curve(false), a = hub_rate(ctx, &p, count);
            }
            off[k] = a.rate, offc[k] = a.cpu_ns, on[k] = b.rate, onc[k] = b.cpu_ns;
            r[k] = on[k] / off[k];
            fprintf(stderr,
                    "hub_ingest: %zu-byte run %u: CURVE off %.0f msg/s (%.0f ns CPU each), on "
                    "%.0f msg/s (%.0f ns CPU each): %.0f%%\n",
                    sizes[i], k + 1, off[k], offc[k], on[k], onc[k], 100 * r[k]);
        }
        double lo = r[0], hi = r[0];
        for (unsigned k = 1; k < repeat; k++)
            lo = r[k] < lo ? r[k] : lo, hi = r[k] > hi ? r[k] : hi;
        double mo = median(off, repeat), mn = median(on, repeat), q = median(r, repeat);
        double co = median(offc, repeat), cn = median(onc, repeat);
        if (markdown)
            printf("| %zu bytes | %.0f msg/s | %.0f msg/s | %.2fx (%.2f-%.2f) | %.0f ns, %.0f ns "
                   "|\n",
                   sizes[i], mo, mn, q, lo, hi, co, cn);
        else
            printf("ingest, %zu-byte messages: CURVE off %.0f msg/s, on %.0f msg/s: on/off %.2fx "
                   "(median of %u runs' ratios; runs %.2f-%.2f); CPU per message (all threads) "
                   "off %.0f ns, on %.0f ns\n",
                   sizes[i], mo, mn, q, repeat, lo, hi, co, cn);
        pool_free(&p);
    }
    free(off), free(on), free(r), free(offc), free(onc);
    zmq_ctx_term(ctx);
    rmdir(run_dir);
    return 0;
}

/* --- paced: CPU per message at a steady rate, per thread, and idle --- */

typedef struct paced_run {
    double full_ns, paced_ns, bare_paced_ns, idle_ms_per_s, wakeups;
    latency lat;
} paced_run;

/* One round: the hub at full speed (CPU per message), then a fresh hub fed
 * n stamped messages at rate (CPU per message, per thread, latency), then
 * left idle for idle_s; and the bare loop at the same rate. */
static paced_run paced_once(void *ctx, const pool *p, uint64_t full_n, uint64_t n, double rate,
                            double idle_s)
{
    paced_run r = {0};
    r.full_ns = hub_rate(ctx, p, full_n).cpu_ns;

    char out[256], consumer[512];
    run_path(out, sizeof out, "paced");
    snprintf(consumer, sizeof consumer, "plugin:%s,out=%s,count=%llu,stamps", HS_BENCH_PROBE_PLUGIN,
             out, (unsigned long long)n);
    int port;
    void *pub = hub_with_publisher(ctx, &port, "a", consumer, "100000");
    thread_cpu t0[MAX_THREADS], t1[MAX_THREADS], d[MAX_THREADS];
    size_t n0 = threads_cpu(hub_pid, t0, MAX_THREADS);
    uint64_t cpu0 = cpu_ns(hub_pid);
    send_paced(pub, p, n, rate, true);
    uint64_t done;
    char *text = wait_probe(out, 60, &done);
    uint64_t cpu = cpu_ns(hub_pid) - cpu0, sw = 0;
    size_t n1 = threads_cpu(hub_pid, t1, MAX_THREADS);
    size_t nd = threads_diff(t0, n0, t1, n1, d);
    for (size_t i = 0; i < nd; i++)
        sw += d[i].switches;
    r.paced_ns = (double)cpu / (double)n;
    r.wakeups = (double)sw / (double)n;
    threads_print("paced, per message", d, nd, (double)n);

    /* Idle: nothing published; what the hub's threads use by themselves. */
    n0 = threads_cpu(hub_pid, t0, MAX_THREADS);
    cpu0 = cpu_ns(hub_pid);
    sleep_ns((uint64_t)(idle_s * 1e9));
    cpu = cpu_ns(hub_pid) - cpu0;
    n1 = threads_cpu(hub_pid, t1, MAX_THREADS);
    nd = threads_diff(t0, n0, t1, n1, d);
    r.idle_ms_per_s = (double)cpu / 1e6 / idle_s;
    threads_print("idle, per second", d, nd, idle_s);
    hub_stop(true);
    zmq_close(pub);
    r.lat = latency_of(text, n, rate);

    uint64_t tb;
    unsigned long long bdone = 0, bcpu = 0;
    char *bare = bare_run(ctx, p, n, rate, false, &tb);
    if (sscanf(bare, "done %llu %llu", &bdone, &bcpu) != 2)
        die("bare loop: no done line");
    free(bare);
    r.bare_paced_ns = (double)bcpu / (double)n;
    return r;
}

/* --paced RATE: 200-byte messages; medians over the rounds. */
static int paced_main(void *ctx, double rate, uint64_t full_n, uint64_t n, unsigned repeat,
                      double idle_s)
{
    pool p;
    pool_build(&p, 200);
    double *full = calloc(repeat, sizeof *full), *paced = calloc(repeat, sizeof *paced),
           *ratio = calloc(repeat, sizeof *ratio), *bare = calloc(repeat, sizeof *bare),
           *idle = calloc(repeat, sizeof *idle), *p50 = calloc(repeat, sizeof *p50),
           *p99 = calloc(repeat, sizeof *p99), *wake = calloc(repeat, sizeof *wake);
    if (full == NULL || paced == NULL || ratio == NULL || bare == NULL || idle == NULL ||
        p50 == NULL || p99 == NULL || wake == NULL)
        die("out of memory");
    for (unsigned k = 0; k < repeat; k++) {
        paced_run r = paced_once(ctx, &p, full_n, n, rate, idle_s);
        full[k] = r.full_ns, paced[k] = r.paced_ns, ratio[k] = r.paced_ns / r.full_ns;
        bare[k] = r.bare_paced_ns, idle[k] = r.idle_ms_per_s, wake[k] = r.wakeups;
        p50[k] = r.lat.p50_us, p99[k] = r.lat.p99_us;
        fprintf(stderr,
                "hub_ingest: paced run %u: hub %.0f ns CPU per message at %.0f msg/s (%.2f "
                "wake-ups), %.0f at full speed: %.2fx; bare loop %.0f ns at that rate; idle "
                "%.2f ms CPU/s; p50 %.0f us, p99 %.0f us\n",
                k + 1, paced[k], rate, wake[k], full[k], ratio[k], bare[k], idle[k], p50[k],
                p99[k]);
    }
    printf("paced 200-byte messages at %.0f msg/s: hub CPU per message %.0f ns (%.2f wake-ups), "
           "at full speed %.0f ns: %.2fx (goal <= 2x); bare loop at that rate %.0f ns; idle hub "
           "%.2f ms CPU per s; latency p50 %.0f us, p99 %.0f us (goal < 1 ms); medians of %u\n",
           rate, median(paced, repeat), median(wake, repeat), median(full, repeat),
           median(ratio, repeat), median(bare, repeat), median(idle, repeat), median(p50, repeat),
           median(p99, repeat), repeat);
    free(full);
    free(paced);
    free(ratio);
    free(bare);
    free(idle);
    free(p50);
    free(p99);
    free(wake);
    pool_free(&p);
    zmq_ctx_term(ctx);
    rmdir(run_dir);
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: hub_ingest [--hub PATH] [--quick] [--count N] [--latency-count N]\n"
            "                  [--memory-count N] [--repeat N] [--markdown] [--ingest-only]\n"
            "                  [--skipped KEY] [--paced RATE] [--curve]\n\n"
            "Measure a real `hashspace hub` on loopback. One publisher (this program,\n"
            "an XPUB socket sending pre-built fedmsg bodies) feeds in turn a bare libzmq\n"
            "SUB receive loop (a process of its own) and the hub (the only member, one\n"
            "worker, a consumer plugin that counts); both are timed from the first send\n"
            "to the last message received (bare) or processed by the consumer (hub).\n"
            "Reported: ingest rate for 200-byte and 2 KiB messages, medians of --repeat\n"
            "alternating runs and the median of the per-run hub / bare ratios (goal: at\n"
            "least 80%%); publish-to-consumer latency at half the hub's median rate for\n"
            "each size and at 1,000 msg/s (goal: p99 under 1 ms); the hub's RSS growth\n"
            "per queued message, less the message's topic and body (goal: under 100 bytes).\n\n"
            "  --hub PATH          the hashspace binary (default %s)\n"
            "  --quick             tiny counts: a smoke test, the figures mean little\n"
            "  --count N           messages per rate run (default 300000)\n"
            "  --latency-count N   messages per latency run (default 100000)\n"
            "  --memory-count N    queued messages in the memory run (default 100000)\n"
            "  --repeat N          rate runs per size and side (default 5)\n"
            "  --ingest-only       only the rate runs (to compare two builds)\n"
            "  --skipped KEY       only this: CPU per message of a hub that owns almost\n"
            "                      none of the 300-byte messages (key KEY, e.g.\n"
            "                      json:/msg/user) against the bare loop (goal: 1.3x);\n"
            "                      with --paced RATE both are fed at RATE msg/s\n"
            "  --curve             only this: hub ingest with CURVE off and on (the\n"
            "                      publisher a CURVE server, the hub its client), same\n"
            "                      run, alternating; the ratio on/off\n"
            "  --paced RATE        only this: CPU per message (per thread) of a hub fed\n"
            "                      --latency-count 200-byte messages at RATE msg/s,\n"
            "                      against its CPU per message at full speed (--count;\n"
            "                      goal <= 2x), its CPU when idle, p50/p99 latency\n"
            "  --markdown          print the results as a Markdown table\n",
            HS_BENCH_HUB_BIN);
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "--bare-receiver") == 0)
        return bare_receiver_main(argv[2], strtoull(argv[3], NULL, 10), argc > 4);
    static const struct option options[] = {
        {"hub", required_argument, NULL, 'b'},
        {"quick", no_argument, NULL, 'q'},
        {"count", required_argument, NULL, 'n'},
        {"latency-count", required_argument, NULL, 'l'},
        {"memory-count", required_argument, NULL, 'M'},
        {"markdown", no_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {"repeat", required_argument, NULL, 'R'},
        {"ingest-only", no_argument, NULL, 'I'},
        {"skipped", required_argument, NULL, 'S'},
        {"curve", no_argument, NULL, 'C'},
        {"paced", required_argument, NULL, 'P'},
        {NULL, 0, NULL, 0},
    };
    hub_bin = HS_BENCH_HUB_BIN;
    uint64_t count = 300000, lat_count = 100000, mem_count = 100000;
    bool markdown = false, ingest_only = false, curve = false, quick = false;
    unsigned repeat = 5;
    double paced_rate = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'b':
            hub_bin = optarg;
            break;
        case 'q':
            count = 20000, lat_count = 2000, mem_count = 5000, repeat = 1, quick = true;
            break;
        case 'n':
            count = strtoull(optarg, NULL, 10);
            break;
        case 'l':
            lat_count = strtoull(optarg, NULL, 10);
            break;
        case 'M':
            mem_count = strtoull(optarg, NULL, 10);
            break;
        case 'm':
            markdown = true;
            break;
        case 'R':
            repeat = (unsigned)strtoul(optarg, NULL, 10);
            repeat = repeat ? repeat : 1;
            break;
        case 'I':
            ingest_only = true;
            break;
        case 'S':
            hub_key = optarg;
            break;
        case 'C':
            curve = true;
            break;
        case 'P':
            paced_rate = strtod(optarg, NULL);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (count < 1000 || lat_count < 100 || mem_count < 1000) {
        fprintf(stderr, "hub_ingest: --count and --memory-count at least 1000, "
                        "--latency-count at least 100\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    /* Sleeps as short as asked for (the default slack is 50 us). */
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    if (mkdtemp(run_dir) == NULL)
        die("mkdtemp: %s", strerror(errno));
    void *ctx = zmq_ctx_new();
    if (hub_key != NULL)
        return skipped_main(ctx, count, repeat, paced_rate);
    if (paced_rate > 0)
        return paced_main(ctx, paced_rate, count, lat_count, repeat, quick ? 0.5 : 3);
    if (curve)
        return curve_main(ctx, count, repeat, markdown);
    static const size_t sizes[] = {200, 2048};
    double bare[2], hub[2], ratio[2], ratio_lo[2], ratio_hi[2], bare_cpu[2], hub_cpu[2];
    latency lat[3], bare_lat[3];
    double *b = calloc(repeat, sizeof *b), *h = calloc(repeat, sizeof *h),
           *r = calloc(repeat, sizeof *r), *bc = calloc(repeat, sizeof *bc),
           *hc = calloc(repeat, sizeof *hc);
    if (b == NULL || h == NULL || r == NULL || bc == NULL || hc == NULL)
        die("out of memory");
    double msg_size = 0;
    for (int i = 0; i < 2; i++) {
        pool p;
        pool_build(&p, sizes[i]);
        /* Alternate which side goes first, so that a drift in the machine's
         * load touches both alike; each ratio compares neighbouring runs. */
        for (unsigned k = 0; k < repeat; k++) {
            rate_run br, hr;
            if (k % 2 == 0) {
                br = bare_rate(ctx, &p, count, 0);
                hr = hub_rate(ctx, &p, count);
            } else {
                hr = hub_rate(ctx, &p, count);
                br = bare_rate(ctx, &p, count, 0);
            }
            b[k] = br.rate, bc[k] = br.cpu_ns, h[k] = hr.rate, hc[k] = hr.cpu_ns;
            r[k] = h[k] / b[k];
            fprintf(stderr,
                    "hub_ingest: %zu-byte run %u: bare %.0f msg/s (%.0f ns CPU each), hub %.0f "
                    "msg/s (%.0f ns CPU each): %.0f%%\n",
                    sizes[i], k + 1, b[k], bc[k], h[k], hc[k], 100 * r[k]);
        }
        bare[i] = median(b, repeat);
        hub[i] = median(h, repeat);
        bare_cpu[i] = median(bc, repeat);
        hub_cpu[i] = median(hc, repeat);
        ratio[i] = median(r, repeat);
        ratio_lo[i] = r[0];
        ratio_hi[i] = r[repeat - 1];
        if (ingest_only) {
            fprintf(stderr,
                    "hub_ingest: %zu-byte median: bare %.0f, hub %.0f msg/s, ratio %.0f%%; CPU "
                    "per message: bare %.0f ns, hub %.0f ns\n",
                    sizes[i], bare[i], hub[i], 100 * ratio[i], bare_cpu[i], hub_cpu[i]);
            pool_free(&p);
            continue;
        }
        lat[i] = hub_latency(ctx, &p, lat_count, hub[i] / 2);
        bare_lat[i] = bare_latency(ctx, &p, lat_count, hub[i] / 2);
        lat[i].size = bare_lat[i].size = sizes[i];
        fprintf(stderr, "hub_ingest: %zu-byte latency at %.0f msg/s: p50 %.0f us, p99 %.0f us\n",
                sizes[i], lat[i].rate, lat[i].p50_us, lat[i].p99_us);
        if (i == 0) {
            /* and at a bus's everyday pace, a thousand messages a second */
            uint64_t slow_count = lat_count / 20 > 100 ? lat_count / 20 : 100;
            lat[2] = hub_latency(ctx, &p, slow_count, 1000);
            bare_lat[2] = bare_latency(ctx, &p, slow_count, 1000);
            lat[2].size = bare_lat[2].size = sizes[i];
            for (size_t k = 0; k < POOL_SIZE; k++)
                msg_size += (double)(sizeof TOPIC - 1 + p.len[k]) / POOL_SIZE;
        }
        pool_free(&p);
    }
    free(b);
    free(h);
    free(r);
    free(bc);
    free(hc);
    if (ingest_only) {
        zmq_ctx_term(ctx);
        rmdir(run_dir);
        return 0;
    }
    pool p;
    pool_build(&p, 200);
    double per_msg = bytes_per_queued(ctx, &p, mem_count);
    pool_free(&p);
    zmq_ctx_term(ctx);
    rmdir(run_dir);

    const char *fmt_row = markdown ? "| %s | %s |\n" : "%-44s %s\n";
    if (markdown)
        printf("| measure | result |\n| --- | --- |\n");
    char what[96], v[200];
    for (int i = 0; i < 2; i++) {
        snprintf(what, sizeof what, "ingest, %zu-byte messages", sizes[i]);
        snprintf(v, sizeof v,
                 "hub %.0f msg/s, bare loop %.0f msg/s: %.0f%% (runs %.0f-%.0f%%; goal >= 80%%)",
                 hub[i], bare[i], 100 * ratio[i], 100 * ratio_lo[i], 100 * ratio_hi[i]);
        printf(fmt_row, what, v);
        snprintf(v, sizeof v, "CPU per message (all threads): hub %.0f ns, bare loop %.0f ns",
                 hub_cpu[i], bare_cpu[i]);
        printf(fmt_row, "", v);
    }
    for (int i = 0; i < 3; i++) {
        snprintf(what, sizeof what, "latency, %zu-byte messages at %.0f msg/s", lat[i].size,
                 lat[i].rate);
        snprintf(v, sizeof v,
                 "hub p50 %.0f us, p99 %.0f us, p99.9 %.0f us, max %.0f us (goal p99 < 1 ms)",
                 lat[i].p50_us, lat[i].p99_us, lat[i].p999_us, lat[i].max_us);
        printf(fmt_row, what, v);
        snprintf(v, sizeof v, "bare loop p50 %.0f us, p99 %.0f us, p99.9 %.0f us, max %.0f us",
                 bare_lat[i].p50_us, bare_lat[i].p99_us, bare_lat[i].p999_us, bare_lat[i].max_us);
        printf(fmt_row, "", v);
    }
    snprintf(v, sizeof v,
             "%.0f bytes of RSS per queued message, %.0f beyond its %.0f-byte topic and body "
             "(%llu queued; goal < 100)",
             per_msg, per_msg - msg_size, msg_size, (unsigned long long)mem_count);
    printf(fmt_row, "memory per queued message", v);
    return 0;
}
