/* cmd_pub.c - `hashspace pub`: publish fedmsg-format messages on a ZeroMQ
 * socket, as a load generator for hubs and tests: a count, a paced rate,
 * keys from a uniform or Zipf distribution, bodies padded to a size. */
#include "cli_curve.h"
#include "cli_util.h"
#include "commands.h"
#include "clock.h"
#include "fedmsg.h"

#include "hashspace/error.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define PUB_DEFAULT_ENDPOINT "tcp://127.0.0.1:9940"
#define PUB_DEFAULT_TOPIC "org.fedoraproject.dev.hashspace.load"

static void pub_usage(FILE *out)
{
    fprintf(out,
            "usage: hashspace pub [--bind EP | --connect EP] [--count N] [--rate R]\n"
            "                     [--topic T[,T...]] [--keys N] [--dist uniform|zipf]\n"
            "                     [--size BYTES] [--warmup S] [--wait-subscribers N]\n"
            "                     [--curve-secret-key KEY [--curve-allow DIR]]\n"
            "                     [--curve-server-key KEY]\n\n"
            "Publish fedmsg-format messages: two frames [topic, body], the body a JSON\n"
            "object {topic, msg: {key, user[, pad]}, timestamp, msg_id, i, username}, with\n"
            "msg_id \"<year>-<uuid4>\" and i counting 1, 2, ... A load generator for hubs.\n\n"
            "  --bind EP            bind the socket here (default %s)\n"
            "  --connect EP         connect instead (e.g. to a forwarder); repeatable\n"
            "  --count N            messages to send (default 1000; 10k, 2M accepted; 0 = none)\n"
            "  --rate R             messages per second, paced by the clock (default 0 = as\n"
            "                       fast as possible; 500, 2.5k accepted)\n"
            "  --burst N --pause S  spiky traffic: N messages (at --rate), then S seconds\n"
            "                       of silence, and again\n"
            "  --topic T[,T...]     topic, or a comma-separated list to pick from uniformly\n"
            "                       (default %s)\n"
            "  --keys N             distinct keys: msg.key = key-<n>, msg.user = user-<n>\n"
            "                       (default 1000)\n"
            "  --dist D             uniform (default) or zipf: key-0 the most frequent\n"
            "  --zipf-s S           the Zipf exponent (default 1.1)\n"
            "  --size BYTES         pad each body with msg.pad to this size (default 0 = no\n"
            "                       padding, about 250 bytes)\n"
            "  --username U         the body's username field (default hashspace)\n"
            "  --seed N             seed of keys and msg_ids (default: random)\n"
            "  --warmup S           seconds to wait after bind/connect before sending, for\n"
            "                       ZeroMQ's slow joiners (default 1, or 0 with\n"
            "                       --wait-subscribers)\n"
            "  --wait-subscribers N wait until N subscriptions have arrived before sending\n"
            "                       (a subscriber subscribed to 2 prefixes counts twice)\n"
            "  --wait-timeout S     give up waiting for subscribers after S s (default 30)\n"
            "  --hwm N              per-subscriber send queue, in messages (default 100000)\n"
            "  --drop               when a subscriber's queue is full, drop (like a plain\n"
            "                       PUB socket) instead of waiting for it\n"
            "  --linger S           at the end, wait up to S s to flush queues (default 30)\n"
            "  -q, --quiet          no progress line and no summary\n"
            "  -h, --help           this text\n",
            PUB_DEFAULT_ENDPOINT, PUB_DEFAULT_TOPIC);
    hs_cli_curve_usage(out, "subscribers");
    fprintf(out, "\n"
                 "A ZeroMQ PUB socket drops messages for a subscriber whose queue is full (a slow\n"
                 "or stuck subscriber). This publisher uses XPUB with ZMQ_XPUB_NODROP so that it\n"
                 "waits instead and no message is lost on loopback; --drop restores PUB's\n"
                 "behaviour. Messages sent before a subscriber has connected and subscribed\n"
                 "are never seen by it: use --warmup or --wait-subscribers.\n\n"
                 "A progress line is shown on stderr when it is a terminal; a summary line ends\n"
                 "the run. Exit status: 0 when everything was sent, 1 on error or interruption,\n"
                 "2 on bad usage.\n\n"
                 "Examples:\n"
                 "  hashspace pub --count 100k --rate 5k --dist zipf --keys 10000\n"
                 "  hashspace pub --count 10k --rate 500 --burst 1000 --pause 10\n"
                 "  hashspace pub --wait-subscribers 4 --count 1M --size 2048\n"
                 "  hashspace pub --connect tcp://hub-a:9950 --curve-server-key hub-a.key \\\n"
                 "      --curve-secret-key pub.key_secret\n");
}

static volatile sig_atomic_t pub_stop;

static void pub_on_signal(int sig)
{
    (void)sig;
    pub_stop = 1;
}

/* Sleep until t, CLOCK_MONOTONIC seconds. */
static void sleep_until(double t)
{
    struct timespec ts = hs__timespec(t > 0 ? (uint64_t)(t * 1e9) : 0);
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* A non-negative number with an optional k/M suffix. */
static int parse_number(const char *option, const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end != text && (*end == 'k' || *end == 'K'))
        v *= 1e3, end++;
    else if (end != text && *end == 'M')
        v *= 1e6, end++;
    if (end == text || *end != '\0' || errno != 0 || !(v >= 0) || !isfinite(v)) {
        hs_cli_error("%s: '%s' is not a non-negative number", option, text);
        return -1;
    }
    *out = v;
    return 0;
}

/* Split a comma-separated list in place into at most max items. */
static size_t split_commas(char *text, const char **items, size_t max)
{
    size_t n = 0;
    for (char *save = NULL, *tok = strtok_r(text, ",", &save); tok != NULL && n < max;
         tok = strtok_r(NULL, ",", &save))
        items[n++] = tok;
    return n;
}

/* Read pending (un)subscription messages from an XPUB socket without
 * blocking; returns the change in the number of subscriptions. */
static long drain_subscriptions(void *sock)
{
    long delta = 0;
    char buf[256];
    int n;
    while ((n = zmq_recv(sock, buf, sizeof buf, ZMQ_DONTWAIT)) >= 0) {
        if (n >= 1 && buf[0] == 1)
            delta++;
        else if (n >= 1 && buf[0] == 0)
            delta--;
    }
    return delta;
}

static int wait_subscribers(void *sock, long want, double timeout_s, bool quiet)
{
    long have = 0;
    double deadline = hs__monotonic_s() + timeout_s;
    while (have < want && !pub_stop) {
        double left = deadline - hs__monotonic_s();
        if (left <= 0) {
            hs_cli_error("--wait-subscribers: %ld of %ld subscriptions after %.0f s", have, want,
                         timeout_s);
            return -1;
        }
        zmq_pollitem_t item = {.socket = sock, .events = ZMQ_POLLIN};
        long ms = (long)(left * 1000) + 1;
        if (zmq_poll(&item, 1, ms > 200 ? 200 : ms) < 0 && errno != EINTR) {
            hs_cli_error("waiting for subscribers: %s", zmq_strerror(errno));
            return -1;
        }
        have += drain_subscriptions(sock);
    }
    if (pub_stop)
        return -1;
    if (!quiet && hs_cli_stderr_is_tty())
        fprintf(stderr, "pub: %ld subscription%s, sending\n", have, have == 1 ? "" : "s");
    return 0;
}

typedef struct pub_opts {
    const char *bind, *connect[16];
    size_t nconnect;
    unsigned long long count, keys, hwm, seed, wait_subs, burst;
    double rate, pause, warmup, zipf_s, wait_timeout, linger;
    bool warmup_set, drop, quiet;
    hs__key_dist dist;
    size_t size;
    char *topics;
    const char *username;
} pub_opts;

static void progress(const pub_opts *o, unsigned long long sent, double elapsed, bool final)
{
    double rate = elapsed > 0 ? (double)sent / elapsed : 0;
    double eta = rate > 0 ? (double)(o->count - sent) / rate : 0;
    fprintf(stderr, "\rpub: sent %llu/%llu (%3.0f%%)  %.0f msg/s  eta %.0f s  \033[K%s", sent,
            o->count, o->count ? 100.0 * (double)sent / (double)o->count : 100.0, rate, eta,
            final ? "\n" : "");
}

static int publish(void *sock, const pub_opts *o, const char *where)
{
    const char *topics[64];
    size_t ntopics = split_commas(o->topics, topics, 64);
    if (ntopics == 0) {
        hs_cli_error("--topic: no topic given");
        return 2;
    }
    hs__fedmsg_opts fo = {
        .topics = topics,
        .ntopics = ntopics,
        .keys = o->keys,
        .dist = o->dist,
        .zipf_s = o->zipf_s,
        .size = o->size,
        .username = o->username,
        .seed = o->seed,
    };
    hs__fedmsg_gen *gen;
    int rc = hs__fedmsg_gen_new(&gen, &fo);
    if (rc != HS_OK) {
        hs_cli_error("cannot build the message generator: %s", hs_strerror(rc));
        return 1;
    }
    bool show = !o->quiet && hs_cli_stderr_is_tty();
    unsigned long long sent = 0, bytes = 0;
    int status = 0;
    double t0 = hs__monotonic_s(), next_progress = t0 + 0.25;
    double pace_t0 = t0; /* pacing restarts after each pause */
    unsigned long long pace_sent = 0;
    while (sent < o->count && !pub_stop) {
        if (o->burst > 0 && sent > 0 && sent % o->burst == 0 && sent != pace_sent) {
            sleep_until(hs__monotonic_s() + o->pause);
            pace_t0 = hs__monotonic_s();
            pace_sent = sent;
        }
        if (o->rate > 0) {
            double due = pace_t0 + (double)(sent - pace_sent) / o->rate;
            if (hs__monotonic_s() < due)
                sleep_until(due);
        }
        const char *topic, *body;
        size_t topic_len, body_len;
        if ((rc = hs__fedmsg_gen_next(gen, &topic, &topic_len, &body, &body_len)) != HS_OK) {
            hs_cli_error("building message %llu: %s", sent + 1, hs_strerror(rc));
            status = 1;
            break;
        }
        if (zmq_send(sock, topic, topic_len, ZMQ_SNDMORE) < 0 ||
            zmq_send(sock, body, body_len, 0) < 0) {
            if (errno == EINTR && pub_stop)
                break;
            /* Only the first frame can have failed alone; the second cannot
             * be refused once the first is queued. */
            hs_cli_error("sending message %llu to %s: %s", sent + 1, where, zmq_strerror(errno));
            status = 1;
            break;
        }
        sent++;
        bytes += topic_len + body_len;
        if ((sent & 1023) == 0)
            drain_subscriptions(sock);
        /* Paced runs look at the clock anyway; full-speed ones now and then. */
        if (show && (o->rate > 0 || (sent & 1023) == 0) && hs__monotonic_s() >= next_progress) {
            progress(o, sent, hs__monotonic_s() - t0, false);
            next_progress = hs__monotonic_s() + 0.25;
        }
    }
    double elapsed = hs__monotonic_s() - t0;
    if (show)
        progress(o, sent, elapsed, true);
    if (pub_stop && sent < o->count) {
        hs_cli_error("interrupted after %llu of %llu messages", sent, o->count);
        status = 1;
    }
    if (!o->quiet)
        fprintf(stderr,
                "pub: sent %llu messages, %llu bytes, in %.3f s: %.0f msg/s, %.1f MB/s, "
                "via %s\n",
                sent, bytes, elapsed, elapsed > 0 ? (double)sent / elapsed : 0,
                elapsed > 0 ? (double)bytes / elapsed / 1e6 : 0, where);
    hs__fedmsg_gen_free(gen);
    return status;
}

static const struct option pub_options[] = {
    {"bind", required_argument, NULL, 'b'},
    {"connect", required_argument, NULL, 'c'},
    {"count", required_argument, NULL, 'n'},
    {"rate", required_argument, NULL, 'r'},
    {"burst", required_argument, NULL, 'B'},
    {"pause", required_argument, NULL, 'P'},
    {"topic", required_argument, NULL, 't'},
    {"keys", required_argument, NULL, 'k'},
    {"dist", required_argument, NULL, 'd'},
    {"zipf-s", required_argument, NULL, 'z'},
    {"size", required_argument, NULL, 's'},
    {"username", required_argument, NULL, 'u'},
    {"seed", required_argument, NULL, 'S'},
    {"warmup", required_argument, NULL, 'w'},
    {"wait-subscribers", required_argument, NULL, 'W'},
    {"wait-timeout", required_argument, NULL, 'T'},
    {"hwm", required_argument, NULL, 'H'},
    {"drop", no_argument, NULL, 'D'},
    {"linger", required_argument, NULL, 'L'},
    {"quiet", no_argument, NULL, 'q'},
    {"curve-secret-key", required_argument, NULL, 'K'},
    {"curve-server-key", required_argument, NULL, 'V'},
    {"curve-allow", required_argument, NULL, 'A'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* One option of hs_cmd_pub into o: -1 to go on, else the exit status. */
/* The options with a value to check; 1 when it is bad, 0 when good, -1
 * when opt is not one of them. */
static int pub_value_option(int opt, pub_opts *o, unsigned long long *size)
{
    int bad = 0;
    switch (opt) {
    case 'n':
        bad = hs_cli_parse_count("--count", optarg, &o->count);
        break;
    case 'r':
        bad = parse_number("--rate", optarg, &o->rate);
        break;
    case 'B':
        bad = hs_cli_parse_count("--burst", optarg, &o->burst);
        break;
    case 'P':
        bad = parse_number("--pause", optarg, &o->pause);
        break;
    case 'k':
        bad = hs_cli_parse_count("--keys", optarg, &o->keys);
        if (!bad && o->keys == 0) {
            hs_cli_error("--keys: at least 1");
            bad = 1;
        }
        break;
    case 'd':
        if (strcmp(optarg, "uniform") == 0) {
            o->dist = HS__KEY_UNIFORM;
        } else if (strcmp(optarg, "zipf") == 0) {
            o->dist = HS__KEY_ZIPF;
        } else {
            hs_cli_error("--dist: unknown distribution '%s' (expected uniform or zipf)", optarg);
            bad = 1;
        }
        break;
    case 'z':
        bad = parse_number("--zipf-s", optarg, &o->zipf_s);
        if (!bad && o->zipf_s <= 0) {
            hs_cli_error("--zipf-s: must be greater than 0");
            bad = 1;
        }
        break;
    case 's':
        bad = hs_cli_parse_count("--size", optarg, size);
        if (!bad && *size > 64u * 1024 * 1024) {
            hs_cli_error("--size: at most 64M bytes");
            bad = 1;
        }
        o->size = (size_t)*size;
        break;
    case 'S':
        bad = hs_cli_parse_count("--seed", optarg, &o->seed);
        break;
    case 'w':
        bad = parse_number("--warmup", optarg, &o->warmup);
        o->warmup_set = true;
        break;
    case 'W':
        bad = hs_cli_parse_count("--wait-subscribers", optarg, &o->wait_subs);
        break;
    case 'T':
        bad = parse_number("--wait-timeout", optarg, &o->wait_timeout);
        break;
    case 'H':
        bad = hs_cli_parse_count("--hwm", optarg, &o->hwm);
        if (!bad && o->hwm > 1000000000ull) {
            hs_cli_error("--hwm: at most 1G messages");
            bad = 1;
        }
        break;
    case 'L':
        bad = parse_number("--linger", optarg, &o->linger);
        if (!bad && o->linger > 2147483) {
            hs_cli_error("--linger: at most 2147483 s (a 32-bit count of milliseconds)");
            bad = 1;
        }
        break;
    default:
        return -1;
    }
    return bad != 0;
}

static int pub_option(int opt, pub_opts *o, hs_cli_curve *curve, unsigned long long *size)
{
    int bad = pub_value_option(opt, o, size);
    if (bad >= 0)
        return bad ? 2 : -1;
    switch (opt) {
    case 'b':
        o->bind = optarg;
        break;
    case 'c':
        if (o->nconnect == sizeof o->connect / sizeof o->connect[0]) {
            hs_cli_error("--connect: at most %zu endpoints",
                         sizeof o->connect / sizeof o->connect[0]);
            return 2;
        }
        o->connect[o->nconnect++] = optarg;
        break;
    case 't':
        o->topics = optarg;
        break;
    case 'u':
        o->username = optarg;
        break;
    case 'D':
        o->drop = true;
        break;
    case 'q':
        o->quiet = true;
        break;
    case 'K':
        curve->secret_key = optarg;
        break;
    case 'V':
        curve->server_key = optarg;
        break;
    case 'A':
        curve->allow = optarg;
        break;
    case 'h':
        pub_usage(stdout);
        return 0;
    default:
        pub_usage(stderr);
        return 2;
    }
    return -1;
}

/* The command line into o and curve: -1 to go on, else the exit status. */
static int pub_parse(int argc, char **argv, pub_opts *o, hs_cli_curve *curve)
{
    unsigned long long size = 0;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "qh", pub_options, NULL)) != -1) {
        int status = pub_option(opt, o, curve, &size);
        if (status >= 0)
            return status;
    }
    if (optind < argc) {
        hs_cli_error("unexpected argument '%s' (try 'hashspace pub --help')", argv[optind]);
        return 2;
    }
    if (o->bind != NULL && o->nconnect > 0) {
        hs_cli_error("--bind and --connect exclude each other");
        return 2;
    }
    if (o->bind == NULL && o->nconnect == 0)
        o->bind = PUB_DEFAULT_ENDPOINT;
    if ((o->burst > 0) != (o->pause > 0)) {
        hs_cli_error("--burst and --pause go together (e.g. --burst 1000 --pause 5)");
        return 2;
    }
    if (o->wait_subs > 0 && !o->warmup_set)
        o->warmup = 0;
    return -1;
}

/* Options, CURVE, then bind or connect sock as o says; where gets the
 * endpoints. Returns the exit status so far (0: go on). */
static int pub_socket(void *ctx, void *sock, const pub_opts *o, hs_cli_curve *curve, char *where,
                      size_t where_len)
{
    int hwm = (int)o->hwm, one = 1, nodrop = o->drop ? 0 : 1;
    int linger = (int)(o->linger * 1000);
    int status = hs_cli_curve_load(curve, ctx, o->bind != NULL, o->nconnect > 0, "subscriber");
    if (status != 0)
        return status;
    if (zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0 ||
        zmq_setsockopt(sock, ZMQ_XPUB_VERBOSE, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_XPUB_NODROP, &nodrop, sizeof nodrop) != 0 ||
        zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger) != 0) {
        hs_cli_error("cannot set the socket's options (--hwm %d, --linger %d ms): %s", hwm, linger,
                     zmq_strerror(errno));
        status = 1;
    }
    if (status != 0) {
        where[0] = '\0';
    } else if (o->bind != NULL) {
        if (hs_cli_curve_role(curve, sock, true) != 0)
            status = 1;
        else if (zmq_bind(sock, o->bind) != 0) {
            hs_cli_error("cannot bind %s: %s", o->bind, zmq_strerror(errno));
            status = 1;
        }
        snprintf(where, where_len, "%s", o->bind);
    } else {
        where[0] = '\0';
        if (hs_cli_curve_role(curve, sock, false) != 0)
            status = 1;
        for (size_t i = 0; i < o->nconnect && status == 0; i++) {
            if (zmq_connect(sock, o->connect[i]) != 0) {
                hs_cli_error("cannot connect to %s: %s", o->connect[i], zmq_strerror(errno));
                status = 1;
            }
            size_t used = strlen(where);
            snprintf(where + used, where_len - used, "%s%s", i ? "," : "", o->connect[i]);
        }
    }
    return status;
}

int hs_cmd_pub(int argc, char **argv)
{
    char default_topic[] = PUB_DEFAULT_TOPIC;
    hs_cli_curve curve = {0};
    pub_opts o = {
        .count = 1000,
        .keys = 1000,
        .hwm = 100000,
        .warmup = 1,
        .zipf_s = 1.1,
        .wait_timeout = 30,
        .linger = 30,
        .topics = default_topic,
        .dist = HS__KEY_UNIFORM,
    };
    int status = pub_parse(argc, argv, &o, &curve);
    if (status >= 0)
        return status;
    struct sigaction sa = {.sa_handler = pub_on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    void *ctx = zmq_ctx_new();
    void *sock = ctx ? zmq_socket(ctx, ZMQ_XPUB) : NULL;
    if (sock == NULL) {
        hs_cli_error("cannot create a ZeroMQ socket: %s", zmq_strerror(errno));
        if (ctx)
            zmq_ctx_term(ctx);
        return 1;
    }
    char where[512];
    status = pub_socket(ctx, sock, &o, &curve, where, sizeof where);
    if (status == 0 && o.wait_subs > 0 &&
        wait_subscribers(sock, (long)o.wait_subs, o.wait_timeout, o.quiet) != 0)
        status = 1;
    if (status == 0 && o.warmup > 0 && !pub_stop)
        sleep_until(hs__monotonic_s() + o.warmup);
    if (status == 0)
        status = publish(sock, &o, where);
    zmq_close(sock);
    hs_cli_curve_stop(&curve);
    zmq_ctx_term(ctx);
    return status;
}
