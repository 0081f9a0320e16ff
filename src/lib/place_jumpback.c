/* place_jumpback.c - Otmar Ertl's JumpBackHash ("JumpBackHash: Say Goodbye
 * to the Modulo Operation to Distribute Keys Uniformly to Buckets", 2024):
 * the same answers in distribution as jump hash (adding bucket n moves 1/(n+1)
 * of the keys, all to n), in expected constant time with integer arithmetic.
 * Bucket i is the i-th member in insertion order; no weights; only removing
 * the last member is minimal-movement.
 *
 * The idea, written from the paper: bucket j >= 1 is "active" for a key with
 * probability 1/(j+1), independently, and the key's bucket among n is the
 * largest active index below n; bucket 0 is always active. Group indices in
 * intervals [2^i, 2^(i+1)). An interval holds no active index with
 * probability exactly 1/2, and when it holds some, its largest one is
 * uniform over the interval; below an active index j, the next one is uniform
 * on [0, j) (below 2^i meaning "none left in this interval"). So one random
 * word gives a bit per interval, one more value the interval's largest active
 * index, and only in the interval of n-1 may we need to walk down; every
 * lower interval lies wholly below n.
 *
 * All random values come from a splitmix64 stream seeded by the hash, at
 * fixed positions (0: interval bits, 1 + i: top of interval i, 64 + k: the
 * k-th pair of downward draws), so a value never depends on n and answers stay
 * consistent as n changes. */
#include "place_jumpback.h"

#define GOLDEN 0x9e3779b97f4a7c15ull
#define MAX_DRAWS 32 /* 64 half-draws; each ends the walk with probability >= 1/2 */

/* Value k of the splitmix64 stream seeded by `seed`. */
static inline uint64_t stream_at(uint64_t seed, uint64_t k)
{
    return hs__mix64(seed + (k + 1) * GOLDEN);
}

uint32_t hs__jumpback_bucket(uint64_t hash, uint32_t n)
{
    if (n <= 1)
        return 0;
    uint32_t last = n - 1;
    int top = 31 - __builtin_clz(last); /* last lies in interval `top` */
    uint64_t bits_word = stream_at(hash, 0);
    uint32_t bits = (uint32_t)bits_word & (uint32_t)((2ull << top) - 1);
    /* The highest interval with an active index, and its largest one. Both
     * outcomes are computed and one is selected, so the common case has no
     * hard-to-predict branch; bits == 0 means bucket 0. */
    int i = 31 - __builtin_clz(bits | 1);
    uint32_t lo = 1u << i;
    uint32_t largest = lo + ((uint32_t)stream_at(hash, 1 + (uint64_t)i) & (lo - 1));
    largest = bits != 0 ? largest : 0;
    if (largest < n)
        return largest;
    /* Here i == top: every lower interval lies wholly below n. Walk down
     * through the active indices of interval `top`: the first draw, uniform
     * on [0, 2^(top+1)), that falls below n decides. At or above 2^top it is
     * the largest active index below n; below 2^top the interval has no more,
     * and the answer is the largest active index of the next interval down
     * (computed up front, independent of the draws). */
    uint32_t below = bits ^ lo;
    int j = 31 - __builtin_clz(below | 1);
    uint32_t jlo = 1u << j;
    uint32_t lower = jlo + ((uint32_t)stream_at(hash, 1 + (uint64_t)j) & (jlo - 1));
    lower = below != 0 ? lower : 0;
    uint32_t mask = 2 * lo - 1;
    for (uint64_t k = 0; k < MAX_DRAWS; k++) {
        uint64_t draw = stream_at(hash, 64 + k);
        uint32_t a = (uint32_t)draw & mask;
        uint32_t b = (uint32_t)(draw >> 32) & mask;
        a = a < n ? a : b;
        if (a < n)
            return a >= lo ? a : lower;
    }
    return lower;
}

static int jumpback_lookup(const void *state, uint64_t hash, hs_member_id *out)
{
    const hs__buckets *s = state;
    *out = hs__bucket_member(s, hs__jumpback_bucket(hash, (uint32_t)s->n));
    return HS_OK;
}

/* Failover order: MementoHash's, over a table where nothing was removed.
 * When the owner is the last bucket, out[1] is exactly its owner once the
 * last member is removed; otherwise the next members are spread uniformly. */
static int jumpback_lookup_n(const void *state, uint64_t hash, hs_member_id *out, size_t r,
                             size_t *got)
{
    const hs__buckets *s = state;
    hs__removals none = {.n = (uint32_t)s->n};
    int rc = hs__memento_lookup_n(&none, hs__jumpback_bucket, s->ids, hash, out, r);
    if (rc == HS_OK)
        *got = r;
    return rc;
}

const hs__place_ops hs__place_jumpback = {
    .info = {.name = "jumpback",
             .summary = "Ertl's JumpBackHash: jump hash in expected O(1); no weights, "
                        "remove-last only",
             .default_hash = HS_HASH_XXH3,
             .max_members = UINT32_MAX - 1},
    .init = hs__buckets_init,
    .fini = hs__buckets_fini,
    .build = hs__buckets_build,
    .lookup = jumpback_lookup,
    .lookup_n = jumpback_lookup_n,
};
