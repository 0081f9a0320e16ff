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

/* ketama.c names a server's digests sprintf(ss, "%s-%d", addr, k). */
static int libketama_emit(hs__points_builder *b, const hs__member *m, hs_member_id id, double total,
                          size_t n)
{
    char name[HS_MEMBER_NAME_MAX + 16];
    unsigned digests = libketama_digests(m->weight, total, n);
    int rc = HS_OK;
    for (unsigned k = 0; rc == HS_OK && k < digests; k++) {
        int len = snprintf(name, sizeof name, "%s-%d", m->name, (int)k);
        rc = hs__points_push_md5x4(b, name, (size_t)len, id);
    }
    return rc;
}

static int libketama_build(void *state, const hs__member *members, const hs_member_id *order,
                           size_t n)
{
    return hs__points_build(state, members, order, n, libketama_emit);
}

/* Lookups: ketama_get_server's bisection returns the first point >= the key
 * hash (h <= point[mid] && h > point[mid - 1]), and the first point when the
 * hash is past the last one. */
const hs__place_ops hs__place_libketama = {
    .info = {.name = "libketama",
             .summary = "last.fm libketama, byte-compatible (members ip:port, weight = memory)",
             .flags = HS_PLACE_WEIGHTED | HS_PLACE_COMPAT,
             .default_hash = HS_HASH_MD5},
    .init = hs__points_init,
    .fini = hs__points_fini,
    .build = libketama_build,
    .lookup = hs__points_lookup_ge,
    .lookup_n = hs__points_lookup_n_ge,
};
