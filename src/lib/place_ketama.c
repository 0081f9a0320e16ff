/* place_ketama.c - `ketama`: byte-compatible with libmemcached's weighted
 * ketama (MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED) and twemproxy's `ketama`
 * distribution. Members are "host:port" with integer weights; the key hash
 * is the low 32 bits of the 64-bit hash, so `md5` gives libmemcached's. */
#include "points.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KETAMA_POINTS_PER_SERVER 160 /* MEMCACHED_POINTS_PER_SERVER_KETAMA */
#define KETAMA_POINTS_PER_HASH 4
#define KETAMA_DEFAULT_PORT 11211 /* its port is left out of the point names */

/* libmemcached (hosts.cc, update_continuum) computes a server's point count
 * in float: share = weight / total, then share * 160 / 4 * servers, plus a
 * tiny epsilon, floored, times 4. Every step is rounded to float as it goes
 * (separate statements, and GCC does not contract in ISO C mode), so an
 * equal share can come out as 39.99999 and give 156 points instead of 160.
 * twemproxy (nc_ketama.c) adds the epsilon in double and rounds back to
 * float, which cannot change the floor of a value >= 1. */
static uint32_t ketama_point_count(double weight, double total, size_t n_servers)
{
    float share = (float)weight / (float)total;
    float x = share * (float)KETAMA_POINTS_PER_SERVER;
    x = x / (float)KETAMA_POINTS_PER_HASH;
    x = x * (float)n_servers;
    x = x + 0.0000000001F;
    float whole = floorf(x);
    if (!(whole < (float)(UINT32_MAX / KETAMA_POINTS_PER_HASH)))
        return 0; /* cannot happen for sane member counts; refuse to overflow */
    return (uint32_t)whole * KETAMA_POINTS_PER_HASH;
}

/* The prefix of a server's point names: "host" for the default port (or no
 * port, or port 0), "host:port" otherwise; points are named "<prefix>-<i>".
 * A member without a port is thus also twemproxy's server with an explicit
 * name ("host:port:weight name" hashes "name-<i>"). */
static size_t ketama_prefix(const hs__member *m, char *buf, size_t cap)
{
    const char *host;
    size_t host_len;
    long port;
    hs__split_host_port(m->name, m->name_len, &host, &host_len, &port);
    /* libmemcached stores port 0 as the default port. */
    if (port <= 0 || port == KETAMA_DEFAULT_PORT)
        return (size_t)snprintf(buf, cap, "%.*s", (int)host_len, host);
    return (size_t)snprintf(buf, cap, "%.*s:%ld", (int)host_len, host, port);
}

/* libmemcached's point names: "<prefix>-<k>" for each of the member's digests. */
static int ketama_emit(hs__points_builder *b, const hs__member *m, hs_member_id id, double total,
                       size_t n)
{
    char name[HS_MEMBER_NAME_MAX + 32];
    size_t len = ketama_prefix(m, name, sizeof name);
    uint32_t digests = ketama_point_count(m->weight, total, n) / KETAMA_POINTS_PER_HASH;
    int rc = HS_OK;
    for (uint32_t k = 0; rc == HS_OK && k < digests; k++) {
        size_t full = len + (size_t)snprintf(name + len, sizeof name - len, "-%u", k);
        rc = hs__points_push_md5x4(b, name, full, id);
    }
    return rc;
}

static int ketama_build(void *state, const hs__member *members, const hs_member_id *order, size_t n)
{
    return hs__points_build(state, members, order, n, ketama_emit);
}

/* Lookups: libmemcached's dispatch_host takes the first point >= the key
 * hash, wrapping. */
const hs__place_ops hs__place_ketama = {
    .info = {.name = "ketama",
             .summary = "libmemcached weighted ketama / twemproxy ketama, byte-compatible "
                        "(members host:port)",
             .flags = HS_PLACE_WEIGHTED | HS_PLACE_COMPAT,
             .default_hash = HS_HASH_MD5},
    .init = hs__points_init,
    .fini = hs__points_fini,
    .build = ketama_build,
    .lookup = hs__points_lookup_ge,
    .lookup_n = hs__points_lookup_n_ge,
};
