/* sink_push.c - `push:ENDPOINT`: forward each message as the two frames
 * [topic, body] to a ZeroMQ PUSH socket connected to ENDPOINT. Each worker
 * has its own socket (ZeroMQ sockets are single-threaded).
 *
 * What push guarantees (docs/protocol.md, "push consumers"): a message
 * counts ok once libzmq queued it for a *connected* peer (ZMQ_IMMEDIATE, so
 * nothing queues for a peer that is not there: the send waits up to the
 * consumer's timeout, 5 s when none is set, then the attempt fails and the
 * message is retried, then dead-lettered). libzmq confirms nothing after
 * that: when the peer disconnects, what was still in this socket's pipe (at
 * most PUSH_SNDHWM), in the kernel's buffers and in the peer's own queue is
 * lost, and the sender cannot tell how much of it the peer had read. A
 * socket monitor sees each disconnect; the messages sent since the previous
 * one, at most what those buffers can hold (unconfirmed()), are then counted
 * in possibly_lost (hashspace_consumer_possibly_lost_total) and logged: an
 * upper estimate for a peer with libzmq's default queue. At close the socket waits up to 5 s
 * (linger) for a connected peer to take what is queued.
 *
 * DESIGN: the sockets of every push instance live in one ZeroMQ context of
 * this file, created by the first open and terminated by the last close;
 * ctx_lock guards it and its user count. The PUSH socket is used by its
 * worker thread only; each instance has a monitor thread of its own that
 * owns the PAIR socket receiving the monitor's events, so that a disconnect
 * is counted when it happens, even when no message follows. The two share
 * sent (an atomic the worker adds to and the monitor thread takes) and
 * possibly_lost (the consumer's atomic); close stops the monitor (its last
 * event is MONITOR_STOPPED) and joins the thread.
 */
#include "sink.h"

#include "curve.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define PUSH_DEFAULT_TIMEOUT_MS 5000
/* Messages libzmq queues in this socket's pipe; small, so that little waits
 * where a disconnect would drop it. */
#define PUSH_SNDHWM 100
/* The peer's receive queue, assumed to be libzmq's default RCVHWM. */
#define PUSH_PEER_RCVHWM 1000
/* The kernel's TCP buffers of both ends at most, when /proc does not say. */
#define PUSH_KERNEL_BYTES_DEFAULT (4u << 20) + (6u << 20)

static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static void *ctx;
static unsigned ctx_users;

static void *ctx_acquire(void)
{
    pthread_mutex_lock(&ctx_lock);
    if (ctx == NULL)
        ctx = zmq_ctx_new();
    void *c = ctx;
    if (c != NULL)
        ctx_users++;
    pthread_mutex_unlock(&ctx_lock);
    return c;
}

static void ctx_release(void)
{
    void *term = NULL;
    pthread_mutex_lock(&ctx_lock);
    if (--ctx_users == 0) {
        term = ctx;
        ctx = NULL;
    }
    pthread_mutex_unlock(&ctx_lock);
    if (term != NULL)
        zmq_ctx_term(term);
}

typedef struct push_sink {
    void *socket;
    void *monitor; /* PAIR connected to the socket's monitor; the thread's */
    pthread_t monitor_thread;
    bool monitor_running;
    int timeout_ms;
    const char *consumer;
    atomic_uint_fast64_t *possibly_lost;
    atomic_uint_fast64_t sent, sent_bytes; /* since the last disconnect */
    uint64_t kernel_bytes;                 /* see unconfirmed() */
} push_sink;

/* The largest TCP send plus receive buffer this kernel grants (the third
 * values of net.ipv4.tcp_wmem and tcp_rmem), for the peer's side too. */
static uint64_t kernel_buffer_bytes(void)
{
    uint64_t total = 0;
    const char *files[] = {"/proc/sys/net/ipv4/tcp_wmem", "/proc/sys/net/ipv4/tcp_rmem"};
    for (int i = 0; i < 2; i++) {
        unsigned long long lo, mid, hi;
        FILE *f = fopen(files[i], "r");
        if (f == NULL || fscanf(f, "%llu %llu %llu", &lo, &mid, &hi) != 3) {
            if (f != NULL)
                fclose(f);
            return PUSH_KERNEL_BYTES_DEFAULT;
        }
        fclose(f);
        total += hi;
    }
    return total;
}

/* Of the messages sent since the last disconnect, how many may not have
 * reached the peer's application: this socket's pipe, the peer's queue,
 * and as many messages of the average size as the kernel buffers of both
 * ends can hold. An upper estimate (for a peer with larger queues than
 * libzmq's defaults, not even that); libzmq confirms nothing. */
static uint64_t unconfirmed(const push_sink *s, uint64_t sent, uint64_t bytes)
{
    uint64_t avg = sent > 0 && bytes / sent > 0 ? bytes / sent : 1;
    uint64_t window = PUSH_SNDHWM + PUSH_PEER_RCVHWM + s->kernel_bytes / avg;
    return sent < window ? sent : window;
}

/* The monitor thread: on each disconnect, count what was sent to that peer
 * since the previous one as possibly lost, and say so. Ends at the
 * MONITOR_STOPPED event that close provokes. */
static void *monitor_main(void *arg)
{
    push_sink *s = arg;
    for (;;) {
        zmq_msg_t ev, addr;
        zmq_msg_init(&ev);
        if (zmq_msg_recv(&ev, s->monitor, 0) < 0) {
            zmq_msg_close(&ev);
            if (zmq_errno() == EINTR)
                continue;
            return NULL;
        }
        uint16_t event = 0;
        if (zmq_msg_size(&ev) >= 2)
            memcpy(&event, zmq_msg_data(&ev), 2);
        zmq_msg_close(&ev);
        zmq_msg_init(&addr);
        zmq_msg_recv(&addr, s->monitor, 0);
        uint64_t sent = 0, bytes = 0;
        if (event == ZMQ_EVENT_DISCONNECTED) {
            sent = atomic_exchange_explicit(&s->sent, 0, memory_order_relaxed);
            bytes = atomic_exchange_explicit(&s->sent_bytes, 0, memory_order_relaxed);
        }
        if (sent > 0) {
            uint64_t lost = unconfirmed(s, sent, bytes);
            if (s->possibly_lost != NULL)
                atomic_fetch_add_explicit(s->possibly_lost, lost, memory_order_relaxed);
            hs__warn("consumer %s: push peer %.*s disconnected; up to %llu of the %llu "
                     "messages sent to it may not have been delivered (counted in "
                     "hashspace_consumer_possibly_lost_total)",
                     s->consumer, (int)zmq_msg_size(&addr), (const char *)zmq_msg_data(&addr),
                     (unsigned long long)lost, (unsigned long long)sent);
        }
        zmq_msg_close(&addr);
        if (event == ZMQ_EVENT_MONITOR_STOPPED)
            return NULL;
    }
}

/* CURVE: the PULL peer is the server, this socket its client with the
 * hub's key pair (curve.h). Before the connect. */
static int push_curve(void *socket, const hs__sink_env *env, char *err, size_t errlen)
{
    if (env->curve_server_key == NULL)
        return HS_OK;
    hs__curve_pair self;
    hs__curve_key server;
    char why[400];
    int rc = env->curve_secret_key != NULL
                 ? hs__curve_secret_load(env->curve_secret_key, &self, why, sizeof why)
                 : HS_EINVAL;
    if (env->curve_secret_key == NULL)
        snprintf(why, sizeof why, "push-server-key needs curve-secret-key");
    if (rc == HS_OK)
        rc = hs__curve_public_load(env->curve_server_key, &server, why, sizeof why);
    if (rc == HS_OK)
        rc = hs__curve_set_client(socket, &self, &server, why, sizeof why);
    explicit_bzero(&self, sizeof self);
    if (rc != HS_OK)
        snprintf(err, errlen, "push: %s", why);
    return rc;
}

static int push_open(void **state, const char *arg, const hs__sink_env *env, char *err,
                     size_t errlen)
{
    if (arg == NULL || arg[0] == '\0') {
        snprintf(err, errlen, "push: wants an endpoint (push:tcp://HOST:PORT)");
        return HS_EINVAL;
    }
    push_sink *s = calloc(1, sizeof *s);
    if (s == NULL)
        return HS_ENOMEM;
    s->consumer = env->consumer != NULL ? env->consumer : "?";
    s->possibly_lost = env->possibly_lost;
    s->kernel_bytes = kernel_buffer_bytes();
    void *c = ctx_acquire();
    if (c == NULL) {
        snprintf(err, errlen, "push: cannot create a ZeroMQ context");
        free(s);
        return HS_ESYSTEM;
    }
    s->timeout_ms = env->timeout_s > 0 ? (int)(env->timeout_s * 1000) : PUSH_DEFAULT_TIMEOUT_MS;
    s->socket = zmq_socket(c, ZMQ_PUSH);
    /* ZMQ_IMMEDIATE: queue only to a connected reader, so that a missing
     * reader makes the send time out (and the message go to the dead-letter
     * sink) instead of piling up in a buffer nobody will read. */
    int linger = 5000, immediate = 1, hwm = PUSH_SNDHWM;
    char monitor_ep[64];
    snprintf(monitor_ep, sizeof monitor_ep, "inproc://hs-push-monitor-%p", (void *)s);
    if (s->socket != NULL && push_curve(s->socket, env, err, errlen) != HS_OK) {
        zmq_close(s->socket);
        free(s);
        ctx_release();
        return HS_EINVAL;
    }
    int e = 0; /* pthread_create's error (it returns it; errno is not set) */
    if (s->socket == NULL ||
        zmq_setsockopt(s->socket, ZMQ_IMMEDIATE, &immediate, sizeof immediate) != 0 ||
        zmq_setsockopt(s->socket, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0 ||
        zmq_setsockopt(s->socket, ZMQ_SNDTIMEO, &s->timeout_ms, sizeof s->timeout_ms) != 0 ||
        zmq_setsockopt(s->socket, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_socket_monitor(s->socket, monitor_ep,
                           ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_MONITOR_STOPPED) != 0 ||
        (s->monitor = zmq_socket(c, ZMQ_PAIR)) == NULL ||
        zmq_connect(s->monitor, monitor_ep) != 0 || zmq_connect(s->socket, arg) != 0 ||
        (e = pthread_create(&s->monitor_thread, NULL, monitor_main, s)) != 0) {
        if (e != 0)
            snprintf(err, errlen, "push: %s: cannot start the monitor thread: %s", arg,
                     strerror(e));
        else
            snprintf(err, errlen, "push: %s: %s", arg, zmq_strerror(zmq_errno()));
        if (s->monitor != NULL)
            zmq_close(s->monitor);
        if (s->socket != NULL)
            zmq_close(s->socket);
        free(s);
        ctx_release();
        return HS_EIO;
    }
    s->monitor_running = true;
    *state = s;
    return HS_OK;
}

static int push_consume(void *state, const hs_message *msg, char *err, size_t errlen)
{
    push_sink *s = state;
    if (zmq_send(s->socket, msg->topic, msg->topic_len, ZMQ_SNDMORE) < 0 ||
        zmq_send(s->socket, msg->body, msg->body_len, 0) < 0) {
        int e = zmq_errno();
        if (e == EAGAIN) {
            snprintf(err, errlen, "push: no reader took the message within %d ms", s->timeout_ms);
            return HS_ETIMEOUT;
        }
        snprintf(err, errlen, "push: %s", zmq_strerror(e));
        return HS_EIO;
    }
    atomic_fetch_add_explicit(&s->sent_bytes, msg->topic_len + msg->body_len, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sent, 1, memory_order_relaxed);
    return HS_OK;
}

static void push_close(void *state)
{
    push_sink *s = state;
    if (s == NULL)
        return;
    zmq_socket_monitor(s->socket, NULL, 0); /* the thread's last event */
    if (s->monitor_running)
        pthread_join(s->monitor_thread, NULL);
    zmq_close(s->monitor);
    zmq_close(s->socket);
    free(s);
    ctx_release();
}

const hs__sink_ops hs__sink_push = {"push", push_open, push_consume, push_close};
