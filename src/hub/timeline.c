/* timeline.c - immutable timelines of views and their one-slot mailbox. */
#include "timeline.h"

#include "hashspace/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hs__timeline {
    size_t n, npeers;
    hs__timeline_peer *peers; /* sorted by name */
    uint64_t confirmed_until_ns, lease_until_ns;
    hs__timeline_entry entries[]; /* effective_from and epoch ascending */
};

int hs__timeline_derive(hs__timeline **out, const hs__timeline *base, const hs__timeline_entry *add,
                        size_t nadd, uint64_t confirmed_until_ns, uint64_t lease_until_ns,
                        uint64_t prune_before_ns)
{
    *out = NULL;
    size_t nbase = base != NULL ? base->n : 0;
    const hs__timeline_entry *prev = nbase > 0 ? &base->entries[nbase - 1] : NULL;
    for (size_t i = 0; i < nadd; i++) {
        if (add[i].view == NULL ||
            (prev != NULL &&
             (add[i].epoch <= prev->epoch || add[i].effective_from_ns < prev->effective_from_ns)))
            return HS_EINVAL;
        prev = &add[i];
    }
    size_t total = nbase + nadd;
    /* Keep from the entry in force at prune_before_ns on. */
    size_t first = 0;
    for (size_t i = 1; i < total; i++) {
        const hs__timeline_entry *e = i < nbase ? &base->entries[i] : &add[i - nbase];
        if (e->effective_from_ns <= prune_before_ns)
            first = i;
        else
            break;
    }
    hs__timeline *t = malloc(sizeof *t + (total - first) * sizeof t->entries[0]);
    if (t == NULL)
        return HS_ENOMEM;
    t->n = 0;
    t->npeers = 0;
    t->peers = NULL;
    for (size_t i = first; i < total; i++) {
        const hs__timeline_entry *e = i < nbase ? &base->entries[i] : &add[i - nbase];
        hs__timeline_departed *departed = NULL;
        if (e->ndeparted > 0) {
            if ((departed = malloc(e->ndeparted * sizeof *departed)) == NULL) {
                hs__timeline_free(t);
                return HS_ENOMEM;
            }
            memcpy(departed, e->departed, e->ndeparted * sizeof *departed);
        }
        t->entries[t->n] = *e;
        t->entries[t->n].departed = departed;
        t->entries[t->n].view = hs_view_retain(e->view);
        t->n++;
    }
    t->confirmed_until_ns = confirmed_until_ns;
    if (base != NULL && base->confirmed_until_ns > confirmed_until_ns)
        t->confirmed_until_ns = base->confirmed_until_ns;
    t->lease_until_ns = lease_until_ns;
    *out = t;
    return HS_OK;
}

int hs__timeline_static(hs__timeline **out, hs_view *view)
{
    hs__timeline_entry e = {.epoch = hs_view_epoch(view), .effective_from_ns = 0, .view = view};
    return hs__timeline_derive(out, NULL, &e, 1, UINT64_MAX, UINT64_MAX, 0);
}

static int peer_cmp(const void *a, const void *b)
{
    return strcmp(((const hs__timeline_peer *)a)->name, ((const hs__timeline_peer *)b)->name);
}

int hs__timeline_set_peers(hs__timeline *t, const hs__timeline_peer *peers, size_t n)
{
    hs__timeline_peer *copy = n > 0 ? malloc(n * sizeof *copy) : NULL;
    if (n > 0 && copy == NULL)
        return HS_ENOMEM;
    if (n > 0)
        memcpy(copy, peers, n * sizeof *copy);
    qsort(copy, n, sizeof *copy, peer_cmp);
    free(t->peers);
    t->peers = copy;
    t->npeers = n;
    return HS_OK;
}

const hs__timeline_peer *hs__timeline_peer_find(const hs__timeline *t, const char *name)
{
    hs__timeline_peer key;
    snprintf(key.name, sizeof key.name, "%s", name);
    return t->npeers > 0 ? bsearch(&key, t->peers, t->npeers, sizeof key, peer_cmp) : NULL;
}

const hs__timeline_departed *hs__timeline_departed_find(const hs__timeline_entry *e,
                                                        const char *name)
{
    for (size_t i = 0; i < e->ndeparted; i++)
        if (strcmp(e->departed[i].name, name) == 0)
            return &e->departed[i];
    return NULL;
}

void hs__timeline_free(hs__timeline *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++) {
        hs_view_release(t->entries[i].view);
        free((hs__timeline_departed *)t->entries[i].departed);
    }
    free(t->peers);
    free(t);
}

size_t hs__timeline_size(const hs__timeline *t)
{
    return t->n;
}

const hs__timeline_entry *hs__timeline_entry_at(const hs__timeline *t, size_t i)
{
    return i < t->n ? &t->entries[i] : NULL;
}

const hs__timeline_entry *hs__timeline_newest(const hs__timeline *t)
{
    return t->n > 0 ? &t->entries[t->n - 1] : NULL;
}

/* How many entries take effect at or before ts. */
static size_t count_at_or_before(const hs__timeline *t, uint64_t ts_ns)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->entries[mid].effective_from_ns <= ts_ns)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const hs__timeline_entry *hs__timeline_at(const hs__timeline *t, uint64_t ts_ns)
{
    size_t k = count_at_or_before(t, ts_ns);
    return k > 0 ? &t->entries[k - 1] : NULL;
}

size_t hs__timeline_pending(const hs__timeline *t, uint64_t ts_ns)
{
    return t->n - count_at_or_before(t, ts_ns);
}

uint64_t hs__timeline_confirmed_until(const hs__timeline *t)
{
    return t->confirmed_until_ns;
}

bool hs__timeline_confirmed(const hs__timeline *t, uint64_t ts_ns)
{
    return ts_ns <= t->confirmed_until_ns;
}

uint64_t hs__timeline_lease_until(const hs__timeline *t)
{
    return t->lease_until_ns;
}

bool hs__timeline_fenced(const hs__timeline *t, uint64_t now_mono_ns)
{
    return now_mono_ns > t->lease_until_ns;
}

void hs__timeline_box_init(hs__timeline_box *box)
{
    atomic_init(&box->next, NULL);
    atomic_init(&box->puts, 0);
}

void hs__timeline_box_destroy(hs__timeline_box *box)
{
    hs__timeline_free(atomic_exchange_explicit(&box->next, NULL, memory_order_acquire));
}

void hs__timeline_box_put(hs__timeline_box *box, hs__timeline *t)
{
    /* Release: the reader sees the snapshot's contents; acquire: we free an
     * older one whose contents another put published. */
    hs__timeline *old = atomic_exchange_explicit(&box->next, t, memory_order_acq_rel);
    atomic_fetch_add_explicit(&box->puts, 1, memory_order_relaxed);
    hs__timeline_free(old);
}

hs__timeline *hs__timeline_box_take(hs__timeline_box *box)
{
    if (atomic_load_explicit(&box->next, memory_order_relaxed) == NULL)
        return NULL;
    return atomic_exchange_explicit(&box->next, NULL, memory_order_acq_rel);
}
