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

/* The number of hashes that takes at least target_ns. */
static size_t calibrate(const hs_hasher *h, const unsigned char *buf, size_t len,
                        uint64_t target_ns)
{
    size_t iters = 1;
    while (time_hash(h, buf, len, iters) < target_ns && iters < ((size_t)1 << 40))
        iters *= 2;
    return iters;
}

int bench_hashes_run(bench_report *r, const bench_hashes_opts *o)
{
    uint64_t target = o->quick ? 100000 : 5000000; /* 0.1 ms / 5 ms per run */
    int reps = o->quick ? 3 : 11;
    size_t n_hashes = hs_hash_count();
    size_t buf_len = key_sizes[N_SIZES - 1] + KEY_OFFSETS * 8;
    unsigned char *buf = malloc(buf_len);
    double *ns = malloc(n_hashes * N_SIZES * sizeof *ns);
    double *decimal_ns = malloc(n_hashes * sizeof *decimal_ns);
    if (buf == NULL || ns == NULL || decimal_ns == NULL) {
        free(buf);
        free(ns);
        free(decimal_ns);
        fprintf(stderr, "hashspace bench: out of memory\n");
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

    /* Calibrate every (hash, size) cell, then measure in rounds over all
     * cells, so that a burst of load from elsewhere spreads over many cells
     * instead of spoiling one; each cell keeps the median of its rounds. */
    size_t n_cells = n_hashes * (N_SIZES + 1); /* + the decimal-key cell */
    size_t *iters = calloc(n_cells, sizeof *iters);
    double *runs = malloc(n_cells * (size_t)reps * sizeof *runs);
    if (iters == NULL || runs == NULL) {
        free(iters);
        free(runs);
        free(buf);
        free(ns);
        free(decimal_ns);
        fprintf(stderr, "hashspace bench: out of memory\n");
        return 1;
    }
    hs_hasher *hashers = malloc(n_hashes * sizeof *hashers);
    for (size_t id = 0; hashers != NULL && id < n_hashes; id++) {
        hs_hasher *h = &hashers[id];
        hs_hasher_init(h, (hs_hash_id)id);
        uint64_t probe;
        bool any_bytes = hs_hasher_hash(h, buf, 8, &probe) == HS_OK;
        bool decimal_ok = !any_bytes && hs_hasher_hash(h, decimal, 20, &probe) == HS_OK;
        bench_progress("bench hashes: calibrating %s", hs_hash_name((hs_hash_id)id));
        for (size_t s = 0; s < N_SIZES && any_bytes; s++)
            iters[id * (N_SIZES + 1) + s] = calibrate(h, buf, key_sizes[s], target);
        if (decimal_ok)
            iters[id * (N_SIZES + 1) + N_SIZES] = calibrate(h, decimal, 19, target);
    }
    for (int round = 0; hashers != NULL && round < reps; round++) {
        bench_progress("bench hashes: round %d of %d", round + 1, reps);
        for (size_t cell = 0; cell < n_cells; cell++) {
            size_t id = cell / (N_SIZES + 1), s = cell % (N_SIZES + 1);
            size_t n = iters[cell];
            if (n == 0)
                continue;
            const unsigned char *keys = s < N_SIZES ? buf : decimal;
            size_t len = s < N_SIZES ? key_sizes[s] : 19;
            runs[cell * (size_t)reps + (size_t)round] =
                (double)time_hash(&hashers[id], keys, len, n) / (double)n;
        }
    }
    for (size_t cell = 0; cell < n_cells; cell++) {
        size_t id = cell / (N_SIZES + 1), s = cell % (N_SIZES + 1);
        double v =
            iters[cell] && hashers ? bench_median(&runs[cell * (size_t)reps], (size_t)reps) : NAN;
        if (s < N_SIZES)
            ns[id * N_SIZES + s] = v;
        else
            decimal_ns[id] = v;
    }
    free(hashers);
    free(iters);
    free(runs);
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
