/* place_impl.h - the interface between place.c (members, names, registry)
 * and the placement methods, one file each (place_jump.c, place_ring.c, ...).
 *
 * place.c owns the member table; a method owns only its lookup structure.
 * A method implements either build (rebuild from the present members; for
 * methods whose answers depend only on the member set and its order) or
 * add + remove (for methods whose state depends on history, e.g. AnchorHash).
 * Lookups must not modify state: they run concurrently.
 */
#ifndef HASHSPACE_PLACE_IMPL_H
#define HASHSPACE_PLACE_IMPL_H

#include "hashspace/error.h"
#include "hashspace/place.h"

#include <stdbool.h>

typedef struct hs__member {
    char *name; /* NUL-terminated; NULL for a free slot */
    size_t name_len;
    double weight;
} hs__member;

typedef struct hs__place_ops {
    hs_place_info info;
    /* Allocate the method's state. opts is never NULL (zeros = defaults). */
    int (*init)(void **state, const hs_place_opts *opts);
    void (*fini)(void *state);
    /* Rebuild from the n present members: order[i] is the i-th member in
     * insertion order, members[] is indexed by member id. On error the old
     * state must still answer lookups. */
    int (*build)(void *state, const hs__member *members, const hs_member_id *order, size_t n);
    /* History-dependent methods implement these instead of build. add is
     * called after members[id] is filled in; remove before it is cleared. */
    int (*add)(void *state, const hs__member *members, hs_member_id id);
    int (*remove)(void *state, const hs__member *members, hs_member_id id);
    /* Called only when at least one member is present. */
    int (*lookup)(const void *state, uint64_t hash, hs_member_id *out);
    /* r >= 1 and r <= the member count when called. */
    int (*lookup_n)(const void *state, uint64_t hash, hs_member_id *out, size_t r, size_t *got);
    /* Optional: out[i] = lookup(hashes[i]) for i < n, with the method's
     * lookup inlined in the loop. NULL: place.c calls lookup n times. */
    void (*lookup_many)(const void *state, const uint64_t *hashes, size_t n, hs_member_id *out);
} hs__place_ops;

/* One line per method: X(symbol). The method file defines
 * `const hs__place_ops hs__place_<symbol>`. Order is the order of --help. */
#define HS_PLACE_METHOD_MAP(X)                                                                     \
    X(modulo)                                                                                      \
    X(jump)                                                                                        \
    X(jumpback)                                                                                    \
    X(memento)                                                                                     \
    X(ring)                                                                                        \
    X(rendezvous)                                                                                  \
    X(maglev)                                                                                      \
    X(ketama)                                                                                      \
    X(libketama)                                                                                   \
    X(continuum)

#define HS__PLACE_DECL(sym) extern const hs__place_ops hs__place_##sym;
HS_PLACE_METHOD_MAP(HS__PLACE_DECL)
#undef HS__PLACE_DECL

/* Helpers shared by several methods. */

/* The present members as numbered buckets 0..n-1 in insertion order: the
 * state of methods that place by bucket number (modulo, jump, jumpback). A
 * method whose state is only this uses these three as init/fini/build. */
typedef struct hs__buckets {
    hs_member_id *ids;
    size_t n;
    bool identity; /* ids[i] == i for all i (a fresh view): skip the array */
} hs__buckets;

/* The member in bucket b. */
static inline hs_member_id hs__bucket_member(const hs__buckets *s, size_t b)
{
    return s->identity ? (hs_member_id)b : s->ids[b];
}

/* lookup_many for a bucket method: out[i] is the member in bucket
 * fn(hashes[i], n). Always inlined, so that a method passing its own static
 * bucket function gets a loop with that function inlined. */
__attribute__((always_inline)) static inline void
hs__buckets_lookup_many(const hs__buckets *s, uint32_t (*fn)(uint64_t, uint32_t),
                        const uint64_t *hashes, size_t n, hs_member_id *out)
{
    uint32_t buckets = (uint32_t)s->n;
    if (s->identity)
        for (size_t i = 0; i < n; i++)
            out[i] = fn(hashes[i], buckets);
    else
        for (size_t i = 0; i < n; i++)
            out[i] = s->ids[fn(hashes[i], buckets)];
}

int hs__buckets_init(void **state, const hs_place_opts *opts);
void hs__buckets_fini(void *state);
int hs__buckets_build(void *state, const hs__member *members, const hs_member_id *order, size_t n);

/* A 64-bit finaliser (splitmix64): spreads a hash or combines two. */
static inline uint64_t hs__mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

/* True if id is already among out[0..n). */
static inline bool hs__ids_contain(const hs_member_id *ids, size_t n, hs_member_id id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

#endif
