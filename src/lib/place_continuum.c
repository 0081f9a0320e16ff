/* place_continuum.c - `continuum`: byte-compatible with python-continuum
 * 0.1.x (Joachim Bauch's continuum.py). Members are "host:port", weights the
 * capacities; the key hash is the low 32 bits of the 64-bit hash, so `md5`
 * gives Continuum._hash(key)[0]. */
#include "points.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONTINUUM_TOTAL_DOTS 1000.0 /* DEFAULT_TOTAL_DOTS */

/* capacity = float(sum(capacities)); dots = int(1000 * (c / capacity)), all
 * in double, truncated; dots // 4 digests of "host-port-x", four points each.
 * A server with fewer than 4 dots gets no point. */
static int continuum_emit(hs__points_builder *b, const hs__member *m, hs_member_id id, double total,
                          size_t n)
{
    (void)n;
    const char *host;
    size_t host_len;
    long port;
    hs__split_host_port(m->name, m->name_len, &host, &host_len, &port);
    if (port < 0)
        return HS_ENAME; /* add_server(hostname, port) needs a port */
    double dots = CONTINUUM_TOTAL_DOTS * (m->weight / total);
    long digests = (long)dots / 4;
    int rc = HS_OK;
    for (long x = 0; rc == HS_OK && x < digests; x++) {
        char name[HS_MEMBER_NAME_MAX + 48];
        int len = snprintf(name, sizeof name, "%.*s-%ld-%ld", (int)host_len, host, port, x);
        rc = hs__points_push_md5x4(b, name, (size_t)len, id);
    }
    return rc;
}

static int continuum_build(void *state, const hs__member *members, const hs_member_id *order,
                           size_t n)
{
    return hs__points_build(state, members, order, n, continuum_emit);
}

/* Lookups: Continuum.resolve is bisect_right, i.e. the first point strictly
 * greater than the key hash, wrapping to the first point. A continuum whose
 * servers all have fewer than 4 dots has no point: python-continuum raises
 * IndexError('empty continuum'), we say HS_EEMPTY. */
const hs__place_ops hs__place_continuum = {
    .info = {.name = "continuum",
             .summary = "python-continuum 0.1.x, byte-compatible (members host:port, weight = "
                        "capacity)",
             .flags = HS_PLACE_WEIGHTED | HS_PLACE_COMPAT,
             .default_hash = HS_HASH_MD5},
    .init = hs__points_init,
    .fini = hs__points_fini,
    .build = continuum_build,
    .lookup = hs__points_lookup_gt,
    .lookup_n = hs__points_lookup_n_gt,
};
