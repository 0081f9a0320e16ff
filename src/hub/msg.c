/* msg.c - refcounted, single-allocation messages. */
#include "msg.h"

#include <stdlib.h>
#include <string.h>

hs__msg *hs__msg_new(const void *topic, size_t topic_len, const void *body, size_t body_len,
                     uint64_t received_ns, unsigned refs)
{
    if (topic_len >= UINT32_MAX || body_len > SIZE_MAX - sizeof(hs__msg) - topic_len - 2)
        return NULL;
    hs__msg *m = malloc(sizeof *m + topic_len + body_len + 2);
    if (m == NULL)
        return NULL;
    atomic_init(&m->refs, refs);
    m->topic_len = (uint32_t)topic_len;
    m->body_len = body_len;
    m->received_ns = received_ns;
    m->key_hash = 0;
    if (topic_len > 0)
        memcpy(m->data, topic, topic_len);
    m->data[topic_len] = '\0';
    m->body = m->data + topic_len + 1;
    if (body_len > 0)
        memcpy(m->body, body, body_len);
    m->body[body_len] = '\0';
    return m;
}

void hs__msg_release(hs__msg *m)
{
    if (m != NULL && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
        free(m);
}
