/* place_libketama.c - `libketama`: byte-compatible with last.fm's libketama
 * (ketama.c, ketama_create_continuum / ketama_get_server). Members are the
 * server strings of a ketama.servers file ("ip:port"), weights the memory
 * column; the key hash is the low 32 bits of the 64-bit hash, so `md5` gives
 * ketama_hashi. */
#include "points.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIBKETAMA_DIGESTS_PER_SERVER 40.0 /* a double constant, as in ketama.c */

/* ketama.c: pct = (float)memory / (float)total in float; then
 * `pct * 40.0 * (float)numservers` is evaluated in double (40.0 is a double
 * literal), and passing it to floorf() rounds it to float before flooring.
 * That last rounding can lift 39.9999999 to 40.0f, so the float32 and
 * double subtleties differ from libmemcached's all-float formula. */
static unsigned libketama_digests(double memory, double total, size_t n_servers)
{
    float pct = (float)memory / (float)total;
    double wanted = (double)pct * LIBKETAMA_DIGESTS_PER_SERVER * (double)(float)n_servers;
    float whole = floorf((float)wanted);
    if (!(whole < 4294967295.0F))
        return 0; /* cannot happen for sane member counts; refuse to overflow */
    return (unsigned)whole;
}

static int libketama_init(void **state, const hs_place_opts *opts)
{
    (void)opts;
    *state = calloc(1, sizeof(hs__points));
    return *state ? HS_OK : HS_ENOMEM;
}

static void libketama_fini(void *state)
{
    if (state)
        hs__points_clear(state);
    free(state);
}

static int libketama_build(void *state, const hs__member *members, const hs_member_id *order,
                           size_t n)
{
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += members[order[i]].weight;
    hs__points_builder b;
    int rc = hs__points_builder_init(&b);
    for (size_t i = 0; rc == HS_OK && i < n; i++) {
        const hs__member *m = &members[order[i]];
        char name[HS_MEMBER_NAME_MAX + 16];
        unsigned digests = libketama_digests(m->weight, total, n);
        /* sprintf(ss, "%s-%d", addr, k) */
        for (unsigned k = 0; rc == HS_OK && k < digests; k++) {
            int len = snprintf(name, sizeof name, "%s-%d", m->name, (int)k);
            rc = hs__points_push_md5x4(&b, name, (size_t)len, order[i]);
        }
    }
    hs__points fresh;
    if (rc == HS_OK)
        rc = hs__points_finish(&b, members, order, n, &fresh);
    hs__points_builder_free(&b);
    if (rc != HS_OK)
        return rc;
    hs__points_clear(state);
    *(hs__points *)state = fresh;
    return HS_OK;
}

/* ketama_get_server: its bisection returns the first point >= the key hash
 * (h <= point[mid] && h > point[mid - 1]), and the first point when the hash
 * is past the last one. */
static size_t libketama_start(const hs__points *p, uint64_t hash)
{
    size_t i = hs__points_lower_bound(p, (uint32_t)hash);
    return i == p->n ? 0 : i;
}

static int libketama_lookup(const void *state, uint64_t hash, hs_member_id *out)
{
    const hs__points *p = state;
    if (p->n == 0)
        return HS_EEMPTY;
    *out = hs__points_owner(p, libketama_start(p, hash));
    return HS_OK;
}

static int libketama_lookup_n(const void *state, uint64_t hash, hs_member_id *out, size_t r,
                              size_t *got)
{
    const hs__points *p = state;
    if (p->n == 0)
        return HS_EEMPTY;
    return hs__points_walk(p, libketama_start(p, hash), out, r, got);
}

const hs__place_ops hs__place_libketama = {
    .info = {.name = "libketama",
             .summary = "last.fm libketama, byte-compatible (members ip:port, weight = memory)",
             .flags = HS_PLACE_WEIGHTED | HS_PLACE_COMPAT,
             .default_hash = HS_HASH_MD5},
    .init = libketama_init,
    .fini = libketama_fini,
    .build = libketama_build,
    .lookup = libketama_lookup,
    .lookup_n = libketama_lookup_n,
};
