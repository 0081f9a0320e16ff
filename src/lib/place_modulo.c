/* place_modulo.c - the simple scheme: member i of n takes hash % n. Keys
 * move wholesale when n changes; here as the baseline the others beat. */
#include "place_impl.h"

static int modulo_lookup(const void *state, uint64_t hash, hs_member_id *out)
{
    const hs__buckets *s = state;
    *out = hs__bucket_member(s, hash % s->n);
    return HS_OK;
}

/* Replicas: the next members in order after the owner, wrapping. */
static int modulo_lookup_n(const void *state, uint64_t hash, hs_member_id *out, size_t r,
                           size_t *got)
{
    const hs__buckets *s = state;
    size_t b = hash % s->n;
    for (size_t k = 0; k < r; k++)
        out[k] = s->ids[(b + k) % s->n];
    *got = r;
    return HS_OK;
}

const hs__place_ops hs__place_modulo = {
    .info = {.name = "modulo",
             .summary = "member i of n takes hash % n; moves almost every key on change",
             .default_hash = HS_HASH_XXH3},
    .init = hs__buckets_init,
    .fini = hs__buckets_fini,
    .build = hs__buckets_build,
    .lookup = modulo_lookup,
    .lookup_n = modulo_lookup_n,
};
