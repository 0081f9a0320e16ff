/* place_rendezvous.c - weighted rendezvous (highest random weight) hashing,
 * the logarithmic method (Schindelhauer & Schomaker, "Weighted Distributed
 * Hash Tables", 2005; Thaler & Ravishankar's HRW before it).
 *
 * Every member m scores a key: u = a uniform (0,1) value from
 * hs__mix64(hash ^ xxh3(name)), score = w / -ln(u); the highest score owns
 * the key and the next ones are its replicas, in order. A member then owns
 * exactly a w / sum(w) share, and removing any member moves only its keys,
 * each to its next-ranked member. The cost is O(n) per lookup; with equal
 * weights the logarithm is skipped (the order of u is the order of scores). */
#include "place_impl.h"

#include <math.h>
#include <stdlib.h>
#include <xxhash.h>

typedef struct rdv {
    size_t n;
    uint64_t *member_hash; /* [n] xxh3 of the name */
    double *weight;        /* [n] */
    hs_member_id *ids;     /* [n] */
    bool equal_weights;
} rdv;

/* A candidate: higher score first, then the larger member hash (equal
 * scores are all but impossible, but the order must not depend on ids). */
typedef struct scored {
    double score;
    uint64_t member_hash;
    hs_member_id id;
} scored;

static int rdv_init(void **state, const hs_place_opts *opts)
{
    (void)opts;
    *state = calloc(1, sizeof(rdv));
    return *state ? HS_OK : HS_ENOMEM;
}

static void rdv_fini(void *state)
{
    rdv *s = state;
    if (s == NULL)
        return;
    free(s->member_hash);
    free(s->weight);
    free(s->ids);
    free(s);
}

static int rdv_build(void *state, const hs__member *members, const hs_member_id *order, size_t n)
{
    rdv *s = state;
    size_t cap = n ? n : 1;
    uint64_t *mh = malloc(cap * sizeof *mh);
    double *w = malloc(cap * sizeof *w);
    hs_member_id *ids = malloc(cap * sizeof *ids);
    if (mh == NULL || w == NULL || ids == NULL) {
        free(mh);
        free(w);
        free(ids);
        return HS_ENOMEM;
    }
    bool equal = true;
    for (size_t i = 0; i < n; i++) {
        const hs__member *m = &members[order[i]];
        mh[i] = XXH3_64bits(m->name, m->name_len);
        w[i] = m->weight;
        ids[i] = order[i];
        if (w[i] != w[0])
            equal = false;
    }
    free(s->member_hash);
    free(s->weight);
    free(s->ids);
    s->member_hash = mh;
    s->weight = w;
    s->ids = ids;
    s->n = n;
    s->equal_weights = equal;
    return HS_OK;
}

/* The 53 high bits of the mixed value; u = (bits + 0.5) / 2^53 is in (0, 1). */
static inline uint64_t draw53(uint64_t hash, uint64_t member_hash)
{
    return hs__mix64(hash ^ member_hash) >> 11;
}

static inline double score_of(const rdv *s, size_t i, uint64_t hash)
{
    uint64_t bits = draw53(hash, s->member_hash[i]);
    if (s->equal_weights)
        return (double)bits; /* exact, and ordered as w / -ln(u) is */
    double u = ((double)bits + 0.5) * 0x1p-53;
    return s->weight[i] / -log(u);
}

static inline bool better(const scored *a, const scored *b)
{
    return a->score > b->score || (a->score == b->score && a->member_hash > b->member_hash);
}

static int rdv_lookup(const void *state, uint64_t hash, hs_member_id *out)
{
    const rdv *s = state;
    scored best = {score_of(s, 0, hash), s->member_hash[0], s->ids[0]};
    for (size_t i = 1; i < s->n; i++) {
        scored c = {score_of(s, i, hash), s->member_hash[i], s->ids[i]};
        if (better(&c, &best))
            best = c;
    }
    *out = best.id;
    return HS_OK;
}

/* Min-heap on `better`: heap[0] is the weakest of the r best so far. */
static void sift_down(scored *heap, size_t len, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < len && better(&heap[m], &heap[l]))
            m = l;
        if (l + 1 < len && better(&heap[m], &heap[l + 1]))
            m = l + 1;
        if (m == i)
            return;
        scored t = heap[i];
        heap[i] = heap[m];
        heap[m] = t;
        i = m;
    }
}

static int rdv_lookup_n(const void *state, uint64_t hash, hs_member_id *out, size_t r, size_t *got)
{
    const rdv *s = state;
    scored small[16];
    scored *heap = r <= 16 ? small : malloc(r * sizeof *heap);
    if (heap == NULL)
        return HS_ENOMEM;
    for (size_t i = 0; i < r; i++)
        heap[i] = (scored){score_of(s, i, hash), s->member_hash[i], s->ids[i]};
    for (size_t i = r / 2; i-- > 0;)
        sift_down(heap, r, i);
    for (size_t i = r; i < s->n; i++) {
        scored c = {score_of(s, i, hash), s->member_hash[i], s->ids[i]};
        if (better(&c, &heap[0])) {
            heap[0] = c;
            sift_down(heap, r, 0);
        }
    }
    /* Pop the weakest into the last free place: best ends up first. */
    for (size_t len = r; len > 0; len--) {
        out[len - 1] = heap[0].id;
        heap[0] = heap[len - 1];
        sift_down(heap, len - 1, 0);
    }
    if (heap != small)
        free(heap);
    *got = r;
    return HS_OK;
}

const hs__place_ops hs__place_rendezvous = {
    .info = {.name = "rendezvous",
             .summary = "weighted highest-random-weight (score w / -ln u); O(n) per lookup; "
                        "remove any",
             .flags = HS_PLACE_WEIGHTED | HS_PLACE_REMOVE_ANY,
             .default_hash = HS_HASH_XXH3},
    .init = rdv_init,
    .fini = rdv_fini,
    .build = rdv_build,
    .lookup = rdv_lookup,
    .lookup_n = rdv_lookup_n,
};
