/* sink_push.c - `push:ENDPOINT`: forward each message as the two frames
 * [topic, body] to a ZeroMQ PUSH socket connected to ENDPOINT. Each worker
 * has its own socket (ZeroMQ sockets are single-threaded). A send waits for
 * room up to the consumer's timeout (5 s when none is set): a slow reader
 * slows this consumer only, and a missing one makes the attempt fail. A
 * message counts as processed once ZeroMQ took it (up to its send buffer of
 * 1000 messages per socket ahead of the reader); at close the socket waits
 * up to 5 s for that buffer to drain.
 *
 * DESIGN: the sockets of every push instance live in one ZeroMQ context of
 * this file, created by the first open and terminated by the last close;
 * ctx_lock guards it and its user count. A socket is used by its worker
 * thread only.
 */
#include "sink.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

#define PUSH_DEFAULT_TIMEOUT_MS 5000

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
    int timeout_ms;
} push_sink;

static int push_open(void **state, const char *arg, const hs__sink_env *env, char *err,
                     size_t errlen)
{
    if (arg == NULL || arg[0] == '\0') {
        snprintf(err, errlen, "push: wants an endpoint (push:tcp://HOST:PORT)");
        return HS_EINVAL;
    }
    push_sink *s = malloc(sizeof *s);
    if (s == NULL)
        return HS_ENOMEM;
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
    int linger = 5000, immediate = 1;
    if (s->socket == NULL ||
        zmq_setsockopt(s->socket, ZMQ_IMMEDIATE, &immediate, sizeof immediate) != 0 ||
        zmq_setsockopt(s->socket, ZMQ_SNDTIMEO, &s->timeout_ms, sizeof s->timeout_ms) != 0 ||
        zmq_setsockopt(s->socket, ZMQ_LINGER, &linger, sizeof linger) != 0 ||
        zmq_connect(s->socket, arg) != 0) {
        snprintf(err, errlen, "push: %s: %s", arg, zmq_strerror(zmq_errno()));
        if (s->socket != NULL)
            zmq_close(s->socket);
        free(s);
        ctx_release();
        return HS_EIO;
    }
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
    return HS_OK;
}

static void push_close(void *state)
{
    push_sink *s = state;
    if (s == NULL)
        return;
    zmq_close(s->socket);
    free(s);
    ctx_release();
}

const hs__sink_ops hs__sink_push = {"push", push_open, push_consume, push_close};
