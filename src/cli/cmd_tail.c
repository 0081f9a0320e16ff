/* cmd_tail.c - `hashspace tail`: subscribe to a bus and print what it
 * carries, one line per message, for people (topic and body) or programs
 * (--json). Bodies that are not JSON and messages that are not two frames
 * are shown escaped, never as raw bytes that could garble a terminal. */
#include "cli_curve.h"
#include "cli_util.h"
#include "commands.h"

#include "jsonline.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define TAIL_DEFAULT_ENDPOINT "tcp://127.0.0.1:9940"
#define TAIL_MAX_ENDPOINTS 32
#define TAIL_MAX_FRAMES 64

static void tail_usage(FILE *out)
{
    fprintf(out,
            "usage: hashspace tail [--connect EP]... [--bind EP] [--subscribe PREFIX]...\n"
            "                      [--count N] [--idle-timeout S] [--json]\n"
            "                      [--curve-server-key KEY] [--curve-secret-key KEY]\n\n"
            "Subscribe to a ZeroMQ bus and print one line per message: the topic, a space\n"
            "and the body (compact JSON when it parses). A body that is not JSON is\n"
            "printed with non-printable bytes escaped (\\n, \\xNN); a message that is not\n"
            "two frames is printed as [N frames] followed by every frame, escaped.\n\n"
            "  --connect EP       connect to a publisher (repeatable; default %s)\n"
            "  --bind EP          bind instead, for publishers that connect\n"
            "  --subscribe PREFIX topic prefix to receive (repeatable; default: everything)\n"
            "  --count N          exit after N messages\n"
            "  --idle-timeout S   exit when no message arrives for S seconds\n"
            "  --json             one JSON object per line, as a file: consumer writes it:\n"
            "                     {\"topic\": ..., \"body\": ...}, the body as it came when\n"
            "                     it is JSON, else a string, else \"body_base64\"; other\n"
            "                     frame counts add \"frames\" and \"frame_count\"\n"
            "  -h, --help         this text\n",
            TAIL_DEFAULT_ENDPOINT);
    hs_cli_curve_usage(out, "publishers");
    fprintf(out, "\n"
                 "Exit status: 0 at --count, on an idle timeout, or on SIGINT/SIGTERM; 1 on\n"
                 "error; 2 on bad usage.\n\n"
                 "Example:\n"
                 "  hashspace tail --connect tcp://127.0.0.1:9940 --subscribe org.fedoraproject. "
                 "--count 10\n");
}

static volatile sig_atomic_t tail_stop;

static void tail_on_signal(int sig)
{
    (void)sig;
    tail_stop = 1;
}

/* Print bytes with anything that is not printable ASCII or valid UTF-8
 * escaped, so one message stays one line. */
static void put_escaped(FILE *out, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c == '\\') {
            fputs("\\\\", out);
        } else if (c == '\n') {
            fputs("\\n", out);
        } else if (c == '\r') {
            fputs("\\r", out);
        } else if (c == '\t') {
            fputs("\\t", out);
        } else if (c >= 0x20 && c < 0x7f) {
            putc(c, out);
        } else if (c >= 0xc2 && c <= 0xf4) {
            /* A well-formed UTF-8 sequence passes through as is. */
            size_t len = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4, k = 1;
            while (k < len && i + k < n && (p[i + k] & 0xc0) == 0x80)
                k++;
            if (k == len) {
                fwrite(p + i, 1, len, out);
                i += len - 1;
            } else {
                fprintf(out, "\\x%02x", c);
            }
        } else {
            fprintf(out, "\\x%02x", c);
        }
    }
}

typedef struct frames {
    zmq_msg_t part[TAIL_MAX_FRAMES];
    size_t n;     /* frames kept */
    size_t total; /* frames received, including any beyond the cap */
} frames;

static const unsigned char *frame_data(frames *f, size_t i)
{
    return zmq_msg_data(&f->part[i]);
}

static size_t frame_size(frames *f, size_t i)
{
    return zmq_msg_size(&f->part[i]);
}

/* Parse a frame as a JSON document; NULL if it is not one. */
static json_t *frame_json(frames *f, size_t i)
{
    return json_loadb((const char *)frame_data(f, i), frame_size(f, i), JSON_DECODE_ANY, NULL);
}

/* One message as the hub writes it (jsonline.h: topic, body by the one
 * rule); a message of other than two frames adds frame_count and every
 * frame, each a string or {"base64": ...}. */
static int print_json(hs__jsonline *j, frames *f)
{
    hs__jsonline_start(j);
    if (f->n >= 2)
        hs__jsonline_message(j, (const char *)frame_data(f, 0), frame_size(f, 0),
                             (const char *)frame_data(f, 1), frame_size(f, 1), true);
    else if (f->n == 1)
        hs__jsonline_bytes(j, "topic", (const char *)frame_data(f, 0), frame_size(f, 0));
    if (f->total != 2) {
        hs__jsonline_key(j, "frames");
        for (size_t i = 0; i < f->n; i++) {
            const char *data = (const char *)frame_data(f, i);
            hs__jsonline_append(j, i == 0 ? "[" : ",", 1);
            if (hs__json_text_ok(data, frame_size(f, i))) {
                hs__jsonline_string(j, data, frame_size(f, i));
                continue;
            }
            hs__jsonline_append(j, "{\"base64\":", 10);
            hs__jsonline_base64(j, data, frame_size(f, i));
            hs__jsonline_append(j, "}", 1);
        }
        hs__jsonline_append(j, f->n == 0 ? "[]" : "]", f->n == 0 ? 2 : 1);
        hs__jsonline_int(j, "frame_count", (long long)f->total);
    }
    const char *line;
    size_t len;
    if (hs__jsonline_end(j, &line, &len) != 0)
        return -1;
    return fwrite(line, 1, len, stdout) == len ? 0 : -1;
}

static void print_text(frames *f)
{
    if (f->total == 2) {
        put_escaped(stdout, frame_data(f, 0), frame_size(f, 0));
        putchar(' ');
        json_t *body = frame_json(f, 1);
        if (body != NULL) {
            json_dumpf(body, stdout, JSON_COMPACT | JSON_ENCODE_ANY);
            json_decref(body);
        } else {
            put_escaped(stdout, frame_data(f, 1), frame_size(f, 1));
        }
    } else {
        printf("[%zu frame%s]", f->total, f->total == 1 ? "" : "s");
        for (size_t i = 0; i < f->n; i++) {
            putchar(' ');
            put_escaped(stdout, frame_data(f, i), frame_size(f, i));
        }
        if (f->total > f->n)
            printf(" ...");
    }
    putchar('\n');
}

/* Receive one whole multipart message; 0, or -1 with errno set. */
static int recv_message(void *sock, frames *f)
{
    f->n = f->total = 0;
    int more = 1;
    while (more) {
        zmq_msg_t scratch, *m = f->n < TAIL_MAX_FRAMES ? &f->part[f->n] : &scratch;
        zmq_msg_init(m);
        if (zmq_msg_recv(m, sock, 0) < 0) {
            int e = errno;
            zmq_msg_close(m);
            if (f->total == 0) {
                errno = e;
                return -1;
            }
            /* Mid-message (only on a signal): the rest arrives atomically,
             * so retry. */
            if (e == EINTR)
                continue;
            errno = e;
            return -1;
        }
        more = zmq_msg_more(m);
        f->total++;
        if (m == &scratch)
            zmq_msg_close(m);
        else
            f->n++;
    }
    return 0;
}

static void frames_close(frames *f)
{
    for (size_t i = 0; i < f->n; i++)
        zmq_msg_close(&f->part[i]);
    f->n = 0;
}

/* Print what the socket receives until count (0: no limit), the idle
 * timeout (the socket's), a signal or an error; the exit status. */
static int tail_loop(void *sock, bool json, unsigned long long count)
{
    bool line_buffered = isatty(STDOUT_FILENO);
    unsigned long long seen = 0;
    static frames f;
    hs__jsonline line = HS__JSONLINE_INIT;
    int status = 0;
    while (!tail_stop && (count == 0 || seen < count)) {
        if (recv_message(sock, &f) != 0) {
            if (errno == EINTR)
                continue; /* the loop condition sees tail_stop */
            if (errno == EAGAIN)
                break; /* idle timeout */
            hs_cli_error("receiving: %s", zmq_strerror(errno));
            status = 1;
            break;
        }
        seen++;
        if (json && print_json(&line, &f) != 0 && !ferror(stdout)) {
            hs_cli_error("out of memory");
            status = 1;
        } else if (!json) {
            print_text(&f);
        }
        frames_close(&f);
        if (line_buffered || ferror(stdout))
            fflush(stdout);
        if (ferror(stdout))
            status = 1; /* e.g. the reader of a pipe went away */
        if (status != 0)
            break;
    }
    hs__jsonline_free(&line);
    return status;
}

/* What the command line asked for. */
typedef struct tail_opts {
    hs_cli_curve curve;
    const char *connect[TAIL_MAX_ENDPOINTS], *subscribe[TAIL_MAX_ENDPOINTS], *bind;
    size_t nconnect, nsubscribe;
    unsigned long long count;
    double idle;
    bool json;
} tail_opts;

/* One option into o; -1 to go on, else the exit status. */
static int tail_option(int opt, const char *arg, tail_opts *o)
{
    switch (opt) {
    case 'c':
    case 's': {
        const char **list = opt == 'c' ? o->connect : o->subscribe;
        size_t *n = opt == 'c' ? &o->nconnect : &o->nsubscribe;
        if (*n == TAIL_MAX_ENDPOINTS) {
            hs_cli_error("--%s: at most %d", opt == 'c' ? "connect" : "subscribe",
                         TAIL_MAX_ENDPOINTS);
            return 2;
        }
        list[(*n)++] = arg;
        return -1;
    }
    case 'b':
        o->bind = arg;
        return -1;
    case 'n':
        return hs_cli_parse_count("--count", arg, &o->count) != 0 ? 2 : -1;
    case 'i': {
        char *end;
        o->idle = strtod(arg, &end);
        if (end == arg || *end != '\0' || !(o->idle > 0) || !(o->idle <= 2147483)) {
            hs_cli_error("--idle-timeout: '%s' is not a number of seconds from 0 to 2147483", arg);
            return 2;
        }
        return -1;
    }
    case 'j':
        o->json = true;
        return -1;
    case 'K':
        o->curve.secret_key = arg;
        return -1;
    case 'V':
        o->curve.server_key = arg;
        return -1;
    case 'A':
        o->curve.allow = arg;
        return -1;
    case 'h':
        tail_usage(stdout);
        return 0;
    default:
        tail_usage(stderr);
        return 2;
    }
}

/* The command line into o; -1 to go on, else the exit status. */
static int tail_parse(int argc, char **argv, tail_opts *o)
{
    static const struct option options[] = {
        {"connect", required_argument, NULL, 'c'},
        {"bind", required_argument, NULL, 'b'},
        {"subscribe", required_argument, NULL, 's'},
        {"count", required_argument, NULL, 'n'},
        {"idle-timeout", required_argument, NULL, 'i'},
        {"json", no_argument, NULL, 'j'},
        {"curve-secret-key", required_argument, NULL, 'K'},
        {"curve-server-key", required_argument, NULL, 'V'},
        {"curve-allow", required_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt, rc;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1)
        if ((rc = tail_option(opt, optarg, o)) >= 0)
            return rc;
    if (optind < argc) {
        hs_cli_error("unexpected argument '%s' (try 'hashspace tail --help')", argv[optind]);
        return 2;
    }
    if (o->bind == NULL && o->nconnect == 0)
        o->connect[o->nconnect++] = TAIL_DEFAULT_ENDPOINT;
    return -1;
}

/* Options, subscriptions, CURVE, bind and connects of the SUB socket; the
 * exit status so far (0: ready). */
static int tail_socket(void *ctx, void *sock, tail_opts *o)
{
    int zero = 0, rcvhwm = 0, timeout = o->idle > 0 ? (int)(o->idle * 1000) : -1;
    int status = hs_cli_curve_load(&o->curve, ctx, o->bind != NULL, o->nconnect > 0, "publisher");
    /* RCVHWM 0: never drop on our side. */
    if (zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(sock, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm) != 0 ||
        zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout) != 0 ||
        (o->nsubscribe == 0 && zmq_setsockopt(sock, ZMQ_SUBSCRIBE, "", 0) != 0)) {
        hs_cli_error("cannot set the socket's options: %s", zmq_strerror(errno));
        status = 1;
    }
    for (size_t i = 0; i < o->nsubscribe && status == 0; i++)
        if (zmq_setsockopt(sock, ZMQ_SUBSCRIBE, o->subscribe[i], strlen(o->subscribe[i])) != 0) {
            hs_cli_error("cannot subscribe to '%s': %s", o->subscribe[i], zmq_strerror(errno));
            status = 1;
        }
    if (status == 0 && o->bind != NULL && hs_cli_curve_role(&o->curve, sock, true) != 0)
        status = 1;
    else if (status == 0 && o->bind != NULL && zmq_bind(sock, o->bind) != 0) {
        hs_cli_error("cannot bind %s: %s", o->bind, zmq_strerror(errno));
        status = 1;
    }
    if (status == 0 && o->nconnect > 0 && hs_cli_curve_role(&o->curve, sock, false) != 0)
        status = 1;
    for (size_t i = 0; i < o->nconnect && status == 0; i++)
        if (zmq_connect(sock, o->connect[i]) != 0) {
            hs_cli_error("cannot connect to %s: %s", o->connect[i], zmq_strerror(errno));
            status = 1;
        }
    return status;
}

int hs_cmd_tail(int argc, char **argv)
{
    tail_opts o = {0};
    int rc = tail_parse(argc, argv, &o);
    if (rc >= 0)
        return rc;

    struct sigaction sa = {.sa_handler = tail_on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    void *ctx = zmq_ctx_new();
    void *sock = ctx ? zmq_socket(ctx, ZMQ_SUB) : NULL;
    if (sock == NULL) {
        hs_cli_error("cannot create a ZeroMQ socket: %s", zmq_strerror(errno));
        if (ctx)
            zmq_ctx_term(ctx);
        return 1;
    }
    int status = tail_socket(ctx, sock, &o);
    if (status == 0)
        status = tail_loop(sock, o.json, o.count);
    if (fflush(stdout) != 0 && status == 0) {
        hs_cli_error("writing output failed");
        status = 1;
    }
    zmq_close(sock);
    hs_cli_curve_stop(&o.curve);
    zmq_ctx_term(ctx);
    return status;
}
