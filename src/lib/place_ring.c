/* place_ring.c - a native weighted continuum (Karger et al.'s consistent
 * hashing ring) on xxh3 with 64-bit points.
 *
 * Member m with weight w owns max(1, round(points_per_weight * w)) points;
 * point i of m is XXH3_64bits_withSeed(name, len, i). A key sits at
 * hs__mix64(hash) (so that short or 32-bit hashes spread over the ring too)
 * and belongs to the first point at or after it, wrapping at the end. Equal
 * points are ordered by member name, so the ring depends only on the member
 * set. A first-level index on the top bits of a position narrows the search
 * to a point or two. Removing or adding any member moves only its keys. */
#include "place_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define DEFAULT_POINTS_PER_WEIGHT 160
/* Weights are absolute (so that a change moves only the changed member's
 * keys), and a careless weight (memory in bytes, say) would ask for billions
 * of points: refuse past 16M points (about 400 MB while building). */
#define MAX_POINTS ((size_t)1 << 24)
#define MAX_INDEX_BITS 24
#define SMALL_R 16

typedef struct ring_point {
    uint64_t pos;
    hs_member_id id;
} ring_point;

typedef struct ring {
    size_t points_per_weight;
    uint64_t *pos;       /* [n_points] sorted */
    hs_member_id *owner; /* [n_points] */
    size_t n_points;
    uint32_t *index; /* [2^index_bits + 1]: first point whose top bits are >= t */
    unsigned index_bits;
    size_t slots; /* 1 + the largest member id on the ring */
} ring;

static int ring_init(void **state, const hs_place_opts *opts)
{
    ring *r = calloc(1, sizeof *r);
    if (r == NULL)
        return HS_ENOMEM;
    r->points_per_weight =
        opts->points_per_weight ? opts->points_per_weight : DEFAULT_POINTS_PER_WEIGHT;
    *state = r;
    return HS_OK;
}

static void ring_fini(void *state)
{
    ring *r = state;
    if (r == NULL)
        return;
    free(r->pos);
    free(r->owner);
    free(r->index);
    free(r);
}

static int point_cmp(const void *a, const void *b)
{
    const ring_point *x = a, *y = b;
    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static size_t points_of(const ring *r, double weight)
{
    double p = nearbyint((double)r->points_per_weight * weight);
    if (!(p >= 1))
        return 1;
    return p >= (double)MAX_POINTS ? MAX_POINTS : (size_t)p;
}

static int ring_build(void *state, const hs__member *members, const hs_member_id *order, size_t n)
{
    ring *r = state;
    size_t total = 0, slots = 0;
    for (size_t i = 0; i < n; i++) {
        total += points_of(r, members[order[i]].weight);
        if (total > MAX_POINTS)
            return HS_ERANGE;
        if (order[i] + (size_t)1 > slots)
            slots = order[i] + (size_t)1;
    }
    unsigned bits = 1;
    while (bits < MAX_INDEX_BITS && ((size_t)1 << bits) < total)
        bits++;
    ring_point *pts = malloc((total ? total : 1) * sizeof *pts);
    uint64_t *pos = malloc((total ? total : 1) * sizeof *pos);
    hs_member_id *owner = malloc((total ? total : 1) * sizeof *owner);
    uint32_t *index = malloc((((size_t)1 << bits) + 1) * sizeof *index);
    if (pts == NULL || pos == NULL || owner == NULL || index == NULL) {
        free(pts);
        free(pos);
        free(owner);
        free(index);
        return HS_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const hs__member *m = &members[order[i]];
        size_t count = points_of(r, m->weight);
        for (size_t j = 0; j < count; j++)
            pts[k++] = (ring_point){XXH3_64bits_withSeed(m->name, m->name_len, j), order[i]};
    }
    qsort(pts, total, sizeof *pts, point_cmp);
    /* Ids depend on history; names do not. Order the (rare) equal points by
     * name so every process builds the same ring. */
    for (size_t i = 0; i + 1 < total; i++) {
        size_t j = i;
        while (j + 1 < total && pts[j + 1].pos == pts[i].pos)
            j++;
        for (size_t a = i + 1; a <= j; a++)
            for (size_t b = a;
                 b > i && strcmp(members[pts[b - 1].id].name, members[pts[b].id].name) > 0; b--) {
                ring_point t = pts[b];
                pts[b] = pts[b - 1];
                pts[b - 1] = t;
            }
        i = j;
    }
    for (size_t i = 0; i < total; i++) {
        pos[i] = pts[i].pos;
        owner[i] = pts[i].id;
    }
    free(pts);
    size_t t = 0;
    for (size_t i = 0; i < total; i++) {
        size_t top = (size_t)(pos[i] >> (64 - bits));
        while (t <= top)
            index[t++] = (uint32_t)i;
    }
    while (t <= ((size_t)1 << bits))
        index[t++] = (uint32_t)total;
    free(r->pos);
    free(r->owner);
    free(r->index);
    r->pos = pos;
    r->owner = owner;
    r->index = index;
    r->index_bits = bits;
    r->n_points = total;
    r->slots = slots;
    return HS_OK;
}

/* Index of the first point at or after x, wrapping to 0. */
static size_t successor(const ring *r, uint64_t x)
{
    size_t t = (size_t)(x >> (64 - r->index_bits));
    size_t lo = r->index[t], hi = r->index[t + 1];
    /* Every point in [lo, hi) shares x's top bits; those at hi and after are
     * greater than x. */
    while (hi - lo > 8) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->pos[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    while (lo < hi && r->pos[lo] < x)
        lo++;
    return lo == r->n_points ? 0 : lo;
}

static int ring_lookup(const void *state, uint64_t hash, hs_member_id *out)
{
    const ring *r = state;
    *out = r->owner[successor(r, hs__mix64(hash))];
    return HS_OK;
}

/* Walk clockwise, keeping each member the first time it is met: out[1] is
 * exactly where the key goes if out[0] is removed, and so on. */
static int ring_lookup_n(const void *state, uint64_t hash, hs_member_id *out, size_t want,
                         size_t *got)
{
    const ring *r = state;
    uint64_t *seen = NULL;
    if (want > SMALL_R) {
        seen = calloc((r->slots + 63) / 64, sizeof *seen);
        if (seen == NULL)
            return HS_ENOMEM;
    }
    size_t i = successor(r, hs__mix64(hash)), k = 0;
    for (size_t step = 0; step < r->n_points && k < want; step++) {
        hs_member_id id = r->owner[i];
        bool dup = seen ? (seen[id / 64] >> (id % 64)) & 1 : hs__ids_contain(out, k, id);
        if (!dup) {
            out[k++] = id;
            if (seen)
                seen[id / 64] |= 1ull << (id % 64);
        }
        if (++i == r->n_points)
            i = 0;
    }
    free(seen);
    *got = k;
    return HS_OK;
}

const hs__place_ops hs__place_ring = {
    .info = {.name = "ring",
             .summary = "weighted consistent-hashing ring on xxh3, 160 points per unit weight; "
                        "remove any",
             .flags = HS_PLACE_WEIGHTED | HS_PLACE_REMOVE_ANY,
             .default_hash = HS_HASH_XXH3},
    .init = ring_init,
    .fini = ring_fini,
    .build = ring_build,
    .lookup = ring_lookup,
    .lookup_n = ring_lookup_n,
};
