/* ring.c - the bounded ring of recent unclaimed messages (ring.h). */
#include "ring.h"

#include <stdlib.h>

void hs__ring_init(hs__ring *r, uint64_t max_age_ns, size_t max_bytes)
{
    r->slots = NULL;
    r->cap = r->head = r->count = 0;
    r->max_age_ns = max_age_ns;
    r->max_bytes = max_bytes;
    r->bytes = 0;
    r->evicted_any = false;
    r->evicted_newest_ts = 0;
    atomic_init(&r->gauge_messages, 0);
    atomic_init(&r->gauge_bytes, 0);
}

size_t hs__ring_cost(const hs__msg *m)
{
    return sizeof *m + m->topic_len + m->body_len + 2 + sizeof(hs__ring_slot);
}

static void publish(hs__ring *r)
{
    atomic_store_explicit(&r->gauge_messages, r->count, memory_order_relaxed);
    atomic_store_explicit(&r->gauge_bytes, r->bytes + r->cap * sizeof(hs__ring_slot),
                          memory_order_relaxed);
}

static void drop_head(hs__ring *r)
{
    hs__ring_slot *s = &r->slots[r->head];
    if (s->msg != NULL) {
        if (!r->evicted_any || s->msg->ts_ns > r->evicted_newest_ts)
            r->evicted_newest_ts = s->msg->ts_ns;
        r->evicted_any = true;
        r->bytes -= hs__ring_cost(s->msg);
        hs__msg_release(s->msg);
        s->msg = NULL;
    }
    r->head = (r->head + 1) % r->cap;
    r->count--;
}

void hs__ring_expire(hs__ring *r, uint64_t now_mono_ns)
{
    size_t before = r->count;
    while (r->count > 0 && (r->slots[r->head].msg == NULL ||
                            now_mono_ns - r->slots[r->head].arrived_ns > r->max_age_ns))
        drop_head(r);
    if (r->count != before)
        publish(r);
}

static bool grow(hs__ring *r)
{
    size_t cap = r->cap > 0 ? r->cap * 2 : 1024;
    hs__ring_slot *slots = malloc(cap * sizeof *slots);
    if (slots == NULL)
        return false;
    for (size_t i = 0; i < r->count; i++)
        slots[i] = r->slots[(r->head + i) % r->cap];
    free(r->slots);
    r->slots = slots;
    r->cap = cap;
    r->head = 0;
    return true;
}

void hs__ring_push(hs__ring *r, hs__msg *m, uint64_t now_mono_ns, bool fenced)
{
    if (r->max_age_ns == 0 || r->max_bytes == 0) {
        r->evicted_any = true;
        if (m->ts_ns > r->evicted_newest_ts)
            r->evicted_newest_ts = m->ts_ns;
        hs__msg_release(m);
        return;
    }
    hs__ring_expire(r, now_mono_ns);
    size_t cost = hs__ring_cost(m);
    while (r->count > 0 && r->bytes + cost > r->max_bytes)
        drop_head(r);
    if (r->count == r->cap && !grow(r)) {
        r->evicted_any = true;
        if (m->ts_ns > r->evicted_newest_ts)
            r->evicted_newest_ts = m->ts_ns;
        hs__msg_release(m);
        publish(r);
        return;
    }
    r->slots[(r->head + r->count) % r->cap] =
        (hs__ring_slot){.msg = m, .arrived_ns = now_mono_ns, .fenced = fenced};
    r->count++;
    r->bytes += cost;
    publish(r);
}

hs__ring_slot *hs__ring_at(hs__ring *r, size_t i)
{
    return &r->slots[(r->head + i) % r->cap];
}

hs__msg *hs__ring_take(hs__ring *r, size_t i)
{
    hs__ring_slot *s = hs__ring_at(r, i);
    hs__msg *m = s->msg;
    if (m != NULL) {
        r->bytes -= hs__ring_cost(m);
        s->msg = NULL;
        publish(r);
    }
    return m;
}

bool hs__ring_reaches(const hs__ring *r, uint64_t ts_ns)
{
    return !r->evicted_any || r->evicted_newest_ts < ts_ns;
}

void hs__ring_destroy(hs__ring *r)
{
    while (r->count > 0)
        drop_head(r);
    free(r->slots);
    r->slots = NULL;
    r->cap = 0;
    publish(r);
}
