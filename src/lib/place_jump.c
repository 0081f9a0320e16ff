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

/* Up to 4 buckets, the paper's answers without a division. At a step whose
 * generator value k gives t = (k >> 33) + 1, the paper jumps from bucket b
 * to trunc((b + 1) * (2^31 / t)) in doubles, and that reaches bucket m > b
 * exactly when t <= REACH(b, m) in integers: both sides fall as t grows
 * (correctly rounded division and product are monotonic), and at t =
 * REACH(b, m) the jump reaches m while at REACH(b, m) + 1 it does not, for
 * each 0 <= b < m <= 4 (tests/unit/test_place_jump.c checks those ten
 * boundaries; an exhaustive run over all 2^31 values of t agreed too). */
#define REACH(b, m) ((((uint64_t)(b) + 1) << 31) / (m))
/* The generator's second and third values straight from the key, so that
 * the three come out in parallel: k2 = LCG^2 key + LCG + 1, and so on. */
#define LCG2 (LCG * LCG)
#define LCG2_ADD (LCG + 1)
#define LCG3 (LCG2 * LCG)
#define LCG3_ADD (LCG2 + LCG + 1)

static inline uint32_t jump_upto4(uint64_t key, uint32_t n)
{
    uint64_t t1 = ((key * LCG + 1) >> 33) + 1;
    uint64_t t2 = ((key * LCG2 + LCG2_ADD) >> 33) + 1;
    uint64_t t3 = ((key * LCG3 + LCG3_ADD) >> 33) + 1;
    /* The first jump, from bucket 0, always reaches 1; with 2 buckets the
     * answer is 1 unless it also reaches 2. */
    if (n <= 2)
        return n == 2 && t1 > REACH(0, 2);
    /* Otherwise the first jump lands on j1 = 1 + k; the answer for each j1
     * is computed without a branch, two bits each in `answers`, and k picks
     * one. Each later step only ever starts from a bucket it can reach. */
    uint32_t k = (t1 <= REACH(0, 2)) + (t1 <= REACH(0, 3));
    uint32_t answers;
    if (n == 3) {
        /* j1 = 1: the second jump reaches 3 (out: 1) or lands on 2;
         * j1 = 2: the last bucket; j1 = 3: out at once, 0. */
        answers = (2u - (t2 <= REACH(1, 3))) | 2u << 2;
    } else {
        k += t1 <= REACH(0, 4);
        /* j1 = 1: the second jump reaches 4 (out: 1), or 3 (the last
         * bucket), or lands on 2, from where the third reaches 4 (out: 2)
         * or lands on 3. j1 = 2: the second jump reaches 4 (out: 2) or
         * lands on 3. j1 = 3: the last bucket; j1 = 4: out at once, 0. */
        uint32_t to4 = t2 <= REACH(1, 4), to3 = t2 <= REACH(1, 3);
        uint32_t from1 = 3u - 2u * to4 - (!to3 & (t3 <= REACH(2, 4)));
        uint32_t from2 = 3u - (t2 <= REACH(2, 4));
        answers = from1 | from2 << 2 | 3u << 4;
    }
    return (answers >> (2 * k)) & 3u;
}

/* The paper's algorithm, with answers identical to its reference code: the
 * bucket of `key` among n buckets, 1 <= n <= 2^31. Up to 4 buckets, above.
 * Up to SMALL buckets (a few steps) the loop's first four steps are
 * unrolled without branches: their divisions run in parallel, and the
 * loop's exit (taken after a varying number of steps) is rarely a branch to
 * mispredict. A step past the answer is clamped to n so that it cannot
 * overflow; jumps only go up, so the answer is the last j below n. */
static inline uint32_t jump_bucket(uint64_t key, uint32_t n)
{
    if (n <= 4)
        return jump_upto4(key, n);
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
    int64_t b = j < lim ? j : 0, c = j < lim ? j : lim;
    j = (int64_t)((double)(c + 1) * jump_q(k2));
    b = j < lim ? j : b;
    c = j < lim ? j : lim;
    j = (int64_t)((double)(c + 1) * jump_q(k3));
    b = j < lim ? j : b;
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
