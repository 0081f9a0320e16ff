/* movement.c - `hashspace movement`: for every placement method, the
 * fraction of keys that change owner when one member joins, or when the
 * first, a middle or the last member leaves, against the ideal 1/(n+1) for a
 * join and 1/n for a leave; and whether keys only moved to (or from) the
 * member that changed, never between two members that stayed. */
#include "bench.h"

#include "hashspace/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct change {
    const char *name;
    bool add;
    size_t (*victim)(size_t n); /* index of the member removed */
} change;

static size_t first(size_t n)
{
    (void)n;
    return 0;
}

static size_t middle(size_t n)
{
    return n / 2;
}

static size_t last(size_t n)
{
    return n - 1;
}

static const change changes[] = {
    {"add", true, NULL},
    {"remove-first", false, first},
    {"remove-middle", false, middle},
    {"remove-last", false, last},
};

#define N_CHANGES (sizeof changes / sizeof *changes)

static void lookup_all(const hs_place *p, const uint64_t *hashes, size_t n, hs_member_id *out)
{
    for (size_t i = 0; i < n; i++)
        hs_place_lookup(p, hashes[i], &out[i]);
}

int bench_movement_run(bench_report *r, const bench_movement_opts *o)
{
    size_t n_keys = o->keys ? o->keys : 1000000;
    if (o->quick && n_keys > 20000)
        n_keys = 20000;
    size_t sizes[4] = {10, 1000, 0, 0};
    if (o->sizes[0] != 0)
        memcpy(sizes, o->sizes, sizeof sizes);
    else if (o->quick)
        sizes[1] = 100;
    uint64_t *hashes = bench_random_hashes(n_keys, 99);
    hs_member_id *before = malloc(n_keys * sizeof *before);
    hs_member_id *after = malloc(n_keys * sizeof *after);
    if (hashes == NULL || before == NULL || after == NULL) {
        fprintf(stderr, "hashspace movement: out of memory\n");
        free(hashes);
        free(before);
        free(after);
        return 1;
    }
    static const char *const cols[] = {"method", "members", "change",  "moved_%", "ideal_%",
                                       "ratio",  "stray_%", "minimal", NULL};
    char title[256];
    snprintf(title, sizeof title,
             "Movement: %% of %zu random keys that change owner when one member joins or "
             "leaves; ratio = moved / ideal; stray = moved between two members that stayed",
             n_keys);
    bench_table(r, "movement", title, 0, cols);
    char skipped[1024] = "";
    int status = 0;
    /* moved / ideal per method, size and change, for the wide tables. */
    size_t n_methods = hs_place_method_count();
    double *ratio = malloc(n_methods * 4 * N_CHANGES * sizeof *ratio);
    for (size_t i = 0; ratio != NULL && i < n_methods * 4 * N_CHANGES; i++)
        ratio[i] = NAN;
    for (size_t m = 0; m < hs_place_method_count(); m++) {
        const hs_place_info *info = hs_place_method_at(m);
        for (size_t s = 0; s < 4 && sizes[s] != 0; s++) {
            size_t n = sizes[s];
            if (info->max_members != 0 && n + 1 > info->max_members) {
                size_t used = strlen(skipped);
                snprintf(skipped + used, sizeof skipped - used, "%s%s at %zu members (max %zu)",
                         used ? "; " : "", info->name, n, info->max_members);
                continue;
            }
            bench_progress("movement: %s, %zu members", info->name, n);
            hs_place *p;
            int rc = bench_place_build(&p, info->name, "m", n, NULL);
            if (rc != HS_OK)
                goto failed;
            lookup_all(p, hashes, n_keys, before);
            hs_place_free(p);
            for (size_t c = 0; c < sizeof changes / sizeof *changes; c++) {
                const change *ch = &changes[c];
                if (!ch->add && n < 3 && ch->victim == middle)
                    continue;
                rc = bench_place_build(&p, info->name, "m", n, NULL);
                if (rc != HS_OK)
                    goto failed;
                hs_member_id changed;
                char name[32];
                if (ch->add) {
                    rc = hs_place_add(p, "m-new:11211", 1);
                    if (rc == HS_OK)
                        rc = hs_place_find(p, "m-new:11211", &changed);
                } else {
                    bench_member_name(name, sizeof name, "m", ch->victim(n));
                    rc = hs_place_find(p, name, &changed);
                    if (rc == HS_OK)
                        rc = hs_place_remove(p, name);
                }
                if (rc != HS_OK) {
                    hs_place_free(p);
                    goto failed;
                }
                lookup_all(p, hashes, n_keys, after);
                hs_place_free(p);
                size_t moved = 0, stray = 0;
                for (size_t i = 0; i < n_keys; i++) {
                    if (before[i] == after[i])
                        continue;
                    moved++;
                    /* A join may only take keys; a leave may only give away
                     * the leaver's keys. */
                    if (ch->add ? after[i] != changed : before[i] != changed)
                        stray++;
                }
                double ideal = ch->add ? 1.0 / (double)(n + 1) : 1.0 / (double)n;
                double frac = (double)moved / (double)n_keys;
                bench_cell_str(r, info->name);
                bench_cell_u64(r, n);
                bench_cell_str(r, ch->name);
                bench_cell_num(r, 100 * frac, 3);
                bench_cell_num(r, 100 * ideal, 3);
                bench_cell_num(r, frac / ideal, 2);
                if (ratio != NULL)
                    ratio[(m * 4 + s) * N_CHANGES + c] = frac / ideal;
                bench_cell_num(r, 100.0 * (double)stray / (double)n_keys, 3);
                bench_cell_str(r, stray == 0 ? "yes" : "no");
                bench_row_end(r);
            }
            continue;
        failed:
            bench_progress_done();
            fprintf(stderr, "hashspace movement: %s with %zu members: %s\n", info->name, n,
                    hs_strerror(rc));
            status = 1;
        }
    }
    bench_progress_done();
    bench_table_end(r);
    if (skipped[0] != '\0')
        bench_note(r, "skipped: %s", skipped);
    bench_note(r, "members m0 .. m<n-1>, weight 1, added in that order; the new member is "
                  "added last. A ratio near 1 with stray 0 is minimal movement.");
    /* Wide tables for plots: one per member count, a row per method. */
    static const char *const wide_cols[] = {"method",        "add",         "remove_first",
                                            "remove_middle", "remove_last", NULL};
    for (size_t sz = 0; ratio != NULL && sz < 4 && sizes[sz] != 0; sz++) {
        char name[48], wide_title[96];
        snprintf(name, sizeof name, "movement_ratio_%zu", sizes[sz]);
        snprintf(wide_title, sizeof wide_title, "moved / ideal with %zu members", sizes[sz]);
        bench_table(r, name, wide_title, BENCH_TABLE_DATA, wide_cols);
        for (size_t m = 0; m < n_methods; m++) {
            const double *row = &ratio[(m * 4 + sz) * N_CHANGES];
            if (isnan(row[0]))
                continue;
            bench_cell_str(r, hs_place_method_at(m)->name);
            for (size_t c = 0; c < N_CHANGES; c++)
                bench_cell_num(r, row[c], 3);
            bench_row_end(r);
        }
        bench_table_end(r);
    }
    free(ratio);
    free(hashes);
    free(before);
    free(after);
    return status;
}
