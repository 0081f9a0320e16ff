/* place_memento.c - MementoHash (Coluzzi, Brocco, Antonucci, Leidi, 2023) on
 * top of JumpBackHash: any member can be removed and only its keys move;
 * adding a member restores the most recently removed bucket (or appends one),
 * and only keys that go to it move. No weights.
 *
 * Buckets 0 .. n-1 are JumpBackHash's. Removing bucket b while w buckets work
 * records repl[b] = w - 1: b's position in the working set is taken by
 * whatever sits at position w - 1. A key whose bucket is removed rehashes
 * uniformly into [0, repl[b]) and follows the replacements made before b's
 * removal (those with a larger repl). Removing the last bucket while nothing
 * else is removed just shrinks n, as jump hash does. Lookup costs one
 * JumpBackHash plus, for a key of a removed bucket, a short walk: expected
 * O(1 + ln(n / working)).
 *
 * Because answers depend on the order of removals, this method implements
 * add/remove rather than build. */
#include "place_jumpback.h"

#include <stdlib.h>

#define NO_MEMBER UINT32_MAX

typedef struct memento {
    uint32_t n;              /* JumpBackHash buckets, working or removed */
    uint32_t n_removed;      /* removed buckets below n */
    size_t cap;              /* entries allocated in repl, member_of, removed */
    uint32_t *repl;          /* [cap] see hs__removals */
    hs_member_id *member_of; /* [cap] member in a working bucket */
    uint32_t *removed;       /* [cap] stack of removed buckets, most recent last */
    uint32_t *bucket_of;     /* [id_cap] bucket of a member id */
    size_t id_cap;
    /* Working buckets whose member id is not the bucket number. While 0 (a
     * place filled in order, nothing removed and re-added elsewhere) a
     * lookup reads no member array. */
    size_t mismatched;
} memento;

/* ---- the walk, shared with jumpback (place_jumpback.h) ---- */

/* Removals not yet made, for replica lists: an open-addressing map from
 * bucket to repl, on the stack for short lists. */
typedef struct overlay {
    uint32_t *keys; /* bucket + 1; 0 = empty */
    uint32_t *vals;
    size_t mask;
} overlay;

static inline uint32_t repl_of(const hs__removals *t, const overlay *o, uint32_t b)
{
    if (o != NULL) {
        for (size_t i = (b * 0x9e3779b1u) & o->mask; o->keys[i] != 0; i = (i + 1) & o->mask)
            if (o->keys[i] == b + 1)
                return o->vals[i];
    }
    return t->n_removed > 0 && t->repl != NULL ? t->repl[b] : HS__NOT_REMOVED;
}

static void overlay_put(overlay *o, uint32_t b, uint32_t repl)
{
    size_t i = (b * 0x9e3779b1u) & o->mask;
    while (o->keys[i] != 0)
        i = (i + 1) & o->mask;
    o->keys[i] = b + 1;
    o->vals[i] = repl;
}

/* A value uniform on [0, bound) from the key and the removed bucket. */
static inline uint32_t rehash(uint64_t hash, uint32_t bucket, uint32_t bound)
{
    uint64_t x = hs__mix64(hash ^ ((uint64_t)(bucket + 1) * 0xd6e8feb86659fd93ull));
    return (uint32_t)(((unsigned __int128)x * bound) >> 64);
}

static inline uint32_t walk(const hs__removals *t, hs__bucket_fn base, const overlay *o, uint32_t n,
                            uint64_t hash)
{
    uint32_t b = base(hash, n);
    uint32_t c = repl_of(t, o, b);
    while (c != HS__NOT_REMOVED) {
        uint32_t u = rehash(hash, b, c);
        uint32_t next = repl_of(t, o, u);
        /* u was removed before b: its position holds what replaced it. */
        while (next != HS__NOT_REMOVED && next >= c) {
            u = next;
            next = repl_of(t, o, u);
        }
        b = u;
        c = next;
    }
    return b;
}

uint32_t hs__memento_bucket(const hs__removals *t, uint64_t hash)
{
    return walk(t, hs__jumpback_bucket, NULL, t->n, hash);
}

int hs__memento_lookup_n(const hs__removals *t, hs__bucket_fn base, const hs_member_id *member_of,
                         uint64_t hash, hs_member_id *out, size_t r)
{
    uint32_t b = walk(t, base, NULL, t->n, hash);
    out[0] = member_of[b];
    if (r == 1)
        return HS_OK;
    uint32_t small_keys[64], small_vals[64];
    overlay o = {.keys = small_keys, .vals = small_vals, .mask = 63};
    size_t want = 64;
    while (want < 2 * r)
        want *= 2;
    if (want > 64) {
        o.keys = calloc(want, sizeof *o.keys);
        o.vals = malloc(want * sizeof *o.vals);
        if (o.keys == NULL || o.vals == NULL) {
            free(o.keys);
            free(o.vals);
            return HS_ENOMEM;
        }
        o.mask = want - 1;
    } else {
        for (size_t i = 0; i < 64; i++)
            small_keys[i] = 0;
    }
    uint32_t n = t->n, n_removed = t->n_removed;
    for (size_t k = 1; k < r; k++) {
        /* Remove b the way hs_place_remove would, then look again. */
        if (n_removed == 0 && b == n - 1) {
            n--;
        } else {
            overlay_put(&o, b, n - n_removed - 1);
            n_removed++;
        }
        b = walk(t, base, &o, n, hash);
        out[k] = member_of[b];
    }
    if (o.keys != small_keys) {
        free(o.keys);
        free(o.vals);
    }
    return HS_OK;
}

/* ---- the method ---- */

static int memento_init(void **state, const hs_place_opts *opts)
{
    (void)opts;
    *state = calloc(1, sizeof(memento));
    return *state ? HS_OK : HS_ENOMEM;
}

static void memento_fini(void *state)
{
    memento *m = state;
    if (m == NULL)
        return;
    free(m->repl);
    free(m->member_of);
    free(m->removed);
    free(m->bucket_of);
    free(m);
}

/* Make room for bucket m->n. On failure the arrays that did grow stay valid. */
static int reserve_bucket(memento *m)
{
    if (m->n < m->cap)
        return HS_OK;
    size_t cap = m->cap ? 2 * m->cap : 16;
    uint32_t *repl = realloc(m->repl, cap * sizeof *repl);
    if (repl == NULL)
        return HS_ENOMEM;
    m->repl = repl;
    hs_member_id *member_of = realloc(m->member_of, cap * sizeof *member_of);
    if (member_of == NULL)
        return HS_ENOMEM;
    m->member_of = member_of;
    uint32_t *removed = realloc(m->removed, cap * sizeof *removed);
    if (removed == NULL)
        return HS_ENOMEM;
    m->removed = removed;
    m->cap = cap;
    return HS_OK;
}

static int memento_add(void *state, const hs__member *members, hs_member_id id)
{
    (void)members;
    memento *m = state;
    if ((size_t)id >= m->id_cap) {
        size_t cap = m->id_cap ? 2 * m->id_cap : 16;
        while (cap <= (size_t)id)
            cap *= 2;
        uint32_t *bucket_of = realloc(m->bucket_of, cap * sizeof *bucket_of);
        if (bucket_of == NULL)
            return HS_ENOMEM;
        m->bucket_of = bucket_of;
        m->id_cap = cap;
    }
    uint32_t b;
    if (m->n_removed > 0) {
        b = m->removed[--m->n_removed];
    } else {
        if (m->n >= UINT32_MAX - 1)
            return HS_ERANGE;
        int rc = reserve_bucket(m);
        if (rc != HS_OK)
            return rc;
        b = m->n++;
    }
    m->repl[b] = HS__NOT_REMOVED;
    m->member_of[b] = id;
    m->bucket_of[id] = b;
    m->mismatched += id != b;
    return HS_OK;
}

static int memento_remove(void *state, const hs__member *members, hs_member_id id)
{
    (void)members;
    memento *m = state;
    uint32_t b = m->bucket_of[id];
    if (m->n_removed == 0 && b == m->n - 1) {
        m->n--;
    } else {
        m->repl[b] = m->n - m->n_removed - 1;
        m->removed[m->n_removed++] = b;
    }
    m->mismatched -= m->member_of[b] != b;
    m->member_of[b] = NO_MEMBER;
    return HS_OK;
}

static int memento_lookup(const void *state, uint64_t hash, hs_member_id *out)
{
    const memento *m = state;
    hs__removals t = {.n = m->n, .n_removed = m->n_removed, .repl = m->repl};
    uint32_t b = walk(&t, hs__jumpback_bucket, NULL, m->n, hash);
    *out = m->mismatched == 0 ? b : m->member_of[b];
    return HS_OK;
}

static void memento_lookup_many(const void *state, const uint64_t *hashes, size_t n,
                                hs_member_id *out)
{
    const memento *m = state;
    hs__removals t = {.n = m->n, .n_removed = m->n_removed, .repl = m->repl};
    for (size_t i = 0; i < n; i++) {
        uint32_t b = walk(&t, hs__jumpback_bucket, NULL, m->n, hashes[i]);
        out[i] = m->mismatched == 0 ? b : m->member_of[b];
    }
}

static int memento_lookup_n(const void *state, uint64_t hash, hs_member_id *out, size_t r,
                            size_t *got)
{
    const memento *m = state;
    hs__removals t = {.n = m->n, .n_removed = m->n_removed, .repl = m->repl};
    int rc = hs__memento_lookup_n(&t, hs__jumpback_bucket, m->member_of, hash, out, r);
    if (rc == HS_OK)
        *got = r;
    return rc;
}

const hs__place_ops hs__place_memento = {
    .info = {.name = "memento",
             .summary = "MementoHash over JumpBackHash: remove any member, only its keys move; "
                        "no weights",
             .flags = HS_PLACE_REMOVE_ANY,
             .default_hash = HS_HASH_XXH3,
             .max_members = UINT32_MAX - 2},
    .init = memento_init,
    .fini = memento_fini,
    .add = memento_add,
    .remove = memento_remove,
    .lookup = memento_lookup,
    .lookup_n = memento_lookup_n,
    .lookup_many = memento_lookup_many,
};
