/* bench_hashes.c - `hashspace bench hashes`: nanoseconds per hash and GB/s
 * for every registered hash on keys of 8 B to 64 KiB. */
#include "bench.h"

#include "hashspace/error.h"
#include "hashspace/hash.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const size_t key_sizes[] = {8, 64, 256, 1024, 4096, 65536};
#define N_SIZES (sizeof key_sizes / sizeof key_sizes[0])
static const char *const size_labels[] = {"8B", "64B", "256B", "1KiB", "4KiB", "64KiB"};

/* Keys start at this many different offsets in the buffer, so that a loop
 * does not hash the very same bytes every time. */
#define KEY_OFFSETS 64

/* Hash `iters` keys of `len` bytes from buf; returns the elapsed ns. */
static uint64_t time_hash(const hs_hasher *h, const unsigned char *buf, size_t len, size_t iters)
{
    uint64_t acc = 0, out = 0;
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < iters; i++) {
        hs_hasher_hash(h, buf + (i % KEY_OFFSETS) * 8, len, &out);
        acc += out;
    }
    uint64_t t1 = bench_now_ns();
    bench_consume(acc);
    return t1 - t0;
}

/* Median ns per hash over `reps` runs, each calibrated to last >= target. */
static double measure(const hs_hasher *h, const unsigned char *buf, size_t len, uint64_t target_ns,
                      int reps)
{
    size_t iters = 1;
    while (time_hash(h, buf, len, iters) < target_ns && iters < ((size_t)1 << 40))
        iters *= 2;
    double ns[16];
    if (reps > 16)
        reps = 16;
    for (int r = 0; r < reps; r++)
        ns[r] = (double)time_hash(h, buf, len, iters) / (double)iters;
    return bench_median(ns, (size_t)reps);
}

int bench_hashes_run(bench_report *r, const bench_hashes_opts *o)
{
    uint64_t target = o->quick ? 200000 : 20000000; /* 0.2 ms / 20 ms per run */
    int reps = o->quick ? 3 : 7;
    size_t n_hashes = hs_hash_count();
    size_t buf_len = key_sizes[N_SIZES - 1] + KEY_OFFSETS * 8;
    unsigned char *buf = malloc(buf_len);
    double *ns = malloc(n_hashes * N_SIZES * sizeof *ns);
    double *decimal_ns = malloc(n_hashes * sizeof *decimal_ns);
    if (buf == NULL || ns == NULL || decimal_ns == NULL) {
        free(buf);
        free(ns);
        free(decimal_ns);
        fprintf(stderr, "hashspace: out of memory\n");
        return 1;
    }
    uint64_t seed = 42;
    for (size_t i = 0; i < buf_len; i++)
        buf[i] = (unsigned char)bench_rand64(&seed);
    /* Keys for hashes that accept only decimal integers: 20 digits at
     * every offset. */
    unsigned char decimal[KEY_OFFSETS * 8 + 20];
    for (size_t i = 0; i < sizeof decimal; i++)
        decimal[i] = (unsigned char)('1' + i % 9);

    for (size_t id = 0; id < n_hashes; id++) {
        hs_hasher h;
        hs_hasher_init(&h, (hs_hash_id)id);
        uint64_t probe;
        bool any_bytes = hs_hasher_hash(&h, buf, 8, &probe) == HS_OK;
        decimal_ns[id] = NAN;
        for (size_t s = 0; s < N_SIZES; s++) {
            bench_progress("bench hashes: %s, %zu-byte keys", hs_hash_name((hs_hash_id)id),
                           key_sizes[s]);
            ns[id * N_SIZES + s] = any_bytes ? measure(&h, buf, key_sizes[s], target, reps) : NAN;
        }
        if (!any_bytes && hs_hasher_hash(&h, decimal, 20, &probe) == HS_OK)
            decimal_ns[id] = measure(&h, decimal, 19, target, reps);
    }
    bench_progress_done();

    const char *cols[N_SIZES + 2] = {"hash"};
    for (size_t s = 0; s < N_SIZES; s++)
        cols[s + 1] = size_labels[s];
    cols[N_SIZES + 1] = NULL;
    for (int table = 0; table < 2; table++) {
        if (table == 0)
            bench_table(r, "hash_ns", "Nanoseconds per hash, by key size (median)", 0, cols);
        else
            bench_table(r, "hash_gbps", "Throughput in GB/s (10^9 bytes/s), by key size", 0, cols);
        for (size_t id = 0; id < n_hashes; id++) {
            bench_cell_str(r, hs_hash_name((hs_hash_id)id));
            for (size_t s = 0; s < N_SIZES; s++) {
                double v = ns[id * N_SIZES + s];
                if (table == 0)
                    bench_cell_num(r, v, v < 100 ? 2 : v < 10000 ? 1 : 0);
                else
                    bench_cell_num(r, (double)key_sizes[s] / v, 3);
            }
            bench_row_end(r);
        }
        bench_table_end(r);
    }
    for (size_t id = 0; id < n_hashes; id++)
        if (!isnan(decimal_ns[id]))
            bench_note(r, "%s accepts only decimal integer keys: %.2f ns on a 19-digit key",
                       hs_hash_name((hs_hash_id)id), decimal_ns[id]);

    static const char *const long_cols[] = {"hash", "key_bytes", "ns", "gb_per_s", NULL};
    bench_table(r, "hash_speed", "Hash speed, long form", BENCH_TABLE_DATA, long_cols);
    for (size_t id = 0; id < n_hashes; id++)
        for (size_t s = 0; s < N_SIZES; s++) {
            double v = ns[id * N_SIZES + s];
            if (isnan(v))
                continue;
            bench_cell_str(r, hs_hash_name((hs_hash_id)id));
            bench_cell_u64(r, key_sizes[s]);
            bench_cell_num(r, v, 3);
            bench_cell_num(r, (double)key_sizes[s] / v, 4);
            bench_row_end(r);
        }
    bench_table_end(r);
    free(buf);
    free(ns);
    free(decimal_ns);
    return 0;
}
