/* msg.c - refcounted, single-allocation messages.
 *
 * DESIGN: the ingress thread allocates messages and the workers mostly free
 * them. Freed across threads, glibc returns every block to the ingress
 * thread's arena under that arena's lock, which the ingress thread's next
 * malloc then waits for. So the last release pushes the block onto a
 * lock-free stack (`returned`, any thread), and hs__msg_new takes the whole
 * stack with one atomic exchange (a single taker of the whole list has no
 * ABA problem) into a list of its own thread, reusing a block whose usable
 * size fits the new message within RECYCLE_SLACK bytes and freeing, on its
 * own thread, the ones that do not. A thread's list is freed when it exits;
 * what is on the stack stays reachable from it.
 */
#include "msg.h"

#include <malloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Reuse a block for a message at most this much smaller than it, so that
 * a queue of small messages does not sit in large blocks. */
#define RECYCLE_SLACK 64
/* Blocks a thread keeps after taking the stack; the rest are freed. */
#define RECYCLE_KEEP 4096

typedef struct spare {
    struct spare *next;
} spare;

static _Atomic(spare *) returned;
static _Thread_local spare *own;
static _Thread_local bool own_registered;
static pthread_key_t own_key;
static pthread_once_t own_once = PTHREAD_ONCE_INIT;

static void free_list(spare *head)
{
    for (spare *s = head, *next; s != NULL; s = next) {
        next = s->next;
        free(s);
    }
}

/* Key destructor: runs on the exiting thread, whose thread-locals are still
 * there. */
static void free_own(void *unused)
{
    (void)unused;
    free_list(own);
    own = NULL;
}

static void own_key_create(void)
{
    pthread_key_create(&own_key, free_own);
}

/* Take what the other threads returned; keep RECYCLE_KEEP of it. */
static void take_returned(void)
{
    spare *list = atomic_exchange_explicit(&returned, NULL, memory_order_acquire);
    if (list == NULL)
        return;
    spare *last = list;
    size_t n = 1;
    while (last->next != NULL && n < RECYCLE_KEEP) {
        last = last->next;
        n++;
    }
    free_list(last->next);
    last->next = NULL;
    own = list;
    if (!own_registered) {
        /* Any non-NULL value: it only makes the destructor run at exit. */
        pthread_once(&own_once, own_key_create);
        own_registered = pthread_setspecific(own_key, &own_registered) == 0;
    }
}

static void *block_for(size_t need)
{
    if (own == NULL)
        take_returned();
    spare *s = own;
    if (s == NULL)
        return malloc(need);
    own = s->next;
    size_t usable = malloc_usable_size(s);
    if (usable >= need && usable - need <= RECYCLE_SLACK)
        return s;
    free(s);
    return malloc(need);
}

hs__msg *hs__msg_new(const void *topic, size_t topic_len, const void *body, size_t body_len,
                     uint64_t received_ns, unsigned refs)
{
    if (topic_len >= UINT32_MAX || body_len > SIZE_MAX - sizeof(hs__msg) - topic_len - 2)
        return NULL;
    hs__msg *m = block_for(sizeof *m + topic_len + body_len + 2);
    if (m == NULL)
        return NULL;
    atomic_init(&m->refs, refs);
    m->topic_len = (uint32_t)topic_len;
    m->body_len = body_len;
    m->received_ns = received_ns;
    m->key_hash = 0;
    m->ts_ns = received_ns;
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
    if (m == NULL || atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1)
        return;
    spare *s = (spare *)(void *)m;
    s->next = atomic_load_explicit(&returned, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&returned, &s->next, s, memory_order_release,
                                                  memory_order_relaxed))
        ;
}
