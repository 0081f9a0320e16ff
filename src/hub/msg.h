/* msg.h - a received message, stored once and shared by reference between
 * the queues of every consumer it is routed to.
 *
 * One allocation holds the header, the topic and the body, each followed by a
 * NUL so that consumers can treat them as C strings. The header is 48 bytes
 * on 64-bit Linux. A message starts with the number of references its
 * creator asks for; every holder releases its own, the last one frees it.
 *
 * Threads: the contents never change after hs__msg_new returns (key_hash is
 * set by the ingress thread before the message is shared); refs is atomic,
 * so references may be released from any thread.
 */
#ifndef HS_HUB_MSG_H
#define HS_HUB_MSG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "hashspace/consumer.h"

typedef struct hs__msg {
    atomic_uint refs;
    uint32_t topic_len;
    size_t body_len;
    uint64_t received_ns; /* CLOCK_REALTIME at receipt */
    uint64_t key_hash;    /* the claim hash of the message's key */
    uint64_t ts_ns;       /* the message's time (--time-key, else receipt), set by ingress */
    char *body;           /* points into data, after the topic's NUL */
    char data[];          /* topic, NUL, body, NUL */
} hs__msg;

/* Copy topic and body into a new message with `refs` references (>= 1).
 * Returns NULL when out of memory or when the topic is 4 GiB or longer. */
hs__msg *hs__msg_new(const void *topic, size_t topic_len, const void *body, size_t body_len,
                     uint64_t received_ns, unsigned refs);
/* Drop one reference; accepts NULL. */
void hs__msg_release(hs__msg *m);

static inline const char *hs__msg_topic(const hs__msg *m)
{
    return m->data;
}

/* The plugin ABI's view of a message: pointers into m, valid while the
 * caller holds its reference. */
static inline hs_message hs__msg_view(const hs__msg *m, uint32_t attempt)
{
    hs_message out = {m->data, m->topic_len, m->body, m->body_len, m->received_ns, attempt};
    return out;
}

#endif
