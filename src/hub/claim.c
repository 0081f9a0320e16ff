/* claim.c - the claim rule over a timeline of views, the hold of moved keys
 * and the crash takeover (claim.h). Everything here runs on the ingress
 * thread; only the stats are shared (atomics). */
#include "claim.h"

#include "log.h"

#include "hashspace/error.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DEP_PENDING, DEP_PLANNED, DEP_CRASHED };

/* A member that a view left out: the view (its epoch and effective_from)
 * and what became of the member. */
typedef struct departure {
    char *name;
    uint64_t epoch, effective_from_ns;
    int state;
    uint64_t watermark_ns, heartbeat_ns; /* when crashed */
    /* What the view recorded when it was made (a view made by an older
     * hub records nothing): the member's registration was gone (a crash),
     * and its watermark then. */
    bool recorded_crash;
    uint64_t recorded_watermark_ns;
} departure;

/* The last heartbeat seen of each member while it was live. */
typedef struct memo {
    char *name;
    uint64_t heartbeat_ns;
} memo;

typedef struct held {
    hs__msg *m;
    const char *awaited; /* interned; NULL: only behind an earlier message of its key */
    uint64_t from_ns;    /* ... until awaited's watermark reaches this */
    uint64_t since_ns;   /* CLOCK_MONOTONIC */
    hs__consumer **targets;
    size_t n;
} held;

/* A handover whose hold timed out: messages held for it go at once. */
typedef struct gave_up {
    const char *awaited; /* interned */
    uint64_t from_ns;
} gave_up;

#define GAVE_UP_SLOTS 16

typedef struct key_count {
    uint64_t hash;
    uint64_t count; /* 0: a free slot (or one freed since the last reset) */
} key_count;

struct hs__claim {
    char *self;
    uint64_t expiry_ns;
    size_t hold_max;
    uint64_t hold_timeout_ns;
    hs__claim_stats *stats;
    bool leaving, fenced;
    bool self_crashed; /* a view left this hub out without a planned leave */
    hs__timeline *tl;
    /* per entry of tl: this hub's index in its view (SIZE_MAX: not in it),
     * and whether no message can be held under it */
    size_t *self_index;
    bool *hold_free;
    departure *deps;
    size_t ndeps, ncrashed_all;
    size_t *crashed_now, ncrashed_now; /* indices into deps, from the last adopt */
    memo *memos;
    size_t nmemos;
    char **names; /* interned names of awaited members */
    size_t nnames;
    /* the hold: a FIFO, and how many messages of each key it holds */
    held *hold;
    size_t hold_cap, hold_head, hold_count;
    key_count *keys;
    size_t keys_cap, keys_used;
    uint64_t ticked_ns, epoch_in_force;
    gave_up gave_up[GAVE_UP_SLOTS]; /* the latest, round robin */
    size_t ngave_up;
    /* logged once per handover */
    const char *logged_awaited;
    uint64_t logged_from;
};

int hs__claim_new(hs__claim **out, const char *self, uint64_t expiry_ns, size_t hold_max,
                  uint64_t hold_timeout_ns, hs__claim_stats *stats)
{
    hs__claim *c = calloc(1, sizeof *c);
    if (c == NULL || (c->self = strdup(self)) == NULL) {
        free(c);
        return HS_ENOMEM;
    }
    c->expiry_ns = expiry_ns;
    c->hold_max = hold_max > 0 ? hold_max : 1;
    c->hold_timeout_ns = hold_timeout_ns;
    c->stats = stats;
    *out = c;
    return HS_OK;
}

void hs__claim_free(hs__claim *c)
{
    if (c == NULL)
        return;
    hs__timeline_free(c->tl);
    free(c->self_index);
    free(c->hold_free);
    for (size_t i = 0; i < c->ndeps; i++)
        free(c->deps[i].name);
    free(c->deps);
    free(c->crashed_now);
    for (size_t i = 0; i < c->nmemos; i++)
        free(c->memos[i].name);
    free(c->memos);
    for (size_t i = 0; i < c->nnames; i++)
        free(c->names[i]);
    free(c->names);
    for (size_t i = 0; i < c->hold_count; i++) {
        held *h = &c->hold[(c->hold_head + i) % c->hold_cap];
        for (size_t k = 0; k < h->n; k++)
            hs__msg_release(h->m);
        free(h->targets);
    }
    free(c->hold);
    free(c->keys);
    free(c->self);
    free(c);
}

const hs__timeline *hs__claim_timeline(const hs__claim *c)
{
    return c->tl;
}

void hs__claim_set_leaving(hs__claim *c)
{
    c->leaving = true;
}

static void set(atomic_uint_fast64_t *a, uint64_t v)
{
    atomic_store_explicit(a, v, memory_order_relaxed);
}

static void add(atomic_uint_fast64_t *a, uint64_t v)
{
    atomic_fetch_add_explicit(a, v, memory_order_relaxed);
}

static const char *intern(hs__claim *c, const char *name)
{
    for (size_t i = 0; i < c->nnames; i++)
        if (strcmp(c->names[i], name) == 0)
            return c->names[i];
    char **names = realloc(c->names, (c->nnames + 1) * sizeof *names);
    if (names == NULL)
        return NULL;
    c->names = names;
    if ((names[c->nnames] = strdup(name)) == NULL)
        return NULL;
    return names[c->nnames++];
}

static bool view_has(const hs_view *v, const char *name)
{
    size_t i;
    return hs_view_index(v, name, &i) == HS_OK;
}

static const hs__timeline_entry *entry(const hs__claim *c, size_t i)
{
    return hs__timeline_entry_at(c->tl, i);
}

static size_t entry_by_epoch(const hs__claim *c, uint64_t epoch)
{
    size_t n = hs__timeline_size(c->tl);
    for (size_t i = 0; i < n; i++)
        if (entry(c, i)->epoch == epoch)
            return i;
    return SIZE_MAX;
}

/* The index of the entry in force at ts; a message stamped before the first
 * entry known is decided by it. SIZE_MAX when there is none. */
static size_t entry_at(const hs__claim *c, uint64_t ts)
{
    const hs__timeline_entry *e = hs__timeline_at(c->tl, ts);
    if (e == NULL)
        return hs__timeline_size(c->tl) > 0 ? 0 : SIZE_MAX;
    return (size_t)(e - hs__timeline_entry_at(c->tl, 0));
}

static const char *owner_in(const hs__claim *c, size_t i, uint64_t hash)
{
    const hs_view *v = entry(c, i)->view;
    size_t idx;
    if (hs_view_owner_hash(v, hash, &idx) != HS_OK)
        return NULL;
    return hs_view_member_name(v, idx);
}

/* The crashed departure of `name` after entry i (the first view without it
 * that follows), or NULL. */
static const departure *crashed_after(const hs__claim *c, const char *name, size_t i)
{
    const departure *best = NULL;
    uint64_t epoch = entry(c, i)->epoch;
    for (size_t k = 0; k < c->ndeps; k++) {
        const departure *d = &c->deps[k];
        if (d->state == DEP_CRASHED && d->epoch > epoch && strcmp(d->name, name) == 0 &&
            (best == NULL || d->epoch < best->epoch))
            best = d;
    }
    return best;
}

/* The owner of hash at ts, starting from entry i, past crashed members: a
 * crashed member's message stamped at or after its last watermark belongs
 * to the owner under the first view without it. */
static const char *resolve(const hs__claim *c, size_t i, uint64_t ts, uint64_t hash, bool *moved,
                           bool *dup)
{
    const char *owner = owner_in(c, i, hash);
    for (int guard = 0; owner != NULL && c->ncrashed_all > 0 && guard < 64; guard++) {
        const departure *d = crashed_after(c, owner, i);
        if (d == NULL || ts < d->watermark_ns)
            break;
        size_t k = entry_by_epoch(c, d->epoch);
        if (k == SIZE_MAX)
            break;
        *moved = true;
        if (d->heartbeat_ns == 0 || ts <= d->heartbeat_ns + c->expiry_ns)
            *dup = true;
        owner = owner_in(c, k, hash);
        i = k;
    }
    return owner;
}

static departure *departure_find(hs__claim *c, const char *name, uint64_t epoch)
{
    for (size_t k = 0; k < c->ndeps; k++)
        if (c->deps[k].epoch == epoch && strcmp(c->deps[k].name, name) == 0)
            return &c->deps[k];
    return NULL;
}

static void memo_update(hs__claim *c, const hs__timeline_peer *p)
{
    for (size_t i = 0; i < c->nmemos; i++)
        if (strcmp(c->memos[i].name, p->name) == 0) {
            if (p->heartbeat_ns > c->memos[i].heartbeat_ns)
                c->memos[i].heartbeat_ns = p->heartbeat_ns;
            return;
        }
    memo *m = realloc(c->memos, (c->nmemos + 1) * sizeof *m);
    if (m == NULL)
        return;
    c->memos = m;
    if ((m[c->nmemos].name = strdup(p->name)) == NULL)
        return;
    m[c->nmemos++].heartbeat_ns = p->heartbeat_ns;
}

static uint64_t memo_heartbeat(const hs__claim *c, const char *name)
{
    for (size_t i = 0; i < c->nmemos; i++)
        if (strcmp(c->memos[i].name, name) == 0)
            return c->memos[i].heartbeat_ns;
    return 0;
}

/* Every member a view left out, and what became of it. */
static void find_departures(hs__claim *c)
{
    size_t n = hs__timeline_size(c->tl);
    for (size_t i = 0; i + 1 < n; i++) {
        const hs__timeline_entry *a = entry(c, i), *b = entry(c, i + 1);
        for (size_t m = 0; m < hs_view_size(a->view); m++) {
            const char *name = hs_view_member_name(a->view, m);
            if (view_has(b->view, name) || departure_find(c, name, b->epoch) != NULL)
                continue;
            departure *deps = realloc(c->deps, (c->ndeps + 1) * sizeof *deps);
            if (deps == NULL)
                return;
            c->deps = deps;
            departure *d = &deps[c->ndeps];
            const hs__timeline_departed *rec = hs__timeline_departed_find(b, name);
            *d = (departure){.name = strdup(name),
                             .epoch = b->epoch,
                             .effective_from_ns = b->effective_from_ns,
                             .state = DEP_PENDING,
                             .recorded_crash = rec != NULL && !rec->leaving,
                             .recorded_watermark_ns =
                                 rec != NULL && rec->has_watermark ? rec->watermark_ns : 0};
            if (d->name != NULL)
                c->ndeps++;
        }
    }
    /* Departures before the oldest entry can no longer matter. */
    uint64_t oldest = n > 0 ? entry(c, 0)->epoch : 0;
    for (size_t k = 0; k < c->ndeps;) {
        if (c->deps[k].epoch <= oldest) {
            if (c->deps[k].state == DEP_CRASHED)
                c->ncrashed_all--;
            if (c->deps[k].state == DEP_CRASHED && strcmp(c->deps[k].name, c->self) == 0)
                c->self_crashed = false;
            free(c->deps[k].name);
            c->deps[k] = c->deps[--c->ndeps];
        } else {
            k++;
        }
    }
}

static void classify(hs__claim *c)
{
    c->ncrashed_now = 0;
    for (size_t k = 0; k < c->ndeps; k++) {
        departure *d = &c->deps[k];
        if (d->state != DEP_PENDING)
            continue;
        const hs__timeline_peer *p = hs__timeline_peer_find(c->tl, d->name);
        bool mine = strcmp(d->name, c->self) == 0;
        bool done = p != NULL && p->has_watermark && p->watermark_ns >= d->effective_from_ns;
        /* The view recorded that its registration was gone: a crash, from
         * the watermark it had then. What it published after it came back
         * (it was cut off) says nothing of the messages the others took
         * over, and a survivor that adopts the view later must decide as
         * one that adopted it at once. */
        if (!d->recorded_crash) {
            if (done || (mine && c->leaving)) {
                d->state = DEP_PLANNED;
                continue;
            }
            /* Left out while it did not announce a leave (its registration
             * expired, even if it came back since), or gone before it
             * finished what it owned: crashed. */
            if (!mine && p != NULL && p->live && p->leaving)
                continue;
        }
        d->state = DEP_CRASHED;
        if (d->recorded_crash)
            d->watermark_ns = d->recorded_watermark_ns;
        else
            d->watermark_ns = p != NULL && p->has_watermark ? p->watermark_ns : 0;
        d->heartbeat_ns = memo_heartbeat(c, d->name);
        c->ncrashed_all++;
        if (mine) {
            c->self_crashed = true;
            hs__warn("membership: view %" PRIu64 " replaced this hub (it was cut off); the others "
                     "take its messages from its watermark on",
                     d->epoch);
            continue;
        }
        add(&c->stats->crashes, 1);
        hs__warn("membership: %s crashed (left out of view %" PRIu64
                 " without a planned leave); taking over its messages stamped from its "
                 "watermark on (%.3f s before that view)",
                 d->name, d->epoch, ((double)d->effective_from_ns - (double)d->watermark_ns) / 1e9);
        size_t *list = realloc(c->crashed_now, (c->ncrashed_now + 1) * sizeof *list);
        if (list != NULL) {
            c->crashed_now = list;
            list[c->ncrashed_now++] = k;
        }
    }
}

/* Can any message be held under entry i? Not when this hub is not in it,
 * when it is the first, or when every other member of the entry before is
 * done with what it owned before entry i (or crashed: then the takeover
 * keeps the order). */
static bool entry_hold_free(hs__claim *c, size_t i)
{
    if (i == 0 || c->self_index[i] == SIZE_MAX)
        return true;
    const hs__timeline_entry *prev = entry(c, i - 1), *e = entry(c, i);
    for (size_t m = 0; m < hs_view_size(prev->view); m++) {
        const char *name = hs_view_member_name(prev->view, m);
        if (strcmp(name, c->self) == 0)
            continue;
        const hs__timeline_peer *p = hs__timeline_peer_find(c->tl, name);
        if (p != NULL && p->has_watermark && p->watermark_ns >= e->effective_from_ns)
            continue;
        if (crashed_after(c, name, i - 1) != NULL)
            continue;
        return false;
    }
    return true;
}

void hs__claim_adopt(hs__claim *c, hs__timeline *t, uint64_t now_mono_ns)
{
    (void)now_mono_ns;
    hs__timeline_free(c->tl);
    c->tl = t;
    size_t n = hs__timeline_size(t);
    free(c->self_index);
    free(c->hold_free);
    c->self_index = calloc(n + 1, sizeof *c->self_index);
    c->hold_free = calloc(n + 1, sizeof *c->hold_free);
    if (c->self_index == NULL || c->hold_free == NULL) {
        hs__error("out of memory adopting a timeline");
        abort();
    }
    for (size_t i = 0; i < n; i++)
        if (hs_view_index(entry(c, i)->view, c->self, &c->self_index[i]) != HS_OK)
            c->self_index[i] = SIZE_MAX;
    /* The peers' last heartbeats, for a crash's possible duplicates. */
    for (size_t i = 0; i < n; i++) {
        const hs_view *v = entry(c, i)->view;
        for (size_t m = 0; m < hs_view_size(v); m++) {
            const hs__timeline_peer *p = hs__timeline_peer_find(t, hs_view_member_name(v, m));
            if (p != NULL && p->live)
                memo_update(c, p);
        }
    }
    find_departures(c);
    classify(c);
    for (size_t i = 0; i < n; i++)
        c->hold_free[i] = entry_hold_free(c, i);
    c->ticked_ns = 0;
    hs__claim_tick(c, now_mono_ns);
}

void hs__claim_tick(hs__claim *c, uint64_t now_mono_ns)
{
    if (c->tl == NULL || (c->ticked_ns != 0 && now_mono_ns - c->ticked_ns < 20000000ull))
        return;
    c->ticked_ns = now_mono_ns;
    uint64_t now = hs__realtime_ns();
    const hs__timeline_entry *e = hs__timeline_at(c->tl, now);
    size_t pending = hs__timeline_pending(c->tl, now);
    set(&c->stats->pending, pending);
    size_t n = hs__timeline_size(c->tl);
    set(&c->stats->pending_from,
        pending > 0 ? hs__timeline_entry_at(c->tl, n - pending)->effective_from_ns : 0);
    if (e == NULL || e->epoch == c->epoch_in_force)
        return;
    c->epoch_in_force = e->epoch;
    set(&c->stats->view_epoch, e->epoch);
    set(&c->stats->view_members, hs_view_size(e->view));
    size_t self;
    hs__info("view %" PRIu64 " in force: %zu member%s%s", e->epoch, hs_view_size(e->view),
             hs_view_size(e->view) == 1 ? "" : "s",
             hs_view_index(e->view, c->self, &self) == HS_OK ? ""
                                                             : " (this hub is not one of them)");
}

size_t hs__claim_crashed(const hs__claim *c, const char **name, uint64_t *watermark_ns,
                         uint64_t *heartbeat_ns, size_t i)
{
    if (i < c->ncrashed_now) {
        const departure *d = &c->deps[c->crashed_now[i]];
        *name = d->name;
        *watermark_ns = d->watermark_ns;
        *heartbeat_ns = d->heartbeat_ns;
    }
    return c->ncrashed_now;
}

/* The key set of the hold. */
static key_count *key_slot(hs__claim *c, uint64_t hash, bool insert)
{
    if (c->keys_cap == 0)
        return NULL;
    size_t mask = c->keys_cap - 1, i = (size_t)(hash ^ (hash >> 29)) & mask;
    for (;; i = (i + 1) & mask) {
        key_count *k = &c->keys[i];
        if (k->hash == hash && (k->count > 0 || insert))
            return k;
        if (k->hash == 0 && k->count == 0)
            return insert ? k : NULL;
    }
}

static bool key_held(hs__claim *c, uint64_t hash)
{
    if (c->hold_count == 0)
        return false;
    key_count *k = key_slot(c, hash | 1, false);
    return k != NULL && k->count > 0;
}

static int key_add(hs__claim *c, uint64_t hash)
{
    hash |= 1; /* 0 marks a free slot */
    if (c->keys_used + 1 > c->keys_cap / 2) {
        size_t cap = c->keys_cap > 0 ? c->keys_cap * 2 : 1024;
        key_count *old = c->keys;
        size_t old_cap = c->keys_cap;
        if ((c->keys = calloc(cap, sizeof *c->keys)) == NULL) {
            c->keys = old;
            return HS_ENOMEM;
        }
        c->keys_cap = cap;
        c->keys_used = 0;
        for (size_t i = 0; i < old_cap; i++)
            if (old[i].count > 0) {
                key_count *k = key_slot(c, old[i].hash, true);
                *k = old[i];
                c->keys_used++;
            }
        free(old);
    }
    key_count *k = key_slot(c, hash, true);
    if (k->hash == 0)
        c->keys_used++;
    k->hash = hash;
    k->count++;
    return HS_OK;
}

static void key_remove(hs__claim *c, uint64_t hash)
{
    key_count *k = key_slot(c, hash | 1, false);
    if (k != NULL && k->count > 0)
        k->count--;
}

bool hs__claim_update_fence(hs__claim *c, uint64_t now_mono_ns, bool *unfenced)
{
    *unfenced = false;
    bool fenced = c->tl != NULL && hs__timeline_fenced(c->tl, now_mono_ns);
    if (fenced != c->fenced) {
        c->fenced = fenced;
        set(&c->stats->fenced, fenced);
        *unfenced = !fenced;
    }
    return fenced;
}

hs__verdict hs__claim_decide(hs__claim *c, uint64_t ts_ns, uint64_t hash, uint64_t now_mono_ns,
                             bool *taken_over, bool *possible_dup)
{
    (void)now_mono_ns;
    *taken_over = *possible_dup = false;
    if (c->tl == NULL)
        return HS__VERDICT_SKIP;
    if (c->fenced)
        return HS__VERDICT_FENCED;
    size_t i = entry_at(c, ts_ns);
    if (i == SIZE_MAX)
        return HS__VERDICT_SKIP;
    const hs_view *v = entry(c, i)->view;
    size_t idx;
    if (hs_view_owner_hash(v, hash, &idx) != HS_OK)
        return HS__VERDICT_SKIP;
    if (idx == c->self_index[i]) {
        /* A view that left this hub out while it was cut off: the others
         * took its messages over from its watermark on. */
        if (c->self_crashed) {
            bool moved = false, dup = false;
            const char *owner = resolve(c, i, ts_ns, hash, &moved, &dup);
            if (moved && (owner == NULL || strcmp(owner, c->self) != 0))
                return HS__VERDICT_SKIP;
        }
        if (key_held(c, hash))
            return HS__VERDICT_HOLD;
        return c->hold_free[i] ? HS__VERDICT_OWN : HS__VERDICT_HOLD;
    }
    if (c->ncrashed_all == 0)
        return HS__VERDICT_SKIP;
    bool moved = false, dup = false;
    const char *owner = resolve(c, i, ts_ns, hash, &moved, &dup);
    if (owner == NULL || strcmp(owner, c->self) != 0)
        return HS__VERDICT_SKIP;
    *taken_over = moved;
    *possible_dup = dup;
    return key_held(c, hash) ? HS__VERDICT_HOLD : HS__VERDICT_OWN;
}

bool hs__claim_replay_mine(hs__claim *c, uint64_t ts_ns, uint64_t hash, bool fenced,
                           bool *possible_dup)
{
    *possible_dup = false;
    if (c->tl == NULL)
        return false;
    size_t i = entry_at(c, ts_ns);
    if (i == SIZE_MAX)
        return false;
    bool moved = false;
    const char *owner = resolve(c, i, ts_ns, hash, &moved, possible_dup);
    if (owner == NULL || strcmp(owner, c->self) != 0)
        return false;
    /* Kept while fenced: ours if no view replaced us meanwhile (then resolve
     * moved it elsewhere). Else only a crash makes it ours. */
    return fenced || moved;
}

/* What a held message waits for: the hub that owned its key just before
 * the view in force at its time, until its watermark reaches that view's
 * effective_from. NULL when nothing (it waits only behind its key). */
static const char *awaited_for(hs__claim *c, uint64_t ts, uint64_t hash, uint64_t *from)
{
    size_t i = entry_at(c, ts);
    if (i == SIZE_MAX || i == 0 || c->hold_free[i])
        return NULL;
    uint64_t f = entry(c, i)->effective_from_ns;
    bool moved = false, dup = false;
    const char *prev = resolve(c, i - 1, f - 1, hash, &moved, &dup);
    if (prev == NULL || strcmp(prev, c->self) == 0)
        return NULL;
    const hs__timeline_peer *p = hs__timeline_peer_find(c->tl, prev);
    if (p != NULL && p->has_watermark && p->watermark_ns >= f)
        return NULL;
    *from = f;
    return intern(c, prev);
}

int hs__claim_hold(hs__claim *c, hs__msg *m, hs__consumer *const *targets, size_t n,
                   uint64_t now_mono_ns)
{
    if (c->hold_count >= c->hold_max)
        return HS_EFULL;
    if (c->hold_count == c->hold_cap) {
        size_t cap = c->hold_cap > 0 ? c->hold_cap * 2 : 256;
        held *h = malloc(cap * sizeof *h);
        if (h == NULL)
            return HS_ENOMEM;
        for (size_t i = 0; i < c->hold_count; i++)
            h[i] = c->hold[(c->hold_head + i) % c->hold_cap];
        free(c->hold);
        c->hold = h;
        c->hold_cap = cap;
        c->hold_head = 0;
    }
    hs__consumer **copy = malloc((n > 0 ? n : 1) * sizeof *copy);
    if (copy == NULL || key_add(c, m->key_hash) != HS_OK) {
        free(copy);
        return HS_ENOMEM;
    }
    memcpy(copy, targets, n * sizeof *copy);
    held *h = &c->hold[(c->hold_head + c->hold_count) % c->hold_cap];
    *h = (held){.m = m, .since_ns = now_mono_ns, .targets = copy, .n = n};
    h->awaited = awaited_for(c, m->ts_ns, m->key_hash, &h->from_ns);
    if (h->awaited != NULL && (h->awaited != c->logged_awaited || h->from_ns != c->logged_from)) {
        c->logged_awaited = h->awaited;
        c->logged_from = h->from_ns;
        hs__info("handover: holding keys that move from %s to this hub until %s has finished "
                 "what it owned before the view (its watermark is behind)",
                 h->awaited, h->awaited);
    }
    if (c->hold_count == 0)
        set(&c->stats->held_oldest_ts, m->ts_ns);
    c->hold_count++;
    set(&c->stats->held, c->hold_count);
    add(&c->stats->held_total, 1);
    return HS_OK;
}

static bool satisfied(hs__claim *c, const held *h)
{
    if (h->awaited == NULL)
        return true;
    const hs__timeline_peer *p = hs__timeline_peer_find(c->tl, h->awaited);
    if (p != NULL && p->has_watermark && p->watermark_ns >= h->from_ns)
        return true;
    for (size_t k = 0; k < c->ndeps; k++)
        if (c->deps[k].state == DEP_CRASHED && strcmp(c->deps[k].name, h->awaited) == 0)
            return true;
    return false;
}

static bool given_up(const hs__claim *c, const held *h)
{
    size_t n = c->ngave_up < GAVE_UP_SLOTS ? c->ngave_up : GAVE_UP_SLOTS;
    for (size_t i = 0; i < n; i++)
        if (c->gave_up[i].awaited == h->awaited && c->gave_up[i].from_ns == h->from_ns)
            return true;
    return false;
}

/* The hold of h ran out while its old owner lives and has not finished
 * what it owned before the view: stop waiting for that handover. */
static void give_up(hs__claim *c, const held *h, uint64_t now_mono_ns)
{
    c->gave_up[c->ngave_up++ % GAVE_UP_SLOTS] = (gave_up){h->awaited, h->from_ns};
    const hs__timeline_peer *p = hs__timeline_peer_find(c->tl, h->awaited);
    hs__warn("handover: %s still has not finished what it owned before the view (its watermark "
             "is %.3f s behind the view's start) after %.1f s (hold-timeout): releasing the "
             "messages held for it; they may be processed before its unfinished ones of the "
             "same key (possible reordering)",
             h->awaited,
             p != NULL && p->has_watermark && p->watermark_ns < h->from_ns
                 ? (double)(h->from_ns - p->watermark_ns) / 1e9
                 : 0.0,
             (double)(now_mono_ns - h->since_ns) / 1e9);
}

size_t hs__claim_release(hs__claim *c, bool force, uint64_t now_mono_ns, hs__claim_deliver fn,
                         void *arg)
{
    size_t released = 0, early = 0;
    uint64_t waited = 0;
    while (c->hold_count > 0) {
        held *h = &c->hold[c->hold_head];
        if (!force && !satisfied(c, h)) {
            bool out_of_time =
                c->hold_timeout_ns > 0 && now_mono_ns - h->since_ns >= c->hold_timeout_ns;
            if (!given_up(c, h)) {
                if (!out_of_time)
                    break;
                give_up(c, h, now_mono_ns);
            }
            early++;
        }
        held one = *h;
        c->hold_head = (c->hold_head + 1) % c->hold_cap;
        c->hold_count--;
        key_remove(c, one.m->key_hash);
        waited += now_mono_ns - one.since_ns;
        fn(arg, one.m, one.targets, one.n);
        free(one.targets);
        released++;
    }
    if (early > 0)
        add(&c->stats->hold_timeouts, early);
    if (released > 0) {
        add(&c->stats->hold_ns, waited);
        set(&c->stats->held, c->hold_count);
        set(&c->stats->held_oldest_ts, c->hold_count > 0 ? c->hold[c->hold_head].m->ts_ns : 0);
        if (c->hold_count == 0) {
            memset(c->keys, 0, c->keys_cap * sizeof *c->keys);
            c->keys_used = 0;
            hs__info("handover: released %zu held message%s%s", released, released == 1 ? "" : "s",
                     force ? " (stopping)" : "");
        }
    }
    return released;
}

size_t hs__claim_held(const hs__claim *c)
{
    return c->hold_count;
}
