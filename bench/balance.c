/* balance.c - `hashspace balance`: how evenly a list of keys (the English
 * word list by default) splits over N servers, by first letter, by each hash
 * (hash mod N), and by each placement method on xxh3. For each split: counts
 * and fractions per server, peak-to-mean, standard deviation, and Pearson's
 * chi-square against a uniform split with its p-value (the regularized upper
 * incomplete gamma function, computed in util.c). */
#include "bench.h"

#include "hashspace/error.h"
#include "hashspace/hash.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_WORDS "/usr/share/dict/words"
/* Per-server columns are printed up to this many servers. */
#define MAX_SERVER_COLUMNS 10

typedef struct keyset {
    char *data;
    size_t *off, *len;
    size_t n;
} keyset;

static void keyset_free(keyset *k)
{
    free(k->data);
    free(k->off);
    free(k->len);
}

/* One key per line; empty lines are skipped, CR LF is accepted. */
static int keyset_load(keyset *k, const char *path, size_t limit)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "hashspace balance: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 20, used = 0;
    k->data = malloc(cap);
    size_t got;
    while (k->data != NULL && (got = fread(k->data + used, 1, cap - used, f)) > 0) {
        used += got;
        if (used == cap) {
            char *d = realloc(k->data, cap * 2);
            if (d == NULL) {
                free(k->data);
                k->data = NULL;
                break;
            }
            k->data = d;
            cap *= 2;
        }
    }
    fclose(f);
    if (k->data == NULL)
        return -1;
    size_t lines = 0;
    for (size_t i = 0; i < used; i++)
        lines += k->data[i] == '\n';
    lines++;
    k->off = malloc(lines * sizeof *k->off);
    k->len = malloc(lines * sizeof *k->len);
    if (k->off == NULL || k->len == NULL)
        return -1;
    size_t start = 0;
    for (size_t i = 0; i <= used && k->n < limit; i++) {
        if (i < used && k->data[i] != '\n')
            continue;
        size_t end = i;
        if (end > start && k->data[end - 1] == '\r')
            end--;
        if (end > start) {
            k->off[k->n] = start;
            k->len[k->n] = end - start;
            k->n++;
        }
        start = i + 1;
    }
    return 0;
}

/* n synthetic keys "key-0", "key-1", ... */
static int keyset_generate(keyset *k, size_t n)
{
    k->data = malloc(n * 24 + 1);
    k->off = malloc(n * sizeof *k->off);
    k->len = malloc(n * sizeof *k->len);
    if (k->data == NULL || k->off == NULL || k->len == NULL)
        return -1;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        k->off[i] = at;
        k->len[i] = (size_t)sprintf(k->data + at, "key-%zu", i);
        at += k->len[i];
    }
    k->n = n;
    return 0;
}

typedef struct balance_ctx {
    bench_report *r;
    size_t servers;
    size_t n_keys;
    uint64_t *counts;
} balance_ctx;

static void stats_row(balance_ctx *c, const char *scheme)
{
    bench_balance_stats s;
    bench_balance_stats_of(c->counts, c->servers, &s);
    bench_cell_str(c->r, scheme);
    if (c->servers <= MAX_SERVER_COLUMNS)
        for (size_t i = 0; i < c->servers; i++)
            bench_cell_num(c->r, 100.0 * (double)c->counts[i] / (double)c->n_keys, 2);
    bench_cell_u64(c->r, s.min);
    bench_cell_u64(c->r, s.max);
    bench_cell_num(c->r, s.peak_to_mean, 4);
    bench_cell_num(c->r, s.stddev, 1);
    bench_cell_num(c->r, 100 * s.cv, 3);
    bench_cell_num(c->r, s.chi2, -4);
    bench_cell_num(c->r, s.p_value, -3);
    bench_row_end(c->r);
}

static void stats_table(balance_ctx *c, const char *name, const char *title)
{
    const char *cols[MAX_SERVER_COLUMNS + 10];
    static char labels[MAX_SERVER_COLUMNS][32];
    size_t k = 0;
    cols[k++] = "split";
    if (c->servers <= MAX_SERVER_COLUMNS)
        for (size_t i = 0; i < c->servers; i++) {
            snprintf(labels[i], sizeof labels[i], "s%zu_%%", i);
            cols[k++] = labels[i];
        }
    cols[k++] = "min";
    cols[k++] = "max";
    cols[k++] = "peak_to_mean";
    cols[k++] = "stddev";
    cols[k++] = "cv_%";
    cols[k++] = "chi2";
    cols[k++] = "p_value";
    cols[k] = NULL;
    bench_table(c->r, name, title, 0, cols);
}

/* The long-form counts, for bar charts. */
typedef struct count_rows {
    char (*scheme)[40];
    uint64_t *counts; /* servers per scheme */
    size_t n, cap;
} count_rows;

static void keep_counts(count_rows *rows, const balance_ctx *c, const char *scheme)
{
    if (rows->n == rows->cap) {
        size_t cap = rows->cap ? rows->cap * 2 : 32;
        void *s = realloc(rows->scheme, cap * sizeof *rows->scheme);
        if (s == NULL)
            return;
        rows->scheme = s;
        void *n = realloc(rows->counts, cap * c->servers * sizeof *rows->counts);
        if (n == NULL)
            return;
        rows->counts = n;
        rows->cap = cap;
    }
    snprintf(rows->scheme[rows->n], sizeof rows->scheme[0], "%s", scheme);
    memcpy(rows->counts + rows->n * c->servers, c->counts, c->servers * sizeof *c->counts);
    rows->n++;
}

/* Lowercase ASCII letter index 0..25, or -1. */
static int letter_of(const char *key)
{
    int ch = tolower((unsigned char)key[0]);
    return ch >= 'a' && ch <= 'z' ? ch - 'a' : -1;
}

int bench_balance_run(bench_report *r, const bench_balance_opts *o)
{
    size_t servers = o->servers ? o->servers : 4;
    keyset keys = {0};
    const char *source = o->keys_file ? o->keys_file : DEFAULT_WORDS;
    int rc;
    if (o->generate > 0)
        rc = keyset_generate(&keys, o->quick && o->generate > 20000 ? 20000 : o->generate);
    else
        rc = keyset_load(&keys, source, o->quick ? 20000 : (size_t)-1);
    if (rc != 0 || keys.n == 0) {
        if (rc == 0)
            fprintf(stderr, "hashspace balance: %s has no keys\n", source);
        else if (keys.data != NULL || o->generate > 0)
            fprintf(stderr, "hashspace balance: out of memory\n");
        keyset_free(&keys);
        return 1;
    }
    balance_ctx c = {.r = r, .servers = servers, .n_keys = keys.n};
    c.counts = calloc(servers, sizeof *c.counts);
    uint64_t *hashes = malloc(keys.n * sizeof *hashes);
    count_rows rows = {0};
    if (c.counts == NULL || hashes == NULL) {
        fprintf(stderr, "hashspace balance: out of memory\n");
        free(c.counts);
        free(hashes);
        keyset_free(&keys);
        return 1;
    }
    char source_desc[300];
    if (o->generate > 0)
        snprintf(source_desc, sizeof source_desc, "%zu synthetic keys key-0, key-1, ...", keys.n);
    else
        snprintf(source_desc, sizeof source_desc, "%zu keys from %s", keys.n, source);
    char title[512];
    snprintf(title, sizeof title,
             "Balance of %s over %zu servers, by first letter and by hash mod %zu "
             "(per-server %% of keys)",
             source_desc, servers, servers);
    stats_table(&c, "balance_hash", title);

    /* First letter, contiguous ranges: letter i (a = 0) goes to server
     * ceil((i + 1) * N / 26) - 1, so with 4 servers a-f, g-m, n-s, t-z. */
    size_t other = 0;
    char scheme[64];
    for (int variant = 0; variant < 2; variant++) {
        memset(c.counts, 0, servers * sizeof *c.counts);
        for (size_t i = 0; i < keys.n; i++) {
            const char *key = keys.data + keys.off[i];
            int l = letter_of(key);
            size_t s;
            if (l < 0) {
                s = (unsigned char)key[0] % servers;
                other += variant == 0;
            } else {
                s = variant == 0 ? ((size_t)(l + 1) * servers + 25) / 26 - 1 : (size_t)l % servers;
            }
            c.counts[s]++;
        }
        snprintf(scheme, sizeof scheme, "%s",
                 variant == 0 ? "first-letter-ranges" : "first-letter-mod");
        stats_row(&c, scheme);
        keep_counts(&rows, &c, scheme);
    }

    /* Each hash, mod N. */
    char unusable[512] = "";
    for (size_t id = 0; id < hs_hash_count(); id++) {
        bench_progress("balance: %s", hs_hash_name((hs_hash_id)id));
        hs_hasher h;
        hs_hasher_init(&h, (hs_hash_id)id);
        memset(c.counts, 0, servers * sizeof *c.counts);
        bool ok = true;
        for (size_t i = 0; i < keys.n && ok; i++) {
            ok = hs_hasher_hash(&h, keys.data + keys.off[i], keys.len[i], &hashes[i]) == HS_OK;
            if (ok)
                c.counts[hashes[i] % servers]++;
        }
        if (!ok) {
            size_t used = strlen(unusable);
            snprintf(unusable + used, sizeof unusable - used, "%s%s", used ? ", " : "",
                     hs_hash_name((hs_hash_id)id));
            continue;
        }
        snprintf(scheme, sizeof scheme, "%s-mod", hs_hash_name((hs_hash_id)id));
        stats_row(&c, scheme);
        keep_counts(&rows, &c, scheme);
    }
    bench_progress_done();
    bench_table_end(r);
    bench_note(r,
               "first-letter-ranges: letter i (a=0) to server ceil((i+1)*%zu/26)-1, "
               "contiguous alphabet ranges (a-f, g-m, n-s, t-z for 4 servers); "
               "first-letter-mod: letter index mod %zu; keys not starting with an ASCII "
               "letter (%zu here) go to server (first byte mod %zu)",
               servers, servers, other, servers);
    bench_note(r,
               "chi2: Pearson's statistic against a uniform split, %zu degrees of freedom; "
               "p_value = Q(df/2, chi2/2), the regularized upper incomplete gamma function "
               "(exact, not a normal approximation): small p means not uniform",
               servers - 1);
    if (unusable[0] != '\0')
        bench_note(r, "not shown: %s (these keys are not valid for it)", unusable);

    /* Every placement method, on xxh3. */
    hs_hasher xxh3;
    hs_hash_id xid = HS_HASH_XXH3;
    hs_hash_find("xxh3", &xid);
    hs_hasher_init(&xxh3, xid);
    for (size_t i = 0; i < keys.n; i++)
        hs_hasher_hash(&xxh3, keys.data + keys.off[i], keys.len[i], &hashes[i]);
    snprintf(title, sizeof title, "Balance of %s over %zu servers, by placement method on xxh3",
             source_desc, servers);
    stats_table(&c, "balance_placement", title);
    char skipped[1024] = "";
    int status = 0;
    for (size_t m = 0; m < hs_place_method_count(); m++) {
        const hs_place_info *info = hs_place_method_at(m);
        bench_progress("balance: %s", info->name);
        if (info->max_members != 0 && servers > info->max_members) {
            size_t used = strlen(skipped);
            snprintf(skipped + used, sizeof skipped - used, "%s%s (max %zu members)",
                     used ? ", " : "", info->name, info->max_members);
            continue;
        }
        hs_place *p;
        rc = bench_place_build(&p, info->name, "server-", servers, NULL);
        if (rc != HS_OK) {
            bench_progress_done();
            fprintf(stderr, "hashspace balance: %s: %s\n", info->name, hs_strerror(rc));
            status = 1;
            continue;
        }
        memset(c.counts, 0, servers * sizeof *c.counts);
        for (size_t i = 0; i < keys.n; i++) {
            hs_member_id id = 0;
            hs_place_lookup(p, hashes[i], &id);
            if (id < servers)
                c.counts[id]++;
        }
        hs_place_free(p);
        stats_row(&c, info->name);
        snprintf(scheme, sizeof scheme, "xxh3+%s", info->name);
        keep_counts(&rows, &c, scheme);
    }
    bench_progress_done();
    bench_table_end(r);
    if (skipped[0] != '\0')
        bench_note(r, "skipped: %s", skipped);

    static const char *const long_cols[] = {"split", "server", "keys", "fraction", NULL};
    bench_table(r, "balance_counts", "Keys per server, long form", BENCH_TABLE_DATA, long_cols);
    for (size_t i = 0; i < rows.n; i++)
        for (size_t s = 0; s < servers; s++) {
            uint64_t k = rows.counts[i * servers + s];
            bench_cell_str(r, rows.scheme[i]);
            bench_cell_u64(r, s);
            bench_cell_u64(r, k);
            bench_cell_num(r, (double)k / (double)keys.n, 6);
            bench_row_end(r);
        }
    bench_table_end(r);
    free(rows.scheme);
    free(rows.counts);
    free(c.counts);
    free(hashes);
    keyset_free(&keys);
    return status;
}
