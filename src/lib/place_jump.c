/* place_jump.c - Lamping & Veach's jump consistent hash ("A Fast, Minimal
 * Memory, Consistent Hash Algorithm", 2014). Bucket i is the i-th member in
 * insertion order (a view's sorted order). Weights are not honoured; only
 * removing the last member is minimal-movement. */
#include "place_impl.h"

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

static int jump_lookup(const void *state, uint64_t hash, hs_member_id *out)
{
    const hs__buckets *s = state;
    *out = s->ids[jump_bucket(hash, s->n)];
    return HS_OK;
}

/* Preference order: the owner, then jump again over the buckets not yet
 * chosen with a re-mixed key. Replica k is the owner of the key among the
 * buckets that remain once the first k are taken out (moved to the end). */
static int jump_lookup_n(const void *state, uint64_t hash, hs_member_id *out, size_t r,
                         size_t *got)
{
    const hs__buckets *s = state;
    out[0] = s->ids[jump_bucket(hash, s->n)];
    size_t k = 1;
    uint64_t key = hash;
    while (k < r) {
        key = hs__mix64(key + k);
        hs_member_id id = s->ids[jump_bucket(key, s->n)];
        if (!hs__ids_contain(out, k, id))
            out[k++] = id;
        else if (s->n - k <= 8 || (key & 0xff) == 0) {
            /* Few left or unlucky: take the next free bucket in order so the
             * loop always ends. */
            size_t b = jump_bucket(key, s->n);
            while (hs__ids_contain(out, k, s->ids[b]))
                b = (b + 1) % s->n;
            out[k++] = s->ids[b];
        }
    }
    *got = r;
    return HS_OK;
}

const hs__place_ops hs__place_jump = {
    .info = {.name = "jump",
             .summary = "Lamping & Veach jump consistent hash; no weights, remove-last only",
             .default_hash = HS_HASH_XXH3},
    .init = hs__buckets_init,
    .fini = hs__buckets_fini,
    .build = hs__buckets_build,
    .lookup = jump_lookup,
    .lookup_n = jump_lookup_n,
};
