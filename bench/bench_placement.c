/* bench_placement.c - `hashspace bench placement`: for every registered
 * placement method and member counts 10 .. 10^6, the cost of a lookup (on
 * precomputed random hashes), of building a view, of adding and removing one
 * member, and the memory a placement takes per member. Sizes the method
 * cannot take (max_members), or whose build would take too long or too much
 * memory judging from the size before, are skipped with a note. */
#include "bench.h"

#include "hashspace/error.h"
#include "hashspace/view.h"

#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const size_t full_sizes[] = {10, 100, 1000, 10000, 1000000};
static const size_t quick_sizes[] = {10, 100};

/* Bytes handed out by malloc right now (0 when the allocator cannot say,
 * e.g. under AddressSanitizer). */
static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static size_t mem_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    if (f == NULL)
        return 0;
    char line[256];
    size_t kb = 0;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "MemAvailable: %zu kB", &kb) == 1)
            break;
    fclose(f);
    return kb * 1024;
}

/* Median ns per lookup, one hs_place_lookup per key (`single`) and through
 * hs_place_lookup_many in batches of BATCH (`batch`). Each repetition walks
 * the hash array in chunks, the two ways alternating chunk by chunk so that
 * both sample the machine in the same moments, until each has spent
 * target_ns. */
enum { BATCH = 1024 };

static void time_lookups(const hs_place *p, const uint64_t *hashes, size_t n_hashes,
                         uint64_t target_ns, int reps, double *single, double *batch)
{
    double one[16], many[16];
    hs_member_id ids[BATCH];
    reps = reps < 16 ? reps : 16;
    for (int r = 0; r < reps; r++) {
        uint64_t acc = 0, done = 0, elapsed[2] = {0, 0};
        size_t chunk = 16, at = 0;
        while (elapsed[0] < target_ns || elapsed[1] < target_ns) {
            if (at + chunk > n_hashes)
                at = 0;
            uint64_t t0 = bench_now_ns();
            for (size_t i = at; i < at + chunk; i++) {
                hs_member_id id = 0;
                hs_place_lookup(p, hashes[i], &id);
                acc += id;
            }
            uint64_t t1 = bench_now_ns();
            for (size_t i = at; i < at + chunk; i += BATCH) {
                size_t len = at + chunk - i < BATCH ? at + chunk - i : BATCH;
                hs_place_lookup_many(p, hashes + i, len, ids);
                acc += ids[len - 1];
            }
            uint64_t t2 = bench_now_ns();
            elapsed[0] += t1 - t0;
            elapsed[1] += t2 - t1;
            done += chunk;
            at += chunk;
            if (chunk < 4 * BATCH && chunk * 2 <= n_hashes)
                chunk *= 2;
        }
        bench_consume(acc);
        one[r] = (double)elapsed[0] / (double)done;
        many[r] = (double)elapsed[1] / (double)done;
    }
    *single = bench_median(one, (size_t)reps);
    *batch = bench_median(many, (size_t)reps);
}

typedef struct size_result {
    double lookup_ns, batch_ns, view_ms, add_us, remove_us, bytes_per_member;
} size_result;

static int measure_size(const hs_place_info *info, size_t n, const uint64_t *hashes,
                        size_t n_hashes, bool quick, size_result *res)
{
    int reps = quick ? 3 : n >= 100000 ? 3 : 7;
    int build_reps = quick ? 2 : n >= 100000 ? 1 : 5;
    /* Members for the view: names m0 .. m<n-1>, weight 1. */
    char *storage = malloc(n * 32);
    hs_view_member *members = malloc(n * sizeof *members);
    if (storage == NULL || members == NULL) {
        free(storage);
        free(members);
        return HS_ENOMEM;
    }
    char *at = storage;
    for (size_t i = 0; i < n; i++) {
        members[i] = (hs_view_member){.name = at, .weight = 1};
        at += bench_member_name(at, 32, "m", i) + 1;
    }
    double ms[8];
    hs_view *view = NULL;
    int rc = HS_OK;
    for (int b = 0; b < build_reps && rc == HS_OK; b++) {
        hs_view_release(view);
        view = NULL;
        uint64_t t0 = bench_now_ns();
        rc = hs_view_new(&view, 1, info->name, NULL, NULL, members, n);
        ms[b] = (double)(bench_now_ns() - t0) / 1e6;
    }
    free(members);
    free(storage);
    if (rc != HS_OK)
        return rc;
    res->view_ms = bench_median(ms, (size_t)build_reps);
    time_lookups(hs_view_place(view), hashes, n_hashes, quick ? 200000 : 50000000, reps,
                 &res->lookup_ns, &res->batch_ns);
    hs_view_release(view);

    /* Adding and removing one member, on a placement built member by member
     * count. The heap grows by what the placement holds. */
    size_t heap0 = heap_in_use();
    hs_place *p;
    rc = bench_place_build(&p, info->name, "m", n, NULL);
    if (rc != HS_OK)
        return rc;
    size_t heap1 = heap_in_use();
    res->bytes_per_member = heap0 && heap1 > heap0 ? (double)(heap1 - heap0) / (double)n : NAN;
    double add_us[8], remove_us[8];
    int mut_reps = quick ? 2 : n >= 100000 ? 3 : 7;
    for (int k = 0; k < mut_reps && rc == HS_OK; k++) {
        uint64_t t0 = bench_now_ns();
        rc = hs_place_add(p, "extra-member:11211", 1);
        uint64_t t1 = bench_now_ns();
        if (rc == HS_OK)
            rc = hs_place_remove(p, "extra-member:11211");
        uint64_t t2 = bench_now_ns();
        add_us[k] = (double)(t1 - t0) / 1e3;
        remove_us[k] = (double)(t2 - t1) / 1e3;
    }
    hs_place_free(p);
    if (rc == HS_ERANGE) {
        /* At max_members: no room for one more. */
        res->add_us = res->remove_us = NAN;
        return HS_OK;
    }
    if (rc != HS_OK)
        return rc;
    res->add_us = bench_median(add_us, (size_t)mut_reps);
    res->remove_us = bench_median(remove_us, (size_t)mut_reps);
    return HS_OK;
}

int bench_placement_run(bench_report *r, const bench_placement_opts *o)
{
    const size_t *sizes = o->quick ? quick_sizes : full_sizes;
    size_t n_sizes = o->quick ? sizeof quick_sizes / sizeof *quick_sizes
                              : sizeof full_sizes / sizeof *full_sizes;
    size_t max_n = o->max_n ? o->max_n : 1000000;
    double budget = o->build_budget_s > 0 ? o->build_budget_s : 10;
    size_t n_hashes = o->quick ? (1u << 14) : (1u << 20);
    uint64_t *hashes = bench_random_hashes(n_hashes, 7);
    if (hashes == NULL) {
        fprintf(stderr, "hashspace bench: out of memory\n");
        return 1;
    }
    size_t avail = mem_available();
    static const char *const cols[] = {"method",    "members",          "lookup_ns",
                                       "batch_ns",  "view_build_ms",    "add_us",
                                       "remove_us", "bytes_per_member", NULL};
    bench_table(r, "placement",
                "Placement: ns per lookup (random 64-bit hashes, median; one call per key, and "
                "in batches of 1024), time to build a view "
                "of n members, to add and remove one member, heap bytes per member",
                0, cols);
    char skipped[4096] = "";
    size_t skipped_len = 0;
    int status = 0;
    for (size_t m = 0; m < hs_place_method_count(); m++) {
        const hs_place_info *info = hs_place_method_at(m);
        double prev_build_s = 0, prev_bytes = 0;
        size_t prev_n = 0;
        for (size_t s = 0; s < n_sizes; s++) {
            size_t n = sizes[s];
            const char *why = NULL;
            char reason[160];
            if (n > max_n)
                continue;
            if (info->max_members != 0 && n > info->max_members) {
                snprintf(reason, sizeof reason, "over its max_members (%zu)", info->max_members);
                why = reason;
            } else if (prev_n != 0) {
                double scale = (double)n / (double)prev_n;
                double est_s = prev_build_s * scale * 1.5;
                double est_bytes = prev_bytes * (double)n;
                if (est_s > budget) {
                    snprintf(reason, sizeof reason,
                             "building would take about %.0f s (budget %.0f s)", est_s, budget);
                    why = reason;
                } else if (avail != 0 && est_bytes > 0.4 * (double)avail) {
                    snprintf(reason, sizeof reason, "it would need about %.1f GB", est_bytes / 1e9);
                    why = reason;
                }
            }
            if (why != NULL) {
                int w = snprintf(skipped + skipped_len, sizeof skipped - skipped_len,
                                 "%s%s at %zu members: %s", skipped_len ? "; " : "", info->name, n,
                                 why);
                if (w > 0 && (size_t)w < sizeof skipped - skipped_len)
                    skipped_len += (size_t)w;
                break; /* larger sizes would be skipped too */
            }
            bench_progress("bench placement: %s, %zu members", info->name, n);
            size_result res;
            int rc = measure_size(info, n, hashes, n_hashes, o->quick, &res);
            if (rc != HS_OK) {
                bench_progress_done();
                fprintf(stderr, "hashspace bench: placement: %s with %zu members: %s\n", info->name,
                        n, hs_strerror(rc));
                status = 1;
                break;
            }
            bench_cell_str(r, info->name);
            bench_cell_u64(r, n);
            bench_cell_num(r, res.lookup_ns, 2);
            bench_cell_num(r, res.batch_ns, 2);
            bench_cell_num(r, res.view_ms, 3);
            bench_cell_num(r, res.add_us, 1);
            bench_cell_num(r, res.remove_us, 1);
            bench_cell_num(r, res.bytes_per_member, 0);
            bench_row_end(r);
            prev_build_s = res.view_ms / 1e3;
            prev_bytes = isnan(res.bytes_per_member) ? 0 : res.bytes_per_member;
            prev_n = n;
        }
    }
    bench_progress_done();
    bench_table_end(r);
    if (skipped_len > 0)
        bench_note(r, "skipped: %s", skipped);
    bench_note(r,
               "lookups: hs_place_lookup (lookup_ns) and hs_place_lookup_many in batches of %d "
               "(batch_ns), alternating, over %zu precomputed random hashes; view build: "
               "hs_view_new (sort names, build the placement); add/remove: one member on a "
               "placement of n",
               BATCH, n_hashes);
    free(hashes);
    return status;
}
