/* fuzz_jump.c - jump gives the paper's answers: hs_jump_bucket, and the jump
 * placement one key at a time and in a batch, against the reference code
 * (bench/jump_ref.c). Up to 32 buckets ours is not the paper's loop (no
 * division up to 4, unrolled steps up to 32), and what decides there is
 * how each step's generator value compares with a threshold. So the input
 * is the generator's value after 0 to 4 steps rather than the key (found by
 * running the generator backwards): the comparisons then steer the fuzzer
 * right onto the boundaries. */
#include "fuzz_util.h"

#include "bench.h"
#include "hashspace/error.h"
#include "hashspace/place.h"

#define LCG 2862933555777941757ull
#define SMALL 32

/* The key whose generator step gives `after`. */
static uint64_t lcg_back(uint64_t after)
{
    static uint64_t inverse;
    if (inverse == 0) {
        uint64_t inv = LCG; /* Newton: each round doubles the correct low bits */
        for (int i = 0; i < 6; i++)
            inv *= 2 - LCG * inv;
        inverse = inv;
    }
    return (after - 1) * inverse;
}

/* The jump placement of n members b0 .. b<n-1>, built on first use: member
 * id i is bucket i. */
static hs_place *placement(uint32_t n)
{
    static hs_place *built[SMALL + 1];
    if (built[n] == NULL) {
        FUZZ_ASSERT(hs_place_new(&built[n], "jump", NULL) == HS_OK);
        for (uint32_t i = 0; i < n; i++) {
            char name[16];
            snprintf(name, sizeof name, "b%u", i);
            FUZZ_ASSERT(hs_place_add(built[n], name, 1) == HS_OK);
        }
    }
    return built[n];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 13)
        return 0;
    uint64_t key;
    uint32_t raw;
    memcpy(&key, data, 8);
    memcpy(&raw, data + 8, 4);
    for (unsigned step = data[12] % 5; step > 0; step--)
        key = lcg_back(key);
    /* Mostly up to SMALL buckets; with the top bit, any count the
     * reference takes (1 .. 2^31 - 1). */
    uint32_t n = raw & 0x80000000u ? raw & 0x7fffffffu : 1 + raw % SMALL;
    if (n == 0)
        n = 1;
    int32_t want = bench_jump_ref(key, (int32_t)n);
    FUZZ_ASSERT(want >= 0 && (uint32_t)want < n);
    FUZZ_ASSERT(hs_jump_bucket(key, n) == (uint32_t)want);
    if (n <= SMALL) {
        hs_place *p = placement(n);
        hs_member_id one, many;
        FUZZ_ASSERT(hs_place_lookup(p, key, &one) == HS_OK && one == (hs_member_id)want);
        FUZZ_ASSERT(hs_place_lookup_many(p, &key, 1, &many) == HS_OK && many == (hs_member_id)want);
    }
    return 0;
}
