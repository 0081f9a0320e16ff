/* pc_pub.c - the publisher of bench/peers_cluster: builds N fedmsg-shaped
 * JSON bodies up front, then sends them through one system as fast as it
 * takes them or at a steady rate, and prints when it started and stopped
 * and the CPU time it spent sending.
 *
 *   pc_pub --system SYSTEM --url URL [--count N] [--rate R] [--users U]
 *          [--size BYTES] [--partitions P] [--subscribers K] [--ids PATH]
 *          [--seed S] [--hwm N]
 *
 * SYSTEM:
 *   nats-queue     NATS, every message on subject p.all (a queue group shares it)
 *   nats-subjects  NATS, subject p.<pc_fnv1a64(user) % P>: the publisher partitions
 *   amqp           RabbitMQ, exchange "pc" (x-consistent-hash), routing key = user
 *   zmq            ZeroMQ XPUB bound at URL (the hashspace bus), frames
 *                  [topic, body]; waits for K subscriptions first. It waits
 *                  instead of dropping (ZMQ_XPUB_NODROP) once a subscriber
 *                  has --hwm messages queued (default 1000, ZeroMQ's own
 *                  default): a bounded queue, as the NATS and AMQP clients
 *                  have. A queue that holds the whole run (--hwm 1000000,
 *                  what this publisher used before) costs it page faults
 *                  for every page it grows by, on the cores the hubs need.
 *   zmq-topic      the same with the user appended to the topic (--key topic)
 *
 * Prints "go" when about to send, then "start NS end NS cpu NS"
 * (CLOCK_MONOTONIC at the first send and after the last one, CPU time of
 * the sending loop). Each body ends
 * with ,"sent":"<19 digits>"}, the CLOCK_MONOTONIC time it was sent, written
 * into the body just before the send (recorder.h reads it back). --ids
 * writes every msg_id (40 bytes each, NUL-padded), in sending order, before
 * the first send. At a steady rate the NATS client sends each message right
 * away (natsOptions_SetSendAsap) instead of buffering it for its flusher.
 */
#include "recorder.h"

#include "clock.h"
#include "fedmsg.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <errno.h>
#include <getopt.h>
#include <nats/nats.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <zmq.h>

#define TOPIC "org.fedoraproject.prod.bench.peers"

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pc_pub: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static uint64_t cpu_self_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The messages, built before the clock starts. */
typedef struct workload {
    uint64_t n;
    size_t stride;
    char *bodies; /* n bodies, stride bytes apart, NUL-terminated */
    size_t *len;  /* body lengths */
    char (*user)[PC_USER_LEN];
    char (*id)[PC_ID_LEN];
} workload;

/* Copy src into the zeroed dst of cap bytes, cut to leave a NUL. */
static void copy_cut(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    memcpy(dst, src, n < cap - 1 ? n : cap - 1);
}

static void workload_build(workload *w, uint64_t n, uint64_t users, size_t size, uint64_t seed)
{
    static char pad[4096];
    memset(pad, 'x', sizeof pad);
    w->n = n;
    w->stride = size + 256;
    w->bodies = malloc(n * w->stride);
    w->len = calloc(n, sizeof *w->len);
    w->user = calloc(n, sizeof *w->user);
    w->id = calloc(n, sizeof *w->id);
    if (w->bodies == NULL || w->len == NULL || w->user == NULL || w->id == NULL)
        die("out of memory for %llu messages", (unsigned long long)n);
    struct timespec now = hs__timespec(hs__realtime_ns());
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    uint64_t rng = seed;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t key = splitmix64(&rng) % users;
        uint64_t hi = splitmix64(&rng), lo = splitmix64(&rng);
        char text[64];
        hs__fedmsg_msg_id(text, sizeof text, tm.tm_year + 1900, hi, lo);
        copy_cut(w->id[i], PC_ID_LEN, text);
        snprintf(text, sizeof text, "user-%llu", (unsigned long long)key);
        copy_cut(w->user[i], PC_USER_LEN, text);
        char *b = w->bodies + i * w->stride;
        int padding = 0, len = 0;
        for (int pass = 0; pass < 2; pass++) {
            len = snprintf(b, w->stride,
                           "{\"topic\":\"" TOPIC "\",\"msg\":{\"user\":\"%s\",\"key\":\"key-%llu\","
                           "\"pad\":\"%.*s\"},\"timestamp\":%.6f,\"msg_id\":\"%s\",\"i\":%llu,"
                           "\"username\":\"hashspace\",\"sent\":\"%019d\"}",
                           w->user[i], (unsigned long long)key, padding, pad,
                           (double)now.tv_sec + (double)now.tv_nsec * 1e-9, w->id[i],
                           (unsigned long long)i + 1, 0);
            if (len < 0 || (size_t)len >= w->stride)
                die("a %zu-byte body does not fit", size);
            if ((size_t)len >= size)
                break;
            padding = (int)(size - (size_t)len);
        }
        w->len[i] = (size_t)len;
    }
}

static void write_ids(const workload *w, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(w->id, PC_ID_LEN, w->n, f) != w->n || fclose(f) != 0)
        die("%s: %s", path, strerror(errno));
}

/* Write now (CLOCK_MONOTONIC) as the body's 19-digit stamp; returns it. */
static uint64_t stamp(char *body, size_t len)
{
    uint64_t now = pc_now_ns(), v = now;
    char *d = body + len - PC_STAMP_TAIL;
    for (int i = 18; i >= 0; i--, v /= 10)
        d[i] = (char)('0' + v % 10);
    return now;
}

/* --- the systems --- */

typedef struct sender sender;
typedef void (*send_fn)(sender *s, const workload *w, uint64_t i);

struct sender {
    const char *system;
    unsigned partitions;
    natsConnection *nats;
    amqp_connection_state_t amqp;
    void *zctx, *zpub;
    bool topic_key;
    bool paced; /* sending at a steady rate: latency matters, not throughput */
    int hwm;    /* zmq: messages queued per subscriber before a send waits */
};

static void nats_send(sender *s, const workload *w, uint64_t i)
{
    char subject[32];
    if (s->partitions == 0)
        strcpy(subject, "p.all");
    else
        snprintf(subject, sizeof subject, "p.%u",
                 (unsigned)(pc_fnv1a64(w->user[i], strlen(w->user[i])) % s->partitions));
    natsStatus st =
        natsConnection_Publish(s->nats, subject, w->bodies + i * w->stride, (int)w->len[i]);
    if (st != NATS_OK)
        die("NATS publish: %s", natsStatus_GetText(st));
}

static void amqp_send(sender *s, const workload *w, uint64_t i)
{
    amqp_bytes_t body = {w->len[i], w->bodies + i * w->stride};
    int rc = amqp_basic_publish(s->amqp, 1, amqp_cstring_bytes("pc"),
                                amqp_cstring_bytes(w->user[i]), 0, 0, NULL, body);
    if (rc != AMQP_STATUS_OK)
        die("AMQP publish: %s", amqp_error_string2(rc));
}

static void zmq_send_msg(sender *s, const workload *w, uint64_t i)
{
    char topic[96];
    int tl = s->topic_key ? snprintf(topic, sizeof topic, TOPIC ".%s", w->user[i])
                          : snprintf(topic, sizeof topic, TOPIC);
    if (zmq_send(s->zpub, topic, (size_t)tl, ZMQ_SNDMORE) < 0 ||
        zmq_send(s->zpub, w->bodies + i * w->stride, w->len[i], 0) < 0)
        die("zmq send: %s", zmq_strerror(errno));
}

static void amqp_check(amqp_rpc_reply_t r, const char *what)
{
    if (r.reply_type == AMQP_RESPONSE_NORMAL)
        return;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
        die("%s: %s", what, amqp_error_string2(r.library_error));
    die("%s: the server refused (AMQP method 0x%08x)", what, (unsigned)r.reply.id);
}

static send_fn sender_open(sender *s, const char *url, unsigned subscribers)
{
    if (strncmp(s->system, "nats-", 5) == 0) {
        /* libnats buffers published messages for its flusher thread, which
         * adds up to a millisecond at a steady pace; a user who wants low
         * latency there asks it to send right away (the others do anyway). */
        natsOptions *o = NULL;
        natsStatus st = natsOptions_Create(&o);
        if (st == NATS_OK)
            st = natsOptions_SetURL(o, url);
        if (st == NATS_OK)
            st = natsOptions_SetSendAsap(o, s->paced);
        if (st == NATS_OK)
            st = natsConnection_Connect(&s->nats, o);
        natsOptions_Destroy(o);
        if (st != NATS_OK)
            die("cannot connect to NATS at %s: %s", url, natsStatus_GetText(st));
        return nats_send;
    }
    if (strcmp(s->system, "amqp") == 0) {
        char host[64];
        int port;
        if (sscanf(url, "amqp://%63[^:]:%d", host, &port) != 2)
            die("--url: expected amqp://HOST:PORT, not '%s'", url);
        s->amqp = amqp_new_connection();
        amqp_socket_t *sock = amqp_tcp_socket_new(s->amqp);
        if (sock == NULL || amqp_socket_open(sock, host, port) != AMQP_STATUS_OK)
            die("cannot connect to RabbitMQ at %s", url);
        amqp_check(amqp_login(s->amqp, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest"),
                   "AMQP login");
        amqp_channel_open(s->amqp, 1);
        amqp_check(amqp_get_rpc_reply(s->amqp), "AMQP channel");
        return amqp_send;
    }
    if (strcmp(s->system, "zmq") == 0 || strcmp(s->system, "zmq-topic") == 0) {
        s->topic_key = strcmp(s->system, "zmq-topic") == 0;
        s->zctx = zmq_ctx_new();
        s->zpub = zmq_socket(s->zctx, ZMQ_XPUB);
        int one = 1, linger = 60000;
        zmq_setsockopt(s->zpub, ZMQ_SNDHWM, &s->hwm, sizeof s->hwm);
        zmq_setsockopt(s->zpub, ZMQ_XPUB_NODROP, &one, sizeof one);
        zmq_setsockopt(s->zpub, ZMQ_XPUB_VERBOSE, &one, sizeof one);
        zmq_setsockopt(s->zpub, ZMQ_LINGER, &linger, sizeof linger);
        if (zmq_bind(s->zpub, url) != 0)
            die("bind %s: %s", url, zmq_strerror(errno));
        for (unsigned k = 0; k < subscribers; k++) {
            zmq_pollitem_t it = {.socket = s->zpub, .events = ZMQ_POLLIN};
            char buf[64];
            if (zmq_poll(&it, 1, 30000) <= 0)
                die("%u of %u subscribers within 30 s", k, subscribers);
            zmq_recv(s->zpub, buf, sizeof buf, 0);
        }
        return zmq_send_msg;
    }
    die("unknown --system '%s' (expected nats-queue, nats-subjects, amqp, zmq or zmq-topic)",
        s->system);
}

/* Hand everything to the server before the process exits. */
static void sender_close(sender *s)
{
    if (s->nats != NULL) {
        natsStatus st = natsConnection_FlushTimeout(s->nats, 120000);
        if (st != NATS_OK)
            die("NATS flush: %s", natsStatus_GetText(st));
        natsConnection_Destroy(s->nats);
        nats_Close();
    }
    if (s->amqp != NULL) {
        amqp_channel_close(s->amqp, 1, AMQP_REPLY_SUCCESS);
        amqp_connection_close(s->amqp, AMQP_REPLY_SUCCESS);
        amqp_destroy_connection(s->amqp);
    }
    if (s->zpub != NULL) {
        zmq_close(s->zpub); /* lingers until the subscribers have it all */
        zmq_ctx_term(s->zctx);
    }
}

static void sleep_until(uint64_t due)
{
    uint64_t t = pc_now_ns();
    if (t < due) {
        struct timespec ts = {(time_t)((due - t) / 1000000000ull),
                              (long)((due - t) % 1000000000ull)};
        nanosleep(&ts, NULL);
    }
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"system", required_argument, NULL, 's'},     {"url", required_argument, NULL, 'u'},
        {"count", required_argument, NULL, 'n'},      {"rate", required_argument, NULL, 'r'},
        {"users", required_argument, NULL, 'U'},      {"size", required_argument, NULL, 'S'},
        {"partitions", required_argument, NULL, 'p'}, {"subscribers", required_argument, NULL, 'k'},
        {"ids", required_argument, NULL, 'i'},        {"seed", required_argument, NULL, 'x'},
        {"hwm", required_argument, NULL, 'w'},        {NULL, 0, NULL, 0},
    };
    sender s = {.hwm = 1000};
    const char *url = NULL, *ids = NULL;
    uint64_t n = 200000, users = 5000, seed = 1;
    double rate = 0;
    size_t size = 300;
    unsigned partitions = 4, subscribers = 4;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 's':
            s.system = optarg;
            break;
        case 'u':
            url = optarg;
            break;
        case 'n':
            n = strtoull(optarg, NULL, 10);
            break;
        case 'r':
            rate = strtod(optarg, NULL);
            break;
        case 'U':
            users = strtoull(optarg, NULL, 10);
            break;
        case 'S':
            size = strtoul(optarg, NULL, 10);
            break;
        case 'p':
            partitions = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'k':
            subscribers = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'i':
            ids = optarg;
            break;
        case 'x':
            seed = strtoull(optarg, NULL, 10);
            break;
        case 'w':
            s.hwm = atoi(optarg);
            break;
        default:
            return 2;
        }
    }
    if (s.system == NULL || url == NULL || n == 0 || users == 0 || size > 4000 || partitions == 0 ||
        s.hwm <= 0)
        die("usage: pc_pub --system SYSTEM --url URL [--count N] [--rate R] [--users U] "
            "[--size BYTES<=4000] [--partitions P>0] [--subscribers K] [--ids PATH] [--seed S] "
            "[--hwm N>0]");
    s.partitions = strcmp(s.system, "nats-subjects") == 0 ? partitions : 0;
    s.paced = rate > 0;
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    workload w;
    workload_build(&w, n, users, size, seed);
    if (ids != NULL)
        write_ids(&w, ids);
    send_fn send = sender_open(&s, url, subscribers);

    /* The driver samples the servers' CPU time when it reads this line. */
    printf("go\n");
    fflush(stdout);
    uint64_t cpu0 = cpu_self_ns(), t0 = pc_now_ns();
    double gap = rate > 0 ? 1e9 / rate : 0;
    for (uint64_t i = 0; i < n; i++) {
        if (rate > 0)
            sleep_until(t0 + (uint64_t)((double)i * gap));
        stamp(w.bodies + i * w.stride, w.len[i]);
        send(&s, &w, i);
    }
    uint64_t t1 = pc_now_ns();
    sender_close(&s);
    uint64_t cpu = cpu_self_ns() - cpu0;
    printf("start %llu end %llu cpu %llu\n", (unsigned long long)t0, (unsigned long long)t1,
           (unsigned long long)cpu);
    free(w.bodies);
    free(w.len);
    free(w.user);
    free(w.id);
    return 0;
}
