/* sink_exec.c - the exec consumer kind (`exec:COMMAND ARGS...`): a
 * long-running child process, in any language, that reads one JSON line per
 * message on its stdin and answers one line per message on its stdout. The
 * protocol is in docs/protocol.md, "exec consumers".
 *
 * DESIGN: each consumer worker thread opens its own instance, so each worker
 * has its own child; an instance, its child and its pipes are touched by that
 * thread only and need no lock. Shared with other threads are env->restarts
 * (a C11 atomic, bumped here, read by the metrics), env->child_pgid (the
 * child's process group, published here for the main thread, which signals
 * it when this worker is stuck at shutdown) and the process-wide
 * SIGPIPE disposition: open sets it to SIG_IGN when it is still SIG_DFL,
 * since a write to a dead child must fail with EPIPE, not kill the hub.
 *
 * A child that dies, hangs past the timeout or breaks the protocol is stopped
 * at once and started again lazily, by the next consume. A child that gave
 * at least one answer (ok or fail) since it started, or lived 10 s, proved
 * it works: its successor starts at once and the backoff starts over. One
 * that failed before answering anything is followed by a backoff that
 * doubles from 100 ms to 5 s, so a child that cannot start is not respawned
 * in a tight loop, while one that crashes on 1% of messages costs one spawn
 * per crash, not seconds.
 */
#include "child.h"
#include "clock.h"
#include "jsonline.h"
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXEC_BACKOFF_MIN_S 0.1
#define EXEC_BACKOFF_MAX_S 5.0
#define EXEC_HEALTHY_S 10.0   /* a child that lived this long resets the backoff... */
#define EXEC_EOF_GRACE_S 2.0  /* at close: time to exit after EOF on stdin */
#define EXEC_TERM_GRACE_S 1.0 /* then after SIGTERM, before SIGKILL */
#define EXEC_KILL_GRACE_S 0.5 /* timeout or protocol error: SIGTERM, this, SIGKILL */
#define EXEC_MAX_ANSWER 65536 /* longest answer line accepted, its newline not counted */

typedef struct exec_sink {
    char **argv;      /* one allocation, from hs__argv_split */
    char **envp;      /* NULL-terminated, every string owned */
    double timeout_s; /* 0 = wait for ever */
    atomic_uint_fast64_t *restarts;
    atomic_int *child_pgid; /* env->child_pgid, may be NULL */
    hs__child child;
    int ever_started;    /* later spawns are restarts */
    double started_s;    /* monotonic time the current child was spawned */
    uint64_t answered;   /* ...and so does one that answered since it started */
    double backoff_s;    /* delay before the next restart */
    double restart_at_s; /* no spawn before this monotonic time */
    char *answer;        /* bytes read from the child, not yet consumed */
    size_t answer_len, answer_cap;
    hs__jsonline request; /* the request line, reused for every message */
} exec_sink;

static void sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void ignore_sigpipe(void)
{
    struct sigaction old;
    if (sigaction(SIGPIPE, NULL, &old) != 0)
        return;
    if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL) {
        struct sigaction ign;
        memset(&ign, 0, sizeof ign);
        ign.sa_handler = SIG_IGN;
        sigemptyset(&ign.sa_mask);
        sigaction(SIGPIPE, &ign, NULL);
    }
}

static void free_envp(char **envp)
{
    if (envp == NULL)
        return;
    for (char **e = envp; *e != NULL; e++)
        free(*e);
    free(envp);
}

/* The hub's environment, without any HASHSPACE_CONSUMER / HASHSPACE_WORKER
 * it had, plus this consumer's. */
static char **build_envp(const char *consumer, unsigned worker)
{
    extern char **environ;
    size_t n = 0;
    for (char **e = environ; e != NULL && *e != NULL; e++)
        n++;
    char **envp = calloc(n + 3, sizeof *envp);
    if (envp == NULL)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(environ[i], "HASHSPACE_CONSUMER=", 19) == 0 ||
            strncmp(environ[i], "HASHSPACE_WORKER=", 17) == 0)
            continue;
        if ((envp[k++] = strdup(environ[i])) == NULL)
            goto fail;
    }
    if (asprintf(&envp[k++], "HASHSPACE_CONSUMER=%s", consumer != NULL ? consumer : "") < 0 ||
        asprintf(&envp[k++], "HASHSPACE_WORKER=%u", worker) < 0) {
        envp[k - 1] = NULL;
        goto fail;
    }
    return envp;
fail:
    free_envp(envp);
    return NULL;
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* hs__child_stop, after withdrawing the child's process group from the main
 * thread: once reaped, its pid may belong to another process. */
static void child_stop(exec_sink *s, double eof_grace_s, double term_grace_s, int *status)
{
    if (s->child_pgid != NULL)
        atomic_store_explicit(s->child_pgid, 0, memory_order_release);
    hs__child_stop(&s->child, eof_grace_s, term_grace_s, status);
}

/* Spawn now, or after the backoff when a child died recently. */
static int start_child(exec_sink *s, char *err, size_t errlen)
{
    sleep_s(s->restart_at_s - hs__monotonic_s());
    int rc = hs__child_spawn(&s->child, s->argv, s->envp, err, errlen);
    if (rc == HS_OK && s->child_pgid != NULL)
        atomic_store_explicit(s->child_pgid, (int)s->child.pid, memory_order_release);
    if (rc == HS_OK && (set_nonblock(s->child.in_fd) != 0 || set_nonblock(s->child.out_fd) != 0)) {
        snprintf(err, errlen, "fcntl: %s", strerror(errno));
        child_stop(s, 0, 0, NULL);
        rc = HS_ESYSTEM;
    }
    if (rc != HS_OK) {
        s->restart_at_s = hs__monotonic_s() + s->backoff_s;
        s->backoff_s = fmin(s->backoff_s * 2, EXEC_BACKOFF_MAX_S);
        return rc;
    }
    if (s->ever_started && s->restarts != NULL)
        atomic_fetch_add_explicit(s->restarts, 1, memory_order_relaxed);
    s->ever_started = 1;
    s->started_s = hs__monotonic_s();
    s->answered = 0;
    s->answer_len = 0;
    return HS_OK;
}

/* Stop the current child (it died, hung or broke the protocol) and schedule
 * the next start. why gets how it ended. */
static void stop_child(exec_sink *s, double eof_grace_s, char *why, size_t whylen)
{
    pid_t pid = s->child.pid;
    int status;
    child_stop(s, eof_grace_s, EXEC_KILL_GRACE_S, &status);
    char how[96];
    hs__child_describe(status, how, sizeof how);
    snprintf(why, whylen, "child %ld %s", (long)pid, how);
    double now = hs__monotonic_s();
    if (s->answered > 0 || now - s->started_s >= EXEC_HEALTHY_S) {
        s->backoff_s = EXEC_BACKOFF_MIN_S;
        s->restart_at_s = now;
    } else {
        s->restart_at_s = now + s->backoff_s;
        s->backoff_s = fmin(s->backoff_s * 2, EXEC_BACKOFF_MAX_S);
    }
    s->answer_len = 0;
}

static void exec_close(void *state)
{
    exec_sink *s = state;
    if (s == NULL)
        return;
    child_stop(s, EXEC_EOF_GRACE_S, EXEC_TERM_GRACE_S, NULL);
    free(s->argv);
    free_envp(s->envp);
    free(s->answer);
    hs__jsonline_free(&s->request);
    free(s);
}

static int exec_open(void **state, const char *arg, const hs__sink_env *env, char *err,
                     size_t errlen)
{
    *state = NULL;
    exec_sink *s = calloc(1, sizeof *s);
    if (s == NULL)
        return HS_ENOMEM;
    s->child = (hs__child)HS__CHILD_NONE;
    s->backoff_s = EXEC_BACKOFF_MIN_S;
    s->timeout_s = env != NULL ? env->timeout_s : 0;
    s->restarts = env != NULL ? env->restarts : NULL;
    s->child_pgid = env != NULL ? env->child_pgid : NULL;
    char why[512];
    int rc = hs__argv_split(arg != NULL ? arg : "", &s->argv, NULL, why, sizeof why);
    if (rc != HS_OK) {
        if (rc != HS_ENOMEM)
            snprintf(err, errlen, "exec: %s", why);
        exec_close(s);
        return rc;
    }
    s->envp = build_envp(env != NULL ? env->consumer : NULL, env != NULL ? env->worker : 0);
    if (s->envp == NULL) {
        exec_close(s);
        return HS_ENOMEM;
    }
    ignore_sigpipe();
    rc = start_child(s, why, sizeof why);
    if (rc != HS_OK) {
        snprintf(err, errlen, "exec: %s", why);
        exec_close(s);
        return rc;
    }
    *state = s;
    return HS_OK;
}

/* The request line in s->request: the message by the one rule of
 * jsonline.h, then the attempt and when the hub received it. */
static int build_request(exec_sink *s, const hs_message *msg, const char **line, size_t *len)
{
    char received[32];
    int n = snprintf(received, sizeof received, "%.6f", (double)msg->received_ns / 1e9);
    hs__jsonline_start(&s->request);
    hs__jsonline_message(&s->request, msg->topic != NULL ? msg->topic : "", msg->topic_len,
                         msg->body != NULL ? msg->body : "", msg->body_len, true);
    hs__jsonline_int(&s->request, "attempt", msg->attempt);
    hs__jsonline_raw(&s->request, "received", received, (size_t)n);
    return hs__jsonline_end(&s->request, line, len) == 0 ? HS_OK : HS_ENOMEM;
}

/* Read what the child has written. 1 on data, 0 on EOF, -1 when nothing is
 * there yet, -2 when the answer line is too long: more than EXEC_MAX_ANSWER
 * bytes before its newline. */
static int read_answer(exec_sink *s)
{
    if (s->answer_cap - s->answer_len < 4096) {
        /* The buffer holds a longest line, its newline and one more read. */
        if (s->answer_cap >= EXEC_MAX_ANSWER + 1 + 4096)
            return -2;
        size_t cap = s->answer_cap ? s->answer_cap * 2 : 8192;
        if (cap > EXEC_MAX_ANSWER + 1 + 4096)
            cap = EXEC_MAX_ANSWER + 1 + 4096;
        char *p = realloc(s->answer, cap);
        if (p == NULL)
            return -2;
        s->answer = p;
        s->answer_cap = cap;
    }
    ssize_t n = read(s->child.out_fd, s->answer + s->answer_len, s->answer_cap - s->answer_len);
    if (n > 0) {
        s->answer_len += (size_t)n;
        const char *nl = memchr(s->answer, '\n', s->answer_len);
        size_t line = nl != NULL ? (size_t)(nl - s->answer) : s->answer_len;
        return line > EXEC_MAX_ANSWER ? -2 : 1;
    }
    if (n == 0)
        return 0;
    if (errno == EAGAIN || errno == EINTR)
        return -1;
    return 0; /* a broken pipe is a dead child */
}

static char *find_newline(const exec_sink *s)
{
    return s->answer_len > 0 ? memchr(s->answer, '\n', s->answer_len) : NULL;
}

/* Is the idle child still alive and in step? A child that died or wrote
 * while it had no message is stopped and started again; the message about to
 * be sent is not charged for it. */
static int check_idle_child(exec_sink *s, char *err, size_t errlen)
{
    char why[160];
    struct pollfd pfd = {.fd = s->child.out_fd, .events = POLLIN};
    if (s->answer_len == 0 && poll(&pfd, 1, 0) <= 0)
        return HS_OK;
    int r = s->answer_len > 0 ? 1 : read_answer(s);
    if (r == -1)
        return HS_OK;
    stop_child(s, r == 0 ? EXEC_KILL_GRACE_S : 0, why, sizeof why);
    int rc = start_child(s, err, errlen);
    return rc;
}

int hs__exec_parse_answer(char *line, char *err, size_t errlen)
{
    while (*line == ' ' || *line == '\t')
        line++;
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (strcmp(line, "ok") == 0)
        return HS_OK;
    if (strncmp(line, "fail", 4) == 0 && (line[4] == '\0' || line[4] == ' ' || line[4] == '\t')) {
        const char *reason = line + 4;
        while (*reason == ' ' || *reason == '\t')
            reason++;
        snprintf(err, errlen, "consumer failed: %s", *reason ? reason : "(no reason given)");
        return HS_EIO;
    }
    if (line[0] == '{') {
        json_t *obj = json_loads(line, 0, NULL);
        json_t *ok = json_object_get(obj, "ok");
        if (json_is_boolean(ok)) {
            int rc = HS_OK;
            if (!json_is_true(ok)) {
                const char *reason = json_string_value(json_object_get(obj, "error"));
                snprintf(err, errlen, "consumer failed: %s",
                         reason != NULL && *reason ? reason : "(no reason given)");
                rc = HS_EIO;
            }
            json_decref(obj);
            return rc;
        }
        json_decref(obj);
    }
    snprintf(err, errlen,
             "protocol error: answer '%.120s%s' is none of ok, fail [REASON], "
             "{\"ok\": true} or {\"ok\": false, \"error\": \"...\"}",
             line, n > 120 ? "..." : "");
    return HS_EPARSE;
}

static int exec_consume(void *state, const hs_message *msg, char *err, size_t errlen)
{
    exec_sink *s = state;
    char why[160];
    int rc = s->child.pid < 0 ? start_child(s, err, errlen) : check_idle_child(s, err, errlen);
    if (rc != HS_OK)
        return rc;

    const char *line;
    size_t len, off = 0;
    if ((rc = build_request(s, msg, &line, &len)) != HS_OK) {
        snprintf(err, errlen, "cannot encode the message as JSON");
        return rc;
    }
    double deadline = s->timeout_s > 0 ? hs__monotonic_s() + s->timeout_s : 0;
    char *nl = NULL;
    for (;;) {
        nl = find_newline(s);
        if (nl != NULL)
            break;
        struct pollfd pfd[2];
        nfds_t n = 0;
        pfd[n++] = (struct pollfd){.fd = s->child.out_fd, .events = POLLIN};
        if (off < len)
            pfd[n++] = (struct pollfd){.fd = s->child.in_fd, .events = POLLOUT};
        int wait_ms = -1;
        if (deadline > 0) {
            double left = deadline - hs__monotonic_s();
            wait_ms = left <= 0 ? 0 : (int)ceil(left * 1000);
        }
        int r = poll(pfd, n, wait_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0) {
            stop_child(s, 0, why, sizeof why);
            snprintf(err, errlen, "no answer within %g s; %s, to be restarted", s->timeout_s, why);
            return HS_ETIMEOUT;
        }
        if (r < 0) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            stop_child(s, 0, why, sizeof why);
            return HS_ESYSTEM;
        }
        int dead = 0;
        if (n > 1 && pfd[1].revents != 0) {
            ssize_t w = write(s->child.in_fd, line + off, len - off);
            if (w > 0)
                off += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EINTR)
                dead = 1; /* EPIPE: it closed its stdin or exited */
        }
        if (pfd[0].revents != 0) {
            int got = read_answer(s);
            if (got == -2) {
                stop_child(s, 0, why, sizeof why);
                snprintf(err, errlen,
                         "protocol error: answer line longer than %d bytes (64 KiB); %s",
                         EXEC_MAX_ANSWER, why);
                return HS_EPARSE;
            }
            if (got == 0)
                dead = 1;
        }
        if (dead && find_newline(s) == NULL) {
            stop_child(s, EXEC_KILL_GRACE_S, why, sizeof why);
            snprintf(err, errlen, "%s before answering", why);
            return HS_EIO;
        }
    }
    *nl = '\0';
    size_t used = (size_t)(nl - s->answer) + 1;
    rc = hs__exec_parse_answer(s->answer, err, errlen);
    if (rc != HS_EPARSE && off == len)
        s->answered++;
    memmove(s->answer, s->answer + used, s->answer_len - used);
    s->answer_len -= used;
    if (rc == HS_EPARSE || off < len) {
        /* Hub and child no longer agree which answer goes with which
         * message: start a fresh child. */
        if (rc != HS_EPARSE)
            snprintf(err, errlen, "protocol error: answered before reading the whole message");
        size_t used_err = strlen(err);
        stop_child(s, 0, why, sizeof why);
        snprintf(err + used_err, errlen > used_err ? errlen - used_err : 0, "; %s, to be restarted",
                 why);
        return HS_EPARSE;
    }
    return rc;
}

const hs__sink_ops hs__sink_exec = {
    .kind = "exec",
    .open = exec_open,
    .consume = exec_consume,
    .close = exec_close,
};
