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
 * on [0, j) (below 2^i meaning "none left in this interval"). Only in the
 * interval of n-1 may we need to walk down; every lower interval lies wholly
 * below n.
 *
 * Where the random values come from (the paper's economy: one random word
 * usually decides): r = splitmix64(hash). Bit i of x = low32(r) ^ high32(r)
 * says whether interval i holds an active index. Interval i's largest active
 * index is 2^i + (h mod 2^i), where h is high32(r) when bits 0..i of x have
 * odd parity and low32(r) when even. Given x, either half is uniform, and the
 * parity flips from one active interval to the next one down, so an interval
 * and the one below it read different halves. The downward draws are the
 * splitmix64 stream seeded by the hash from position 64 on, two 32-bit
 * halves per value. No value depends on n, so answers stay consistent as n
 * changes. */
#include "place_jumpback.h"

#define GOLDEN 0x9e3779b97f4a7c15ull
#define MAX_DRAWS 32 /* 64 half-draws; each ends the walk with probability >= 1/2 */

/* Value k of the splitmix64 stream seeded by `seed`. */
static inline uint64_t stream_at(uint64_t seed, uint64_t k)
{
    return hs__mix64(seed + (k + 1) * GOLDEN);
}

/* The largest active index of the highest interval whose bit is set in x
 * (x holds bits 0..i only), or 0 when x is 0. Branch-free. */
static inline uint32_t largest_active(uint64_t r, uint32_t x)
{
    uint32_t lo = 1u << (31 - __builtin_clz(x | 1));
    uint32_t half = (uint32_t)(r >> (__builtin_parity(x) * 32));
    uint32_t b = lo + (half & (lo - 1));
    return x != 0 ? b : 0;
}

/* The walk down through the interval of n - 1, x != 0 (its top bit is that
 * interval): the first draw, uniform on [0, 2^(i+1)), that falls below n
 * decides. At or above 2^i it is the largest active index below n; below 2^i
 * the interval has no more, and the answer is the largest active index of
 * the next interval down. Out of line, so that the common case needs no
 * registers saved. */
__attribute__((noinline)) static uint32_t walk_down(uint64_t hash, uint64_t r, uint32_t x,
                                                    uint32_t n)
{
    uint32_t lo = 1u << (31 - __builtin_clz(x));
    uint32_t lower = largest_active(r, x ^ lo);
    uint32_t mask = 2 * lo - 1;
    for (uint64_t k = 0; k < MAX_DRAWS; k++) {
        uint64_t draw = stream_at(hash, 64 + k);
        uint32_t a = (uint32_t)draw & mask;
        uint32_t a2 = (uint32_t)(draw >> 32) & mask;
        a = a < n ? a : a2;
        if (a < n)
            return a >= lo ? a : lower;
    }
    return lower;
}

static inline uint32_t jumpback_bucket(uint64_t hash, uint32_t n)
{
    if (n <= 1)
        return 0;
    uint64_t r = stream_at(hash, 0);
    uint32_t x = (uint32_t)(r ^ (r >> 32)) & (UINT32_MAX >> __builtin_clz(n - 1));
    uint32_t b = largest_active(r, x);
    return b < n ? b : walk_down(hash, r, x, n);
}

uint32_t hs__jumpback_bucket(uint64_t hash, uint32_t n)
{
    return jumpback_bucket(hash, n);
}

uint32_t hs_jumpback_bucket(uint64_t hash, uint32_t n)
{
    return jumpback_bucket(hash, n);
}

static int jumpback_lookup(const void *state, uint64_t hash, hs_member_id *out)
{
    const hs__buckets *s = state;
    *out = hs__bucket_member(s, jumpback_bucket(hash, (uint32_t)s->n));
    return HS_OK;
}

static void jumpback_lookup_many(const void *state, const uint64_t *hashes, size_t n,
                                 hs_member_id *out)
{
    hs__buckets_lookup_many(state, jumpback_bucket, hashes, n, out);
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
    .lookup_many = jumpback_lookup_many,
};
