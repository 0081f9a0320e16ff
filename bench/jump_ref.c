/* jump_ref.c - the jump consistent hash exactly as the paper's reference
 * code gives it (Lamping & Veach 2014, figure 1), transcribed from C++ to C:
 * the baseline `hashspace bench peers` holds our `jump` placement against.
 * Kept in its own file so that, like the library's, it is an out-of-line
 * call. */
#include "bench.h"

int32_t bench_jump_ref(uint64_t key, int32_t num_buckets)
{
    int64_t b = -1, j = 0;
    while (j < num_buckets) {
        b = j;
        key = key * 2862933555777941757ULL + 1;
        j = (int64_t)((double)(b + 1) * ((double)(1LL << 31) / (double)((key >> 33) + 1)));
    }
    return (int32_t)b;
}
