/* test_place_compat.c - the byte-compatible methods against their peers:
 * `ketama` against the real libmemcached (Debian's libmemcached-dev, when the
 * build found it), `libketama` against libketama's published known answers,
 * `continuum` against python-continuum's README; and what every continuum
 * method must do: distinct replicas, consistency on remove and re-add,
 * clear errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "hashspace/error.h"
#include "hashspace/hash.h"
#include "hashspace/place.h"
#include "place_impl.h"
#include "points.h"

#if HS_HAVE_LIBMEMCACHED
#include <libmemcached/memcached.h>
#endif

static uint64_t md5_of(const char *key, size_t len)
{
    uint64_t h;
    assert_int_equal(hs_hash(HS_HASH_MD5, key, len, &h), HS_OK);
    return h;
}

static const char *owner_of(const hs_place *p, const char *key)
{
    hs_member_id id;
    assert_int_equal(hs_place_lookup(p, md5_of(key, strlen(key)), &id), HS_OK);
    return hs_place_member_name(p, id);
}

/* ---- ketama vs libmemcached ---- */

#if HS_HAVE_LIBMEMCACHED
typedef struct server {
    char host[32];
    unsigned port;
    uint32_t weight;
} server;

/* Our member name for a libmemcached server. */
static void member_name(const server *s, char *buf, size_t cap)
{
    /* The precision bounds the host by its array: gcc -O3 otherwise sizes
     * it by the whole server list it was inlined from (-Wformat-truncation). */
    snprintf(buf, cap, "%.*s:%u", (int)sizeof s->host, s->host, s->port);
}

/* Build both sides from the same list, in the same order, and count the keys
 * on which libmemcached's memcached_generate_hash and our ketama agree. */
static size_t agreement(const server *list, size_t n, size_t keys)
{
    memcached_st *mc = memcached_create(NULL);
    assert_non_null(mc);
    assert_int_equal(memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1),
                     MEMCACHED_SUCCESS);
    hs_place *p;
    assert_int_equal(hs_place_new(&p, "ketama", NULL), HS_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(memcached_server_add_with_weight(mc, list[i].host, (in_port_t)list[i].port,
                                                          list[i].weight),
                         MEMCACHED_SUCCESS);
        char name[1200];
        member_name(&list[i], name, sizeof name);
        assert_int_equal(hs_place_add(p, name, list[i].weight), HS_OK);
    }
    assert_int_equal(memcached_server_count(mc), n);
    size_t same = 0;
    char key[32];
    for (size_t k = 0; k < keys; k++) {
        int len = snprintf(key, sizeof key, "user:%zu", k * 7919);
        uint32_t at = memcached_generate_hash(mc, key, (size_t)len);
        const memcached_instance_st *inst = memcached_server_instance_by_position(mc, at);
        char want[1200];
        snprintf(want, sizeof want, "%s:%u", memcached_server_name(inst),
                 (unsigned)memcached_server_port(inst));
        hs_member_id id;
        assert_int_equal(hs_place_lookup(p, md5_of(key, (size_t)len), &id), HS_OK);
        /* Port 0 is stored by libmemcached as 11211: compare positions. */
        if (id == at && (list[at].port == 0 || strcmp(want, hs_place_member_name(p, id)) == 0))
            same++;
    }
    hs_place_free(p);
    memcached_free(mc);
    return same;
}

static void make_servers(server *list, size_t n, int weighted)
{
    for (size_t i = 0; i < n; i++) {
        snprintf(list[i].host, sizeof list[i].host, "10.%zu.%zu.%zu", i % 3, i / 200, i % 200 + 1);
        /* Mostly the default port (left out of point names), some others. */
        list[i].port = i % 4 == 0 ? 11212 + (unsigned)i : 11211;
        list[i].weight = weighted ? (uint32_t)(1 + (i * 37) % 17) : 1;
    }
}

static void test_ketama_matches_libmemcached_weighted(void **state)
{
    (void)state;
    server list[10];
    make_servers(list, 10, 1);
    assert_int_equal(agreement(list, 10, 20000), 20000);
}

/* 50 equal weights: the float formula gives 39.99999 * 4 = 156 points per
 * server, not 160 (the float32 subtlety); we must too. */
static void test_ketama_matches_libmemcached_equal_weights(void **state)
{
    (void)state;
    server list[50];
    make_servers(list, 50, 0);
    assert_int_equal(agreement(list, 50, 20000), 20000);
    make_servers(list, 7, 0);
    assert_int_equal(agreement(list, 7, 10000), 10000);
}

/* 100 is the most libmemcached 1.1 accepts: update_continuum asserts
 * servers * MEMCACHED_POINTS_PER_SERVER <= MEMCACHED_CONTINUUM_SIZE (10000). */
static void test_ketama_matches_libmemcached_100_servers(void **state)
{
    (void)state;
    server list[100];
    make_servers(list, 100, 1);
    assert_int_equal(agreement(list, 100, 20000), 20000);
    make_servers(list, 100, 0);
    assert_int_equal(agreement(list, 100, 10000), 10000);
}

/* Port 0 (libmemcached's default port) and big, lopsided weights. */
static void test_ketama_matches_libmemcached_edge_weights_and_ports(void **state)
{
    (void)state;
    server list[6] = {
        {"cache-a.example", 0, 1},   {"cache-b.example", 11211, 1000}, {"10.9.9.9", 1, 3},
        {"10.9.9.10", 65535, 70000}, {"cache-c.example", 11211, 2},    {"[::1]", 11213, 5},
    };
    assert_int_equal(agreement(list, 6, 20000), 20000);
}

/* Remove a server (libmemcached: a fresh memcached_st without it): both
 * sides keep agreeing. */
static void test_ketama_matches_libmemcached_after_remove(void **state)
{
    (void)state;
    server list[12];
    make_servers(list, 12, 1);
    server without[11];
    memcpy(without, list, 5 * sizeof *list);
    memcpy(without + 5, list + 6, 6 * sizeof *list);
    assert_int_equal(agreement(without, 11, 10000), 10000);

    /* The same through one hs_place: remove then re-add at the end. */
    hs_place *p;
    assert_int_equal(hs_place_new(&p, "ketama", NULL), HS_OK);
    char name[1200];
    for (size_t i = 0; i < 12; i++) {
        member_name(&list[i], name, sizeof name);
        assert_int_equal(hs_place_add(p, name, list[i].weight), HS_OK);
    }
    member_name(&list[5], name, sizeof name);
    assert_int_equal(hs_place_remove(p, name), HS_OK);
    memcached_st *mc = memcached_create(NULL);
    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1);
    for (size_t i = 0; i < 11; i++)
        memcached_server_add_with_weight(mc, without[i].host, (in_port_t)without[i].port,
                                         without[i].weight);
    for (int k = 0; k < 5000; k++) {
        char key[16];
        int len = snprintf(key, sizeof key, "k%d", k);
        const memcached_instance_st *inst = memcached_server_instance_by_position(
            mc, memcached_generate_hash(mc, key, (size_t)len));
        char want[1200];
        snprintf(want, sizeof want, "%s:%u", memcached_server_name(inst),
                 (unsigned)memcached_server_port(inst));
        assert_string_equal(owner_of(p, key), want);
    }
    memcached_free(mc);
    hs_place_free(p);
}
#endif

/* A member without a port is placed exactly like "host:11211": libmemcached
 * (and twemproxy) leave the default port out of point names. */
static void test_ketama_member_without_port_is_default_port(void **state)
{
    (void)state;
    hs_place *a, *b;
    assert_int_equal(hs_place_new(&a, "ketama", NULL), HS_OK);
    assert_int_equal(hs_place_new(&b, "ketama", NULL), HS_OK);
    const char *with_port[] = {"10.0.1.1:11211", "10.0.1.2:11211", "10.0.1.3:11300"};
    const char *without[] = {"10.0.1.1", "10.0.1.2", "10.0.1.3:11300"};
    double w[] = {1, 2, 1};
    assert_int_equal(hs_place_add_many(a, with_port, w, 3), HS_OK);
    assert_int_equal(hs_place_add_many(b, without, w, 3), HS_OK);
    for (uint64_t i = 0; i < 5000; i++) {
        hs_member_id ia, ib;
        uint64_t h = i * 0x9e3779b97f4a7c15ull;
        assert_int_equal(hs_place_lookup(a, h, &ia), HS_OK);
        assert_int_equal(hs_place_lookup(b, h, &ib), HS_OK);
        assert_int_equal(ia, ib);
    }
    hs_place_free(a);
    hs_place_free(b);
}

/* ---- libketama: published known answers ---- */

/* Run libketama's state directly to read the point a key lands on. */
typedef struct direct {
    void *state;
    hs__member members[16];
    hs_member_id order[16];
    size_t n;
} direct;

static void direct_build(direct *d, const char *method, const char *const *names,
                         const double *weights, size_t n)
{
    const hs__place_ops *ops = NULL;
    if (strcmp(method, "libketama") == 0)
        ops = &hs__place_libketama;
    else if (strcmp(method, "ketama") == 0)
        ops = &hs__place_ketama;
    else
        ops = &hs__place_continuum;
    static const hs_place_opts opts;
    assert_int_equal(ops->init(&d->state, &opts), HS_OK);
    for (size_t i = 0; i < n; i++) {
        d->members[i] = (hs__member){(char *)names[i], strlen(names[i]), weights[i]};
        d->order[i] = (hs_member_id)i;
    }
    d->n = n;
    assert_int_equal(ops->build(d->state, d->members, d->order, n), HS_OK);
}

static void direct_free(direct *d, const hs__place_ops *ops)
{
    ops->fini(d->state);
}

/* python_ketama/tests.py: servers 127.0.0.1:11211 (600) and 127.0.0.1:11212
 * (400); get_server("test") == (3454255383, '127.0.0.1:11211'); 160 * 2
 * points. */
static void test_libketama_python_test_known_answers(void **state)
{
    (void)state;
    const char *names[] = {"127.0.0.1:11211", "127.0.0.1:11212"};
    double mem[] = {600, 400};
    direct d;
    direct_build(&d, "libketama", names, mem, 2);
    const hs__points *p = d.state;
    assert_int_equal(p->n, 320);
    size_t i = hs__points_lower_bound(p, (uint32_t)md5_of("test", 4));
    assert_true(i < p->n);
    assert_int_equal(hs__points_value(p, i), 3454255383u);
    assert_string_equal(names[hs__points_owner(p, i)], "127.0.0.1:11211");
    direct_free(&d, &hs__place_libketama);

    hs_place *pl;
    assert_int_equal(hs_place_new(&pl, "libketama", NULL), HS_OK);
    assert_int_equal(hs_place_add_many(pl, names, mem, 2), HS_OK);
    assert_string_equal(owner_of(pl, "test"), "127.0.0.1:11211");
    hs_place_free(pl);
}

/* libketama/test.sh: ketama_test over ../ketama.servers prints
 * ketama_error() and then "%u %u %s\n" (key hash, point, server) for the keys
 * "0" .. "999999"; the MD5 of that output is
 * 5672b131391f5aa2b280936aec1eea74. */
static void test_libketama_test_sh_md5_of_a_million_lookups(void **state)
{
    (void)state;
    const char *names[] = {"10.0.1.1:11211", "10.0.1.2:11211", "10.0.1.3:11211", "10.0.1.4:11211",
                           "10.0.1.5:11211", "10.0.1.6:11211", "10.0.1.7:11211", "10.0.1.8:11211"};
    double mem[] = {600, 300, 200, 350, 1000, 800, 950, 100};
    direct d;
    direct_build(&d, "libketama", names, mem, 8);
    const hs__points *p = d.state;

    hs_place *pl;
    assert_int_equal(hs_place_new(&pl, "libketama", NULL), HS_OK);
    assert_int_equal(hs_place_add_many(pl, names, mem, 8), HS_OK);

    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_non_null(ctx);
    assert_true(EVP_DigestInit_ex(ctx, EVP_md5(), NULL));
    assert_true(EVP_DigestUpdate(ctx, "\n", 1)); /* empty ketama_error() */
    char key[16], line[64];
    for (int k = 0; k < 1000000; k++) {
        int klen = snprintf(key, sizeof key, "%d", k);
        uint64_t h = md5_of(key, (size_t)klen);
        size_t i = hs__points_lower_bound(p, (uint32_t)h);
        if (i == p->n)
            i = 0;
        int len = snprintf(line, sizeof line, "%u %u %s\n", (unsigned)(uint32_t)h,
                           hs__points_value(p, i), names[hs__points_owner(p, i)]);
        assert_true(EVP_DigestUpdate(ctx, line, (size_t)len));
        if (k % 1000 == 0) { /* the public lookup agrees with the point walk */
            hs_member_id id;
            assert_int_equal(hs_place_lookup(pl, h, &id), HS_OK);
            assert_string_equal(hs_place_member_name(pl, id), names[hs__points_owner(p, i)]);
        }
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen;
    assert_true(EVP_DigestFinal_ex(ctx, digest, &dlen));
    EVP_MD_CTX_free(ctx);
    char hex[33];
    for (int i = 0; i < 16; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    assert_string_equal(hex, "5672b131391f5aa2b280936aec1eea74");
    hs_place_free(pl);
    direct_free(&d, &hs__place_libketama);
}

/* ---- continuum: python-continuum's README ---- */

static void test_continuum_readme_known_answers(void **state)
{
    (void)state;
    hs_place *p;
    hs_member_id id;
    assert_int_equal(hs_place_new(&p, "continuum", NULL), HS_OK);
    /* "Empty continuums obviously can't be queried". */
    assert_int_equal(hs_place_lookup(p, md5_of("my-key1", 7), &id), HS_EEMPTY);
    assert_int_equal(hs_place_add(p, "192.168.0.1:8080", 1), HS_OK);
    assert_int_equal(hs_place_add(p, "192.168.0.2:8080", 1), HS_OK);
    assert_int_equal(hs_place_add(p, "192.168.0.3:8080", 2), HS_OK);
    assert_int_equal(hs_place_add(p, "192.168.0.4:8080", 1), HS_OK);
    assert_int_equal(hs_place_remove(p, "192.168.0.4:8080"), HS_OK);
    assert_int_equal(hs_place_size(p), 3);
    /* "a server can only be added once". */
    assert_int_equal(hs_place_add(p, "192.168.0.2:8080", 1), HS_EEXISTS);
    assert_string_equal(owner_of(p, "my-first-key"), "192.168.0.1:8080");
    assert_string_equal(owner_of(p, "my-other-key"), "192.168.0.3:8080");
    hs_place_free(p);
}

static void test_continuum_needs_host_port_members(void **state)
{
    (void)state;
    hs_place *p;
    assert_int_equal(hs_place_new(&p, "continuum", NULL), HS_OK);
    assert_int_equal(hs_place_add(p, "192.168.0.1", 1), HS_ENAME);
    assert_int_equal(hs_place_add(p, "host:port", 1), HS_ENAME);
    assert_int_equal(hs_place_size(p), 0);
    assert_int_equal(hs_place_add(p, "192.168.0.1:8080", 1), HS_OK);
    hs_place_free(p);
}

/* A server with fewer than 4 of the 1000 dots gets no point; when no server
 * has one, python-continuum's continuum is empty: HS_EEMPTY. */
static void test_continuum_without_points_is_empty(void **state)
{
    (void)state;
    hs_place *p;
    assert_int_equal(hs_place_new(&p, "continuum", NULL), HS_OK);
    char name[32];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "10.1.%d.%d:80", i / 250, i % 250);
        assert_int_equal(hs_place_add(p, name, 1), HS_OK);
    }
    hs_member_id id, out[4];
    size_t got;
    assert_int_equal(hs_place_lookup(p, 12345, &id), HS_EEMPTY);
    assert_int_equal(hs_place_lookup_n(p, 12345, out, 4, &got), HS_EEMPTY);
    /* One heavy server takes every point. */
    assert_int_equal(hs_place_add(p, "10.2.0.1:80", 1000), HS_OK);
    assert_int_equal(hs_place_lookup(p, 12345, &id), HS_OK);
    assert_string_equal(hs_place_member_name(p, id), "10.2.0.1:80");
    hs_place_free(p);
}

/* bisect_right: a key hashing exactly onto a point goes to the next point;
 * ketama's lower bound keeps it on that point. */
static void test_continuum_exact_point_goes_to_next_point(void **state)
{
    (void)state;
    const char *names[] = {"192.168.0.1:8080", "192.168.0.2:8080", "192.168.0.3:8080"};
    double cap[] = {1, 1, 2};
    direct d;
    direct_build(&d, "continuum", names, cap, 3);
    const hs__points *pts = d.state;
    hs_place *p;
    assert_int_equal(hs_place_new(&p, "continuum", NULL), HS_OK);
    assert_int_equal(hs_place_add_many(p, names, cap, 3), HS_OK);
    /* 250 + 250 + 500 dots, whole digests of 4: 62 + 62 + 125 digests. */
    assert_int_equal(pts->n, 4 * (62 + 62 + 125));
    for (size_t i = 0; i + 1 < pts->n; i++) {
        hs_member_id id;
        assert_int_equal(hs_place_lookup(p, hs__points_value(pts, i), &id), HS_OK);
        size_t next = i + 1;
        while (next < pts->n && hs__points_value(pts, next) == hs__points_value(pts, i))
            next++;
        assert_int_equal(id, hs__points_owner(pts, next < pts->n ? next : 0));
    }
    hs_place_free(p);
    direct_free(&d, &hs__place_continuum);
}

/* ---- every compat method ---- */

static const char *const methods[] = {"ketama", "libketama", "continuum"};

static hs_place *fill(const char *method, size_t n)
{
    hs_place *p;
    assert_int_equal(hs_place_new(&p, method, NULL), HS_OK);
    char name[64]; /* room for any size_t, as gcc -O0 cannot bound i / 200 */
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "10.3.%zu.%zu:11211", i / 200, i % 200);
        assert_int_equal(hs_place_add(p, name, (double)(1 + i % 5)), HS_OK);
    }
    return p;
}

static void test_compat_methods_are_registered_with_md5(void **state)
{
    (void)state;
    for (size_t m = 0; m < 3; m++) {
        const hs_place_info *info = hs_place_method_find(methods[m]);
        assert_non_null(info);
        assert_string_equal(info->name, methods[m]);
        assert_int_equal(info->default_hash, HS_HASH_MD5);
        assert_true(info->flags & HS_PLACE_COMPAT);
        assert_true(info->flags & HS_PLACE_WEIGHTED);
        assert_non_null(strstr(hs_place_method_names(), methods[m]));
    }
}

static void test_compat_replicas_distinct_and_start_with_owner(void **state)
{
    (void)state;
    for (size_t m = 0; m < 3; m++) {
        hs_place *p = fill(methods[m], 20);
        for (uint64_t k = 0; k < 2000; k++) {
            uint64_t h = k * 0x9e3779b97f4a7c15ull;
            hs_member_id out[20], owner;
            size_t got;
            assert_int_equal(hs_place_lookup(p, h, &owner), HS_OK);
            size_t r = 1 + k % 20;
            assert_int_equal(hs_place_lookup_n(p, h, out, r, &got), HS_OK);
            assert_int_equal(got, r);
            assert_int_equal(out[0], owner);
            for (size_t i = 0; i < got; i++)
                for (size_t j = i + 1; j < got; j++)
                    assert_int_not_equal(out[i], out[j]);
        }
        hs_place_free(p);
    }
}

/* A member whose share is too small for one point still appears, last, in a
 * full preference list. */
static void test_compat_full_preference_list_includes_pointless_members(void **state)
{
    (void)state;
    hs_place *p;
    assert_int_equal(hs_place_new(&p, "ketama", NULL), HS_OK);
    assert_int_equal(hs_place_add(p, "big:1", 100000), HS_OK);
    assert_int_equal(hs_place_add(p, "tiny:1", 1), HS_OK);
    assert_int_equal(hs_place_add(p, "big:2", 100000), HS_OK);
    hs_member_id tiny, out[3];
    assert_int_equal(hs_place_find(p, "tiny:1", &tiny), HS_OK);
    for (uint64_t k = 0; k < 1000; k++) {
        size_t got;
        assert_int_equal(hs_place_lookup_n(p, k * 0x9e3779b97f4a7c15ull, out, 3, &got), HS_OK);
        assert_int_equal(got, 3);
        assert_int_equal(out[2], tiny);
    }
    hs_place_free(p);
}

/* Removing a member moves only the keys it owned; adding it back restores
 * every owner. */
static void test_compat_remove_and_readd_are_consistent(void **state)
{
    (void)state;
    enum { KEYS = 5000 };
    for (size_t m = 0; m < 3; m++) {
        hs_place *p = fill(methods[m], 12);
        static hs_member_id before[KEYS];
        for (uint64_t k = 0; k < KEYS; k++)
            assert_int_equal(hs_place_lookup(p, k * 0x9e3779b97f4a7c15ull, &before[k]), HS_OK);
        const char *gone_name = "10.3.0.7:11211";
        hs_member_id gone;
        assert_int_equal(hs_place_find(p, gone_name, &gone), HS_OK);
        double w = hs_place_member_weight(p, gone);
        assert_int_equal(hs_place_remove(p, gone_name), HS_OK);
        assert_int_equal(hs_place_remove(p, gone_name), HS_ENOTFOUND);
        size_t moved = 0;
        for (uint64_t k = 0; k < KEYS; k++) {
            hs_member_id now;
            assert_int_equal(hs_place_lookup(p, k * 0x9e3779b97f4a7c15ull, &now), HS_OK);
            assert_int_not_equal(now, gone);
            if (before[k] != gone) {
                /* Point counts depend on every share, so a key of another
                 * member moves only if a few boundary points changed. */
                if (now != before[k])
                    moved++;
            }
        }
        assert_true(moved < KEYS / 10);
        assert_int_equal(hs_place_add(p, gone_name, w), HS_OK);
        for (uint64_t k = 0; k < KEYS; k++) {
            hs_member_id now;
            assert_int_equal(hs_place_lookup(p, k * 0x9e3779b97f4a7c15ull, &now), HS_OK);
            assert_string_equal(hs_place_member_name(p, now), hs_place_member_name(p, before[k]));
        }
        hs_place_free(p);
    }
}

static void test_compat_errors(void **state)
{
    (void)state;
    for (size_t m = 0; m < 3; m++) {
        hs_place *p;
        hs_member_id id, out[2];
        size_t got;
        assert_int_equal(hs_place_new(&p, methods[m], NULL), HS_OK);
        assert_int_equal(hs_place_lookup(p, 1, &id), HS_EEMPTY);
        assert_int_equal(hs_place_lookup_n(p, 1, out, 2, &got), HS_EEMPTY);
        assert_int_equal(hs_place_add(p, "10.0.0.1:11211", 0), HS_EWEIGHT);
        assert_int_equal(hs_place_add(p, "", 1), HS_ENAME);
        assert_int_equal(hs_place_add(p, "10.0.0.1:11211", 1), HS_OK);
        assert_int_equal(hs_place_add(p, "10.0.0.1:11211", 2), HS_EEXISTS);
        assert_int_equal(hs_place_size(p), 1);
        assert_int_equal(hs_place_lookup(p, 1, &id), HS_OK);
        assert_string_equal(hs_place_member_name(p, id), "10.0.0.1:11211");
        hs_place_free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#if HS_HAVE_LIBMEMCACHED
        cmocka_unit_test(test_ketama_matches_libmemcached_weighted),
        cmocka_unit_test(test_ketama_matches_libmemcached_equal_weights),
        cmocka_unit_test(test_ketama_matches_libmemcached_100_servers),
        cmocka_unit_test(test_ketama_matches_libmemcached_edge_weights_and_ports),
        cmocka_unit_test(test_ketama_matches_libmemcached_after_remove),
#endif
        cmocka_unit_test(test_ketama_member_without_port_is_default_port),
        cmocka_unit_test(test_libketama_python_test_known_answers),
        cmocka_unit_test(test_libketama_test_sh_md5_of_a_million_lookups),
        cmocka_unit_test(test_continuum_readme_known_answers),
        cmocka_unit_test(test_continuum_needs_host_port_members),
        cmocka_unit_test(test_continuum_without_points_is_empty),
        cmocka_unit_test(test_continuum_exact_point_goes_to_next_point),
        cmocka_unit_test(test_compat_methods_are_registered_with_md5),
        cmocka_unit_test(test_compat_replicas_distinct_and_start_with_owner),
        cmocka_unit_test(test_compat_full_preference_list_includes_pointless_members),
        cmocka_unit_test(test_compat_remove_and_readd_are_consistent),
        cmocka_unit_test(test_compat_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
