/* place_jump.c - Lamping & Veach's jump consistent hash ("A Fast, Minimal
 * Memory, Consistent Hash Algorithm", 2014). Bucket i is the i-th member in
 * insertion order (a view's sorted order). Weights are not honoured; only
 * removing the last member is minimal-movement. */
#include "place_jumpback.h"

/* The paper's algorithm: the bucket of `key` among n buckets, n >= 1. */
static size_t jump_bucket(uint64_t key, size_t n)
{
    int64_t b = -1, j = 0;
    while (j < (int64_t)n) {
        b = j;
        key = key * 2862933555777941757ull + 1;
        j = (int64_t)((double)(b + 1) * ((double)(1ll << 31) / (double)((key >> 33) + 1)));
    }
    return (size_t)b;
}

static uint32_t jump_bucket32(uint64_t key, uint32_t n)
{
    return (uint32_t)jump_bucket(key, n);
}

static int jump_lookup(const void *state, uint64_t hash, hs_member_id *out)
{
    const hs__buckets *s = state;
    *out = hs__bucket_member(s, jump_bucket(hash, s->n));
    return HS_OK;
}

/* Preference order: MementoHash's failover walk over jump buckets
 * (place_jumpback.h). When the owner is the last bucket, out[1] is exactly
 * its owner once the last member is removed; otherwise the key rehashes
 * uniformly over the buckets left, as if out[0] had been removed. O(r) jump
 * lookups; no rejection loop. */
static int jump_lookup_n(const void *state, uint64_t hash, hs_member_id *out, size_t r, size_t *got)
{
    const hs__buckets *s = state;
    hs__removals none = {.n = (uint32_t)s->n};
    int rc = hs__memento_lookup_n(&none, jump_bucket32, s->ids, hash, out, r);
    if (rc == HS_OK)
        *got = r;
    return rc;
}

const hs__place_ops hs__place_jump = {
    .info = {.name = "jump",
             .summary = "Lamping & Veach jump consistent hash; no weights, remove-last only",
             .default_hash = HS_HASH_XXH3,
             .max_members = UINT32_MAX - 1},
    .init = hs__buckets_init,
    .fini = hs__buckets_fini,
    .build = hs__buckets_build,
    .lookup = jump_lookup,
    .lookup_n = jump_lookup_n,
};
