/* place_continuum.c - `continuum`: byte-compatible with python-continuum
 * 0.1.x (Joachim Bauch's continuum.py). Members are "host:port", weights the
 * capacities; the key hash is the low 32 bits of the 64-bit hash, so `md5`
 * gives Continuum._hash(key)[0]. */
#include "points.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONTINUUM_TOTAL_DOTS 1000.0 /* DEFAULT_TOTAL_DOTS */

static int continuum_init(void **state, const hs_place_opts *opts)
{
    (void)opts;
    *state = calloc(1, sizeof(hs__points));
    return *state ? HS_OK : HS_ENOMEM;
}

static void continuum_fini(void *state)
{
    if (state)
        hs__points_clear(state);
    free(state);
}

static int continuum_build(void *state, const hs__member *members, const hs_member_id *order,
                           size_t n)
{
    /* capacity = float(sum(capacities)); dots = int(1000 * (c / capacity)),
     * all in double, truncated; dots // 4 digests of "host-port-x", four
     * points each. A server with fewer than 4 dots gets no point. */
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += members[order[i]].weight;
    hs__points_builder b;
    int rc = hs__points_builder_init(&b);
    for (size_t i = 0; rc == HS_OK && i < n; i++) {
        const hs__member *m = &members[order[i]];
        const char *host;
        size_t host_len;
        long port;
        hs__split_host_port(m->name, m->name_len, &host, &host_len, &port);
        if (port < 0) {
            rc = HS_ENAME; /* add_server(hostname, port) needs a port */
            break;
        }
        double dots = CONTINUUM_TOTAL_DOTS * (m->weight / total);
        long digests = (long)dots / 4;
        for (long x = 0; rc == HS_OK && x < digests; x++) {
            char name[HS_MEMBER_NAME_MAX + 48];
            int len = snprintf(name, sizeof name, "%.*s-%ld-%ld", (int)host_len, host, port, x);
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

/* Continuum.resolve: bisect_right, i.e. the first point strictly greater than
 * the key hash, wrapping to the first point. */
static size_t continuum_start(const hs__points *p, uint64_t hash)
{
    size_t i = hs__points_lower_bound(p, (uint64_t)(uint32_t)hash + 1);
    return i == p->n ? 0 : i;
}

/* A continuum whose servers all have fewer than 4 dots has no point:
 * python-continuum raises IndexError('empty continuum'), we say HS_EEMPTY. */
static int continuum_lookup(const void *state, uint64_t hash, hs_member_id *out)
{
    const hs__points *p = state;
    if (p->n == 0)
        return HS_EEMPTY;
    *out = hs__points_owner(p, continuum_start(p, hash));
    return HS_OK;
}

static int continuum_lookup_n(const void *state, uint64_t hash, hs_member_id *out, size_t r,
                              size_t *got)
{
    const hs__points *p = state;
    if (p->n == 0)
        return HS_EEMPTY;
    return hs__points_walk(p, continuum_start(p, hash), out, r, got);
}

const hs__place_ops hs__place_continuum = {
    .info = {.name = "continuum",
             .summary = "python-continuum 0.1.x, byte-compatible (members host:port, weight = "
                        "capacity)",
             .flags = HS_PLACE_WEIGHTED | HS_PLACE_COMPAT,
             .default_hash = HS_HASH_MD5},
    .init = continuum_init,
    .fini = continuum_fini,
    .build = continuum_build,
    .lookup = continuum_lookup,
    .lookup_n = continuum_lookup_n,
};
