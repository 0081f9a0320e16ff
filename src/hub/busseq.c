/* busseq.c - per-publisher sequence tracking: gaps, late messages,
 * duplicates and restarts. The rules and the DESIGN paragraph are in
 * busseq.h. */
#include "busseq.h"

#include "hashspace/error.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* Twice the entries, a power of two: probes stay short. */
#define INDEX_SLOTS (2 * HS__BUSSEQ_MAX_PUBLISHERS)

int hs__busseq_init(hs__busseq *s)
{
    memset(s, 0, sizeof *s);
    s->pubs = calloc(HS__BUSSEQ_MAX_PUBLISHERS, sizeof *s->pubs);
    s->index = calloc(INDEX_SLOTS, sizeof *s->index);
    if (s->pubs == NULL || s->index == NULL) {
        hs__busseq_destroy(s);
        return HS_ENOMEM;
    }
    return HS_OK;
}

void hs__busseq_destroy(hs__busseq *s)
{
    free(s->pubs);
    free(s->index);
    s->pubs = NULL;
    s->index = NULL;
}

/* The ingress thread is the only writer: a load and a store, no locked
 * read-modify-write. */
static void add(atomic_uint_fast64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* The entry of a publisher, created on first sight; NULL when full. */
static hs__busseq_pub *find(hs__busseq *s, const char *name, size_t len, bool *created)
{
    if (len >= HS__BUSSEQ_NAME_MAX)
        len = HS__BUSSEQ_NAME_MAX - 1;
    size_t slot = (size_t)XXH3_64bits(name, len) & (INDEX_SLOTS - 1);
    size_t n = atomic_load_explicit(&s->npubs, memory_order_relaxed);
    for (;; slot = (slot + 1) & (INDEX_SLOTS - 1)) {
        uint32_t e = s->index[slot];
        if (e == 0)
            break;
        hs__busseq_pub *p = &s->pubs[e - 1];
        if (strncmp(p->name, name, len) == 0 && p->name[len] == '\0') {
            *created = false;
            return p;
        }
    }
    if (n == HS__BUSSEQ_MAX_PUBLISHERS)
        return NULL;
    hs__busseq_pub *p = &s->pubs[n];
    memcpy(p->name, name, len);
    p->name[len] = '\0';
    s->index[slot] = (uint32_t)n + 1;
    *created = true;
    return p;
}

static hs__busseq_event observe(hs__busseq *s, hs__busseq_pub *p, bool created, uint64_t i,
                                uint64_t *missing, uint64_t *previous);

hs__busseq_event hs__busseq_observe(hs__busseq *s, const char *name, size_t len, uint64_t i,
                                    uint64_t *missing, uint64_t *previous)
{
    hs__busseq_pub *last = NULL;
    return hs__busseq_observe_cached(s, &last, name, len, i, missing, previous);
}

hs__busseq_event hs__busseq_observe_cached(hs__busseq *s, hs__busseq_pub **last, const char *name,
                                           size_t len, uint64_t i, uint64_t *missing,
                                           uint64_t *previous)
{
    *missing = 0;
    bool created = false;
    if (*last == NULL)
        *last = find(s, name, len, &created);
    if (*last == NULL) {
        add(&s->untracked, 1);
        return HS__BUSSEQ_UNTRACKED;
    }
    return observe(s, *last, created, i, missing, previous);
}

static hs__busseq_event observe(hs__busseq *s, hs__busseq_pub *p, bool created, uint64_t i,
                                uint64_t *missing, uint64_t *previous)
{
    uint64_t last = atomic_load_explicit(&p->last, memory_order_relaxed);
    *previous = last;
    hs__busseq_event ev;
    if (created) {
        ev = HS__BUSSEQ_FIRST;
        p->window = 1;
        last = i;
    } else if (i > last) {
        uint64_t d = i - last;
        if (d == 1) {
            ev = HS__BUSSEQ_IN_ORDER;
        } else {
            ev = HS__BUSSEQ_GAP;
            *missing = d - 1;
            add(&p->missing, d - 1);
            add(&p->gaps, 1);
        }
        p->window = (d >= HS__BUSSEQ_WINDOW ? 0 : p->window << d) | 1;
        last = i;
    } else if (i == last) {
        ev = HS__BUSSEQ_DUPLICATE;
        add(&p->duplicates, 1);
    } else if (i <= 1 || last - i >= HS__BUSSEQ_WINDOW) {
        ev = HS__BUSSEQ_RESTART;
        add(&p->restarts, 1);
        p->window = 1;
        last = i;
    } else if (p->window >> (last - i) & 1) {
        ev = HS__BUSSEQ_DUPLICATE;
        add(&p->duplicates, 1);
    } else {
        ev = HS__BUSSEQ_LATE;
        add(&p->late, 1);
        p->window |= (uint64_t)1 << (last - i);
    }
    atomic_store_explicit(&p->last, last, memory_order_relaxed);
    add(&p->received, 1);
    if (created)
        atomic_store_explicit(&s->npubs, atomic_load(&s->npubs) + 1, memory_order_release);
    return ev;
}
