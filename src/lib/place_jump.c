/* place_jump.c - Lamping & Veach's jump consistent hash ("A Fast, Minimal
 * Memory, Consistent Hash Algorithm", 2014). Bucket i is the i-th member in
 * insertion order (a view's sorted order). Weights are not honoured; only
 * removing the last member is minimal-movement. */
#include "place_jumpback.h"

#define LCG 2862933555777941757ull
#define SMALL 32

/* The paper's step: with j = (b + 1) * q, q = 2^31 / ((key >> 33) + 1) is
 * the only division, and it depends on the key sequence alone, not on b. */
static inline double jump_q(uint64_t key)
{
    return (double)(1ll << 31) / (double)((key >> 33) + 1);
}

/* The paper's algorithm, with answers identical to its reference code: the
 * bucket of `key` among n buckets, 1 <= n <= 2^31. Up to SMALL buckets (a
 * few steps, the case of a handful of hubs) the loop's first four steps are
 * unrolled without branches: their divisions run in parallel, and the loop's
 * exit (taken after a varying number of steps) is no longer a branch to
 * mispredict for n up to 4, and rarely up to SMALL. A step past
 * the answer is clamped to n so that it cannot overflow; jumps only go up,
 * so the answer is the last j below n. Since every jump below n goes up by
 * at least one from 0, n buckets never need more than n - 1 steps: up to 4
 * buckets (a branch on n, the same at every lookup of a view) the steps that
 * cannot change the answer are not computed. */
static inline uint32_t jump_bucket(uint64_t key, uint32_t n)
{
    if (n > SMALL) {
        /* Many steps: the loop's exit is one mispredict among many steps,
         * and the unrolled steps' selects would only lengthen the chain. */
        int64_t b = -1, j = 0;
        while (j < (int64_t)n) {
            b = j;
            key = key * LCG + 1;
            j = (int64_t)((double)(b + 1) * jump_q(key));
        }
        return (uint32_t)b;
    }
    uint64_t k1 = key * LCG + 1, k2 = k1 * LCG + 1, k3 = k2 * LCG + 1;
    int64_t lim = n;
    int64_t j = (int64_t)jump_q(k1); /* b = 0 */
    int64_t b = j < lim ? j : 0;
    if (n <= 2)
        return (uint32_t)b;
    int64_t c = j < lim ? j : lim;
    j = (int64_t)((double)(c + 1) * jump_q(k2));
    b = j < lim ? j : b;
    if (n == 3)
        return (uint32_t)b;
    c = j < lim ? j : lim;
    j = (int64_t)((double)(c + 1) * jump_q(k3));
    b = j < lim ? j : b;
    if (n == 4)
        return (uint32_t)b;
    c = j < lim ? j : lim;
    key = k3 * LCG + 1;
    j = (int64_t)((double)(c + 1) * jump_q(key));
    b = j < lim ? j : b;
    while (j < lim) {
        b = j;
        key = key * LCG + 1;
        j = (int64_t)((double)(b + 1) * jump_q(key));
    }
    return (uint32_t)b;
}

uint32_t hs_jump_bucket(uint64_t hash, uint32_t n)
{
    /* Beyond 2^31 buckets (b + 1) * q could pass 2^63; the paper's code
     * takes an int32 count. */
    return n == 0 ? 0 : jump_bucket(hash, n > (1u << 31) ? 1u << 31 : n);
}

static int jump_lookup(const void *state, uint64_t hash, hs_member_id *out)
{
    const hs__buckets *s = state;
    *out = hs__bucket_member(s, jump_bucket(hash, (uint32_t)s->n));
    return HS_OK;
}

static void jump_lookup_many(const void *state, const uint64_t *hashes, size_t n, hs_member_id *out)
{
    hs__buckets_lookup_many(state, jump_bucket, hashes, n, out);
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
    int rc = hs__memento_lookup_n(&none, hs_jump_bucket, s->ids, hash, out, r);
    if (rc == HS_OK)
        *got = r;
    return rc;
}

const hs__place_ops hs__place_jump = {
    .info = {.name = "jump",
             .summary = "Lamping & Veach jump consistent hash; no weights, remove-last only",
             .default_hash = HS_HASH_XXH3,
             .max_members = 1u << 31},
    .init = hs__buckets_init,
    .fini = hs__buckets_fini,
    .build = hs__buckets_build,
    .lookup = jump_lookup,
    .lookup_n = jump_lookup_n,
    .lookup_many = jump_lookup_many,
};
