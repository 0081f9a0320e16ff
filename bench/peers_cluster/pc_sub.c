/* pc_sub.c - one consumer of bench/peers_cluster: subscribes to one system,
 * notes every message in a record file (recorder.h) and runs until SIGTERM.
 *
 *   pc_sub --system SYSTEM --url URL --index I --out PATH [--cap N]
 *
 * SYSTEM:
 *   nats-queue     subject p.all in queue group "pc" (the server spreads messages)
 *   nats-subjects  subject p.<I> (the publisher chose the partition)
 *   amqp           queue pc.<I>, bound with weight 1 to the x-consistent-hash
 *                  exchange "pc" (declared here), manual acknowledgements
 *   pull           a ZeroMQ PULL socket bound at URL: what a hub's push: sends
 *   zmq-sub        a ZeroMQ SUB socket connected to the bus at URL (the hubs'
 *                  publisher, every message to every receiver): each keeps
 *                  the messages whose user is in partition I of 4
 *                  (pc_fnv1a64(user) % 4, found in the body with memmem) and
 *                  drops the rest. What a broadcast design costs with no
 *                  work beyond finding the key: its floor.
 *
 * A receiver exits 0 after SIGTERM, having printed on stderr what its client
 * library dropped (NATS slow-consumer drops), if anything.
 */
#include "recorder.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <errno.h>
#include <getopt.h>
#include <nats/nats.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* RabbitMQ: how many unacknowledged messages the server may push ahead, and
 * how often the consumer acknowledges (one basic.ack with multiple=true
 * covers the batch; the rest is acknowledged when the queue goes idle). */
#define AMQP_PREFETCH 500
#define AMQP_ACK_EVERY 50

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pc_sub: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void nats_run(pc_recorder *r, const char *system, const char *url, unsigned index)
{
    natsConnection *nc;
    natsSubscription *sub;
    natsStatus st = natsConnection_ConnectTo(&nc, url);
    if (st != NATS_OK)
        die("cannot connect to NATS at %s: %s", url, natsStatus_GetText(st));
    if (strcmp(system, "nats-queue") == 0) {
        st = natsConnection_QueueSubscribeSync(&sub, nc, "p.all", "pc");
    } else {
        char subject[32];
        snprintf(subject, sizeof subject, "p.%u", index);
        st = natsConnection_SubscribeSync(&sub, nc, subject);
    }
    /* The library's default buffer (65,536 messages) would drop at full
     * speed; a user who wants every message raises it. */
    if (st == NATS_OK)
        st = natsSubscription_SetPendingLimits(sub, 10000000, 2000000000);
    if (st == NATS_OK)
        st = natsConnection_Flush(nc); /* the server has the subscription */
    if (st != NATS_OK)
        die("NATS subscribe: %s", natsStatus_GetText(st));
    pc_recorder_ready(r);
    while (!stopping) {
        natsMsg *m;
        st = natsSubscription_NextMsg(&m, sub, 100);
        if (st == NATS_OK) {
            pc_recorder_add(r, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), pc_now_ns());
            natsMsg_Destroy(m);
        } else if (st != NATS_TIMEOUT && st != NATS_SLOW_CONSUMER) {
            die("NATS receive: %s", natsStatus_GetText(st));
        }
    }
    int64_t dropped = 0;
    natsSubscription_GetDropped(sub, &dropped);
    if (dropped > 0)
        fprintf(stderr, "pc_sub: the NATS client dropped %lld messages\n", (long long)dropped);
    natsSubscription_Destroy(sub);
    natsConnection_Destroy(nc);
    nats_Close();
}

static void amqp_check(amqp_rpc_reply_t r, const char *what)
{
    if (r.reply_type == AMQP_RESPONSE_NORMAL)
        return;
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION)
        die("%s: %s", what, amqp_error_string2(r.library_error));
    die("%s: the server refused (AMQP method 0x%08x)", what, (unsigned)r.reply.id);
}

static void amqp_run(pc_recorder *r, const char *url, unsigned index)
{
    char host[64], queue[32];
    int port;
    if (sscanf(url, "amqp://%63[^:]:%d", host, &port) != 2)
        die("--url: expected amqp://HOST:PORT, not '%s'", url);
    amqp_connection_state_t c = amqp_new_connection();
    amqp_socket_t *sock = amqp_tcp_socket_new(c);
    if (sock == NULL || amqp_socket_open(sock, host, port) != AMQP_STATUS_OK)
        die("cannot connect to RabbitMQ at %s", url);
    amqp_check(amqp_login(c, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest"),
               "AMQP login");
    amqp_channel_open(c, 1);
    amqp_check(amqp_get_rpc_reply(c), "AMQP channel");
    amqp_exchange_declare(c, 1, amqp_cstring_bytes("pc"), amqp_cstring_bytes("x-consistent-hash"),
                          0, 0, 0, 0, amqp_empty_table);
    amqp_check(amqp_get_rpc_reply(c), "declaring the x-consistent-hash exchange (is the "
                                      "rabbitmq_consistent_hash_exchange plugin enabled?)");
    snprintf(queue, sizeof queue, "pc.%u", index);
    /* Exclusive: the queue goes when this consumer does, so each run starts empty. */
    amqp_queue_declare(c, 1, amqp_cstring_bytes(queue), 0, 0, 1, 0, amqp_empty_table);
    amqp_check(amqp_get_rpc_reply(c), "declaring the queue");
    amqp_queue_bind(c, 1, amqp_cstring_bytes(queue), amqp_cstring_bytes("pc"),
                    amqp_cstring_bytes("1"), amqp_empty_table);
    amqp_check(amqp_get_rpc_reply(c), "binding the queue");
    amqp_basic_qos(c, 1, 0, AMQP_PREFETCH, 0);
    amqp_check(amqp_get_rpc_reply(c), "basic.qos");
    amqp_basic_consume(c, 1, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0,
                       amqp_empty_table);
    amqp_check(amqp_get_rpc_reply(c), "basic.consume");
    pc_recorder_ready(r);
    uint64_t unacked = 0, last_tag = 0;
    while (!stopping) {
        amqp_envelope_t env;
        struct timeval tv = {0, 100000};
        amqp_maybe_release_buffers(c);
        amqp_rpc_reply_t res = amqp_consume_message(c, &env, &tv, 0);
        if (res.reply_type == AMQP_RESPONSE_NORMAL) {
            pc_recorder_add(r, env.message.body.bytes, env.message.body.len, pc_now_ns());
            last_tag = env.delivery_tag;
            amqp_destroy_envelope(&env);
            if (++unacked < AMQP_ACK_EVERY)
                continue;
        } else if (!(res.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
                     res.library_error == AMQP_STATUS_TIMEOUT)) {
            amqp_check(res, "AMQP receive");
        }
        if (unacked > 0 && amqp_basic_ack(c, 1, last_tag, 1) != AMQP_STATUS_OK)
            die("AMQP ack failed");
        unacked = 0;
    }
    amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close(c, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(c);
}

/* A receiving socket of `type` that queues at most hwm messages and wakes
 * every 100 ms to look at `stopping`. */
static void *zmq_receiver(void *ctx, int type, int hwm)
{
    void *s = zmq_socket(ctx, type);
    int timeout = 100, linger = 0;
    if (s == NULL)
        die("socket: %s", zmq_strerror(errno));
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    return s;
}

static void pull_run(pc_recorder *r, const char *url)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_receiver(ctx, ZMQ_PULL, 1000000);
    if (zmq_bind(s, url) != 0)
        die("bind %s: %s", url, zmq_strerror(errno));
    pc_recorder_ready(r);
    zmq_msg_t m;
    zmq_msg_init(&m);
    while (!stopping) {
        if (zmq_msg_recv(&m, s, 0) < 0) {
            if (errno != EAGAIN && errno != EINTR)
                die("receive: %s", zmq_strerror(errno));
            continue;
        }
        if (!zmq_msg_more(&m)) /* the body: the last of [topic, body] */
            pc_recorder_add(r, zmq_msg_data(&m), zmq_msg_size(&m), pc_now_ns());
    }
    zmq_msg_close(&m);
    zmq_close(s);
    zmq_ctx_term(ctx);
}

static void sub_run(pc_recorder *r, const char *url, unsigned index)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_receiver(ctx, ZMQ_SUB, 1000); /* the hub's default queue at the bus */
    zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
    if (zmq_connect(s, url) != 0)
        die("connect %s: %s", url, zmq_strerror(errno));
    pc_recorder_ready(r);
    zmq_msg_t m;
    zmq_msg_init(&m);
    uint64_t foreign = 0;
    while (!stopping) {
        if (zmq_msg_recv(&m, s, 0) < 0) {
            if (errno != EAGAIN && errno != EINTR)
                die("receive: %s", zmq_strerror(errno));
            continue;
        }
        if (zmq_msg_more(&m)) /* the topic: the body follows */
            continue;
        const char *body = zmq_msg_data(&m);
        size_t len = zmq_msg_size(&m), ulen;
        const char *user = pc_string_after(body, len, PC_USER_MARK, sizeof PC_USER_MARK - 1, &ulen);
        if (user != NULL && pc_fnv1a64(user, ulen) % 4 != index) {
            foreign++;
            continue;
        }
        pc_recorder_add(r, body, len, pc_now_ns()); /* no user: noted, as bad */
    }
    zmq_msg_close(&m);
    zmq_close(s);
    zmq_ctx_term(ctx);
    fprintf(stderr, "pc_sub: %llu messages of the other partitions dropped\n",
            (unsigned long long)foreign);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"system", required_argument, NULL, 's'}, {"url", required_argument, NULL, 'u'},
        {"index", required_argument, NULL, 'i'},  {"out", required_argument, NULL, 'o'},
        {"cap", required_argument, NULL, 'c'},    {NULL, 0, NULL, 0},
    };
    const char *system = NULL, *url = NULL, *out = NULL;
    unsigned index = 0;
    uint64_t cap = 1000000;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 's':
            system = optarg;
            break;
        case 'u':
            url = optarg;
            break;
        case 'i':
            index = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'o':
            out = optarg;
            break;
        case 'c':
            cap = strtoull(optarg, NULL, 10);
            break;
        default:
            return 2;
        }
    }
    if (system == NULL || url == NULL || out == NULL || cap == 0)
        die("usage: pc_sub --system nats-queue|nats-subjects|amqp|pull|zmq-sub --url URL --index I "
            "--out PATH [--cap N]");
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    pc_recorder *r;
    int rc = pc_recorder_open(&r, out, cap);
    if (rc != 0)
        die("%s: %s", out, strerror(rc));
    if (strncmp(system, "nats-", 5) == 0)
        nats_run(r, system, url, index);
    else if (strcmp(system, "amqp") == 0)
        amqp_run(r, url, index);
    else if (strcmp(system, "pull") == 0)
        pull_run(r, url);
    else if (strcmp(system, "zmq-sub") == 0)
        sub_run(r, url, index);
    else
        die("unknown --system '%s' (expected nats-queue, nats-subjects, amqp, pull or zmq-sub)",
            system);
    pc_recorder_close(r);
    return 0;
}
