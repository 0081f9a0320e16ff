/* place_maglev.c - Maglev hashing (Eisenbud et al., "Maglev: A Fast and
 * Reliable Software Network Load Balancer", NSDI 2016): a lookup table of M
 * entries (M prime) filled from one permutation of [0, M) per member, so a
 * lookup is one table read.
 *
 * Member m's permutation is offset + j * skip (mod M), with offset =
 * xxh3(name) mod M and skip = xxh3_seed1(name) mod (M - 1) + 1. Members
 * take turns, in name order, claiming their next free preferred entry until
 * the table is full; with weights, a member earns w / w_max turns per round,
 * so its share of entries is proportional to its weight. A key reads entry
 * fastrange(hs__mix64(hash), M). Membership changes move slightly more than
 * the minimum (a few entries shuffle between remaining members). */
#include "place_impl.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define DEFAULT_SIZES                                                                              \
    {                                                                                              \
        65537, 655373, 6553621                                                                     \
    }
#define MAX_TABLE_SIZE ((size_t)1 << 31)
#define EMPTY UINT32_MAX
#define SMALL_R 16

typedef struct maglev {
    size_t table_size;     /* 0: choose from the member count */
    size_t m;              /* size of the current table */
    hs_member_id *table;   /* [m] */
    hs_member_id *by_name; /* [n] present members in name order */
    size_t n;
    size_t slots; /* 1 + the largest member id */
} maglev;

static bool is_prime(size_t x)
{
    if (x < 2)
        return false;
    for (size_t d = 2; d * d <= x; d++)
        if (x % d == 0)
            return false;
    return true;
}

static int maglev_init(void **state, const hs_place_opts *opts)
{
    size_t size = 0;
    if (opts->table_size != 0) {
        if (opts->table_size < 3 || opts->table_size > MAX_TABLE_SIZE)
            return HS_ERANGE;
        size = opts->table_size;
        while (!is_prime(size))
            size++;
    }
    maglev *s = calloc(1, sizeof *s);
    if (s == NULL)
        return HS_ENOMEM;
    s->table_size = size;
    *state = s;
    return HS_OK;
}

static void maglev_fini(void *state)
{
    maglev *s = state;
    if (s == NULL)
        return;
    free(s->table);
    free(s->by_name);
    free(s);
}

static int by_name_cmp(const void *a, const void *b, void *members)
{
    const hs__member *m = members;
    hs_member_id x = *(const hs_member_id *)a, y = *(const hs_member_id *)b;
    return strcmp(m[x].name, m[y].name);
}

static size_t table_size_for(const maglev *s, size_t n)
{
    if (s->table_size != 0)
        return s->table_size;
    static const size_t sizes[] = DEFAULT_SIZES;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (sizes[i] >= 100 * n)
            return sizes[i];
    return sizes[sizeof sizes / sizeof sizes[0] - 1];
}

typedef struct perm {
    uint64_t next; /* the next entry this member prefers */
    uint64_t skip;
    double credit;
    double rate; /* weight / largest weight */
} perm;

static int maglev_build(void *state, const hs__member *members, const hs_member_id *order, size_t n)
{
    maglev *s = state;
    size_t m = table_size_for(s, n);
    if (n > m)
        return HS_ERANGE;
    hs_member_id *by_name = malloc((n ? n : 1) * sizeof *by_name);
    hs_member_id *table = malloc(m * sizeof *table);
    perm *p = malloc((n ? n : 1) * sizeof *p);
    if (by_name == NULL || table == NULL || p == NULL) {
        free(by_name);
        free(table);
        free(p);
        return HS_ENOMEM;
    }
    size_t slots = 0;
    double w_max = 0;
    for (size_t i = 0; i < n; i++) {
        by_name[i] = order[i];
        if (order[i] + (size_t)1 > slots)
            slots = order[i] + (size_t)1;
        if (members[order[i]].weight > w_max)
            w_max = members[order[i]].weight;
    }
    qsort_r(by_name, n, sizeof *by_name, by_name_cmp, (void *)members);
    for (size_t i = 0; i < n; i++) {
        const hs__member *mb = &members[by_name[i]];
        p[i].next = XXH3_64bits(mb->name, mb->name_len) % m;
        p[i].skip = XXH3_64bits_withSeed(mb->name, mb->name_len, 1) % (m - 1) + 1;
        p[i].rate = mb->weight / w_max;
        p[i].credit = 0;
    }
    for (size_t i = 0; i < m; i++)
        table[i] = EMPTY;
    /* Rounds: every member earns `rate` turns; the heaviest exactly one. A
     * turn claims the member's next preferred free entry. Since M is prime
     * every permutation visits every entry, so a turn always succeeds. */
    size_t filled = 0;
    while (filled < m && n > 0) {
        for (size_t i = 0; i < n && filled < m; i++) {
            p[i].credit += p[i].rate;
            while (p[i].credit >= 1 && filled < m) {
                p[i].credit -= 1;
                while (table[p[i].next] != EMPTY) {
                    p[i].next += p[i].skip;
                    if (p[i].next >= m)
                        p[i].next -= m;
                }
                table[p[i].next] = by_name[i];
                filled++;
            }
        }
    }
    free(p);
    free(s->table);
    free(s->by_name);
    s->table = table;
    s->by_name = by_name;
    s->m = m;
    s->n = n;
    s->slots = slots;
    return HS_OK;
}

static inline size_t fastrange(uint64_t x, size_t m)
{
    return (size_t)(((unsigned __int128)x * m) >> 64);
}

static int maglev_lookup(const void *state, uint64_t hash, hs_member_id *out)
{
    const maglev *s = state;
    *out = s->table[fastrange(hs__mix64(hash), s->m)];
    return HS_OK;
}

/* Replicas: the owners of further entries along a key-specific stride
 * through the table (every entry, since M is prime), each member kept the
 * first time it appears; members that own no entry at all (tiny weights)
 * follow in name order. out[1] approximates where the key goes without
 * out[0]: exact for most keys, not all, since a rebuilt table shifts some
 * entries between the remaining members. */
static int maglev_lookup_n(const void *state, uint64_t hash, hs_member_id *out, size_t r,
                           size_t *got)
{
    const maglev *s = state;
    uint64_t *seen = NULL;
    if (r > SMALL_R) {
        seen = calloc((s->slots + 63) / 64, sizeof *seen);
        if (seen == NULL)
            return HS_ENOMEM;
    }
    size_t at = fastrange(hs__mix64(hash), s->m);
    size_t stride = 1 + fastrange(hs__mix64(hash ^ 0x5851f42d4c957f2dull), s->m - 1);
    size_t k = 0;
    for (size_t step = 0; step < s->m && k < r; step++) {
        hs_member_id id = s->table[at];
        bool dup = seen ? (seen[id / 64] >> (id % 64)) & 1 : hs__ids_contain(out, k, id);
        if (!dup) {
            out[k++] = id;
            if (seen)
                seen[id / 64] |= 1ull << (id % 64);
        }
        at += stride;
        if (at >= s->m)
            at -= s->m;
    }
    for (size_t i = 0; i < s->n && k < r; i++) {
        hs_member_id id = s->by_name[i];
        bool dup = seen ? (seen[id / 64] >> (id % 64)) & 1 : hs__ids_contain(out, k, id);
        if (!dup)
            out[k++] = id;
    }
    free(seen);
    *got = k;
    return HS_OK;
}

const hs__place_ops hs__place_maglev = {
    .info = {.name = "maglev",
             .summary = "Maglev lookup table (M prime, default >= 100 entries per member); "
                        "O(1) lookup, weighted",
             .flags = HS_PLACE_WEIGHTED,
             .default_hash = HS_HASH_XXH3,
             .max_members = 65536},
    .init = maglev_init,
    .fini = maglev_fini,
    .build = maglev_build,
    .lookup = maglev_lookup,
    .lookup_n = maglev_lookup_n,
};
