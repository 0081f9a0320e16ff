/* peers.c - `hashspace bench peers`: our code against what users would
 * otherwise pick, measured in the same run on the same keys:
 *   - our `ketama` against libmemcached's weighted ketama on 1000 weighted
 *     servers (answers compared key by key);
 *   - our `jump` against a C transcription of the paper's reference code;
 *   - the claim decision (hash the body, place it) against the original
 *     Python scheme, md5(json.dumps(msg)) mod n, run by python3 on the same
 *     fedmsg-like messages, and against hashing the body alone.
 * Timings alternate between the two sides of a comparison and take the
 * median, so that a noisy neighbour slows both alike. */
#include "bench.h"

#include "hashspace/error.h"
#include "hashspace/view.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#if HS_HAVE_LIBMEMCACHED
#include <libmemcached/memcached.h>
#endif

#define REPS_MAX 15

typedef struct peers_ctx {
    bench_report *r;
    const bench_peers_opts *o;
    int reps;
    /* Rows of the summary table, filled as comparisons finish. */
    struct summary {
        char what[96];
        double ours_ns, other_ns, ratio;
        char ratio_is[16];
        char goal[24];
        const char *met;
    } rows[24];
    size_t n_rows;
    /* Rows of the detail table. */
    struct detail {
        char what[96];
        double ns;
        char check[96];
    } details[40];
    size_t n_details;
} peers_ctx;

static void summary(peers_ctx *c, const char *what, double ours, double other, bool ours_over,
                    double goal, bool goal_is_max, const char *goal_text)
{
    if (c->n_rows == sizeof c->rows / sizeof c->rows[0]) {
        bench_note(c->r, "peers: summary table full, \"%s\" left out", what);
        return;
    }
    struct summary *s = &c->rows[c->n_rows++];
    snprintf(s->what, sizeof s->what, "%s", what);
    s->ours_ns = ours;
    s->other_ns = other;
    s->ratio = ours_over ? ours / other : other / ours;
    snprintf(s->ratio_is, sizeof s->ratio_is, "%s", ours_over ? "ours/other" : "other/ours");
    snprintf(s->goal, sizeof s->goal, "%s", goal_text);
    if (goal <= 0 || isnan(s->ratio))
        s->met = goal <= 0 ? "" : "n/a";
    else
        s->met = (goal_is_max ? s->ratio <= goal : s->ratio >= goal) ? "yes" : "NO";
}

static void detail(peers_ctx *c, const char *what, double ns, const char *check)
{
    if (c->n_details == sizeof c->details / sizeof c->details[0]) {
        bench_note(c->r, "peers: detail table full, \"%s\" left out", what);
        return;
    }
    struct detail *d = &c->details[c->n_details++];
    snprintf(d->what, sizeof d->what, "%s", what);
    d->ns = ns;
    snprintf(d->check, sizeof d->check, "%s", check ? check : "");
}

/* ---- jump against the paper's code ---- */

static double time_jump_ref(const uint64_t *h, size_t n, int32_t buckets)
{
    uint64_t acc = 0, t0 = bench_now_ns();
    for (size_t i = 0; i < n; i++)
        acc += (uint64_t)bench_jump_ref(h[i], buckets);
    uint64_t t1 = bench_now_ns();
    bench_consume(acc);
    return (double)(t1 - t0) / (double)n;
}

static double time_jump_ours(const uint64_t *h, size_t n, uint32_t buckets)
{
    uint64_t acc = 0, t0 = bench_now_ns();
    for (size_t i = 0; i < n; i++)
        acc += hs_jump_bucket(h[i], buckets);
    uint64_t t1 = bench_now_ns();
    bench_consume(acc);
    return (double)(t1 - t0) / (double)n;
}

static double time_place_many(const hs_place *p, const uint64_t *h, size_t n)
{
    hs_member_id ids[4096];
    uint64_t acc = 0, t0 = bench_now_ns();
    for (size_t at = 0; at < n; at += 4096) {
        size_t len = n - at < 4096 ? n - at : 4096;
        hs_place_lookup_many(p, h + at, len, ids);
        acc += ids[len - 1];
    }
    uint64_t t1 = bench_now_ns();
    bench_consume(acc);
    return (double)(t1 - t0) / (double)n;
}

static double time_place(const hs_place *p, const uint64_t *h, size_t n)
{
    uint64_t acc = 0, t0 = bench_now_ns();
    for (size_t i = 0; i < n; i++) {
        hs_member_id id = 0;
        hs_place_lookup(p, h[i], &id);
        acc += id;
    }
    uint64_t t1 = bench_now_ns();
    bench_consume(acc);
    return (double)(t1 - t0) / (double)n;
}

static int peers_jump(peers_ctx *c)
{
    if (hs_place_method_find("jump") == NULL) {
        bench_note(c->r, "jump not available");
        return 0;
    }
    size_t n_hashes = c->o->quick ? 20000 : 1000000;
    uint64_t *h = bench_random_hashes(n_hashes, 11);
    if (h == NULL)
        return HS_ENOMEM;
    /* 4: no division (up to 4 buckets); 10: the unrolled steps; then the
     * paper's loop. */
    static const size_t sizes[] = {4, 10, 1000, 1000000};
    int rc = HS_OK;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0] && rc == HS_OK; s++) {
        size_t n = sizes[s];
        if (c->o->quick && n > 1000)
            break;
        bench_progress("bench peers: jump, %zu buckets", n);
        hs_place *p;
        rc = bench_place_build(&p, "jump", "b", n, NULL);
        if (rc != HS_OK)
            break;
        /* Members were added in order, so member id i is bucket i. */
        size_t differ = 0;
        for (size_t i = 0; i < n_hashes; i++) {
            hs_member_id id;
            hs_place_lookup(p, h[i], &id);
            int32_t want = bench_jump_ref(h[i], (int32_t)n);
            differ +=
                id != (hs_member_id)want || hs_jump_bucket(h[i], (uint32_t)n) != (uint32_t)want;
        }
        /* Each round alternates the sides every BLOCK hashes, so that all
         * sample the machine in the same moments. Ours, against the
         * reference, is the library's bucket function (both out-of-line
         * calls); the placement's lookup, one call per key and in batches,
         * is shown beside them. */
        enum { BLOCK = 4096 };
        double ref[REPS_MAX], ours[REPS_MAX], place[REPS_MAX], many[REPS_MAX];
        for (int k = 0; k < c->reps; k++) {
            double sum[4] = {0, 0, 0, 0};
            for (size_t at = 0; at < n_hashes; at += BLOCK) {
                size_t len = n_hashes - at < BLOCK ? n_hashes - at : BLOCK;
                sum[0] += time_jump_ref(h + at, len, (int32_t)n) * (double)len;
                sum[1] += time_jump_ours(h + at, len, (uint32_t)n) * (double)len;
                sum[2] += time_place(p, h + at, len) * (double)len;
                sum[3] += time_place_many(p, h + at, len) * (double)len;
            }
            ref[k] = sum[0] / (double)n_hashes;
            ours[k] = sum[1] / (double)n_hashes;
            place[k] = sum[2] / (double)n_hashes;
            many[k] = sum[3] / (double)n_hashes;
        }
        hs_place_free(p);
        double ref_ns = bench_median(ref, (size_t)c->reps);
        double ours_ns = bench_median(ours, (size_t)c->reps);
        char what[96], check[96];
        snprintf(what, sizeof what, "jump vs paper's reference code, %zu buckets", n);
        summary(c, what, ours_ns, ref_ns, true, 1.05, true, "<= 1.05");
        snprintf(check, sizeof check, "%zu of %zu answers differ", differ, n_hashes);
        snprintf(what, sizeof what, "jump reference code (bench/jump_ref.c), %zu buckets", n);
        detail(c, what, ref_ns, check);
        snprintf(what, sizeof what, "hs_jump_bucket, %zu buckets", n);
        detail(c, what, ours_ns, NULL);
        snprintf(what, sizeof what, "hs_place_lookup jump, %zu buckets", n);
        detail(c, what, bench_median(place, (size_t)c->reps), NULL);
        snprintf(what, sizeof what, "hs_place_lookup_many jump, %zu buckets", n);
        detail(c, what, bench_median(many, (size_t)c->reps), NULL);
    }
    free(h);
    return rc;
}

/* ---- ketama against libmemcached ---- */

/* The issue asks for 1000 servers; Debian's libmemcached (1.1.x, built with
 * its assertions) aborts when a continuum has more than
 * MEMCACHED_CONTINUUM_SIZE / MEMCACHED_POINTS_PER_SERVER servers (100), so
 * the comparison runs at the largest count it accepts, and our ketama is
 * also timed alone at 1000. */
#define KETAMA_SERVERS 1000
#if HS_HAVE_LIBMEMCACHED && defined(MEMCACHED_CONTINUUM_SIZE) &&                                   \
    MEMCACHED_CONTINUUM_SIZE / MEMCACHED_POINTS_PER_SERVER < KETAMA_SERVERS
#define LM_SERVERS (MEMCACHED_CONTINUUM_SIZE / MEMCACHED_POINTS_PER_SERVER)
#else
#define LM_SERVERS KETAMA_SERVERS
#endif

/* Server i: address and weight (1 to 4, so the continuum is weighted). */
static void server_of(size_t i, char *host, size_t cap, unsigned *port, uint32_t *weight)
{
    snprintf(host, cap, "10.%zu.%zu.%zu", i / 65536 % 256, i / 256 % 256, i % 256);
    *port = 11211;
    *weight = 1 + (uint32_t)(i % 4);
}

/* Keys like a cache's: "user:<n>:profile". */
static char *make_keys(size_t n, size_t **off, size_t **len)
{
    char *data = malloc(n * 40 + 1);
    *off = malloc(n * sizeof **off);
    *len = malloc(n * sizeof **len);
    if (data == NULL || *off == NULL || *len == NULL) {
        free(data);
        free(*off);
        free(*len);
        return NULL;
    }
    uint64_t seed = 5;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        (*off)[i] = at;
        (*len)[i] = (size_t)sprintf(data + at, "user:%llu:profile",
                                    (unsigned long long)(bench_rand64(&seed) % 100000000000ull));
        at += (*len)[i];
    }
    return data;
}

#if HS_HAVE_LIBMEMCACHED
/* libmemcached with servers 0 .. n-1, weighted ketama. */
static memcached_st *memcached_ketama(size_t n)
{
    memcached_st *memc = memcached_create(NULL);
    if (memc == NULL)
        return NULL;
    memcached_server_list_st list = NULL;
    memcached_return_t mrc = MEMCACHED_SUCCESS;
    for (size_t i = 0; i < n && mrc == MEMCACHED_SUCCESS; i++) {
        char host[64];
        unsigned port;
        uint32_t weight;
        server_of(i, host, sizeof host, &port, &weight);
        list = memcached_server_list_append_with_weight(list, host, (in_port_t)port, weight, &mrc);
    }
    if (mrc == MEMCACHED_SUCCESS)
        mrc = memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1);
    if (mrc == MEMCACHED_SUCCESS)
        mrc = memcached_server_push(memc, list);
    memcached_server_list_free(list);
    if (mrc != MEMCACHED_SUCCESS) {
        memcached_free(memc);
        return NULL;
    }
    return memc;
}
#endif

/* Our ketama with servers 0 .. n-1, member i named "host:port", added in
 * one call (one continuum build). */
static int our_ketama(size_t n, hs_place **out)
{
    char *storage = malloc(n * 80);
    const char **names = malloc(n * sizeof *names);
    double *weights = malloc(n * sizeof *weights);
    hs_place *p = NULL;
    int rc = storage && names && weights ? hs_place_new(&p, "ketama", NULL) : HS_ENOMEM;
    for (size_t i = 0; i < n && rc == HS_OK; i++) {
        char host[64];
        unsigned port;
        uint32_t weight;
        server_of(i, host, sizeof host, &port, &weight);
        snprintf(storage + i * 80, 80, "%s:%u", host, port);
        names[i] = storage + i * 80;
        weights[i] = (double)weight;
    }
    if (rc == HS_OK)
        rc = hs_place_add_many(p, names, weights, n);
    free(storage);
    free(names);
    free(weights);
    if (rc != HS_OK) {
        hs_place_free(p);
        return rc;
    }
    *out = p;
    return HS_OK;
}

typedef struct keys {
    char *data;
    size_t *off, *len;
    size_t n;
} keys;

/* Median ns per key of hash + lookup, of the hash alone, and of the lookup
 * alone (on the precomputed hashes), for our ketama. */
static void time_ours(peers_ctx *c, const hs_place *p, const hs_hasher *h, const keys *k,
                      uint64_t *hashes, double *full, double *hash, double *lookup)
{
    uint64_t acc = 0, t0 = bench_now_ns();
    for (size_t i = 0; i < k->n; i++) {
        uint64_t v;
        hs_member_id id = 0;
        hs_hasher_hash(h, k->data + k->off[i], k->len[i], &v);
        hs_place_lookup(p, v, &id);
        acc += id;
    }
    uint64_t t1 = bench_now_ns();
    for (size_t i = 0; i < k->n; i++)
        hs_hasher_hash(h, k->data + k->off[i], k->len[i], &hashes[i]);
    uint64_t t2 = bench_now_ns();
    bench_consume(acc);
    *full = (double)(t1 - t0) / (double)k->n;
    *hash = (double)(t2 - t1) / (double)k->n;
    *lookup = time_place(p, hashes, k->n);
    (void)c;
}

static int peers_ketama(peers_ctx *c)
{
    if (hs_place_method_find("ketama") == NULL)
        bench_note(c->r, "ketama not available: libmemcached measured alone");
#if !HS_HAVE_LIBMEMCACHED
    if (hs_place_method_find("ketama") == NULL)
        return HS_OK;
#endif
    keys k;
    k.n = c->o->keys ? c->o->keys : 1000000;
    if (c->o->quick && k.n > 20000)
        k.n = 20000;
    k.data = make_keys(k.n, &k.off, &k.len);
    uint64_t *hashes = malloc(k.n * sizeof *hashes);
    if (k.data == NULL || hashes == NULL) {
        if (k.data != NULL) {
            free(k.data);
            free(k.off);
            free(k.len);
        }
        free(hashes);
        return HS_ENOMEM;
    }
    const hs_place_info *info = hs_place_method_find("ketama");
    hs_hasher hasher;
    if (info != NULL)
        hs_hasher_init(&hasher, info->default_hash);
    int rc = HS_OK;
    char what[96], check[96];

#if HS_HAVE_LIBMEMCACHED
    bench_progress("bench peers: libmemcached continuum of %d servers", LM_SERVERS);
    memcached_st *memc = memcached_ketama(LM_SERVERS);
    hs_place *p = NULL;
    if (memc == NULL)
        bench_note(c->r, "libmemcached: cannot set up %d weighted servers", LM_SERVERS);
    else if (info != NULL)
        rc = our_ketama(LM_SERVERS, &p);
    size_t differ = 0;
    if (memc != NULL && p != NULL)
        for (size_t i = 0; i < k.n; i++) {
            uint64_t h;
            hs_member_id id = 0;
            hs_hasher_hash(&hasher, k.data + k.off[i], k.len[i], &h);
            hs_place_lookup(p, h, &id);
            differ += id != memcached_generate_hash(memc, k.data + k.off[i], k.len[i]);
        }
    double lm_full[REPS_MAX], lm_hash[REPS_MAX], full[REPS_MAX], hash[REPS_MAX], lookup[REPS_MAX];
    for (int r = 0; memc != NULL && rc == HS_OK && r < c->reps; r++) {
        bench_progress("bench peers: ketama vs libmemcached, round %d of %d", r + 1, c->reps);
        uint64_t acc = 0, t0 = bench_now_ns();
        for (size_t i = 0; i < k.n; i++)
            acc += memcached_generate_hash(memc, k.data + k.off[i], k.len[i]);
        uint64_t t1 = bench_now_ns();
        for (size_t i = 0; i < k.n; i++)
            acc += memcached_generate_hash_value(k.data + k.off[i], k.len[i], MEMCACHED_HASH_MD5);
        uint64_t t2 = bench_now_ns();
        bench_consume(acc);
        lm_full[r] = (double)(t1 - t0) / (double)k.n;
        lm_hash[r] = (double)(t2 - t1) / (double)k.n;
        if (p != NULL)
            time_ours(c, p, &hasher, &k, hashes, &full[r], &hash[r], &lookup[r]);
    }
    if (memc != NULL && rc == HS_OK) {
        double lm_full_ns = bench_median(lm_full, (size_t)c->reps);
        double lm_hash_ns = bench_median(lm_hash, (size_t)c->reps);
        snprintf(what, sizeof what, "libmemcached memcached_generate_hash, %d servers", LM_SERVERS);
        detail(c, what, lm_full_ns, "md5 of the key + continuum search");
        detail(c, "libmemcached memcached_generate_hash_value (md5)", lm_hash_ns, NULL);
        if (p != NULL) {
            double full_ns = bench_median(full, (size_t)c->reps);
            double lookup_ns = bench_median(lookup, (size_t)c->reps);
            snprintf(check, sizeof check, "%zu of %zu answers differ from libmemcached", differ,
                     k.n);
            snprintf(what, sizeof what, "ours: %s + ketama lookup, %d servers",
                     hs_hash_name(hasher.id), LM_SERVERS);
            detail(c, what, full_ns, check);
            detail(c, "ours: hash alone", bench_median(hash, (size_t)c->reps), NULL);
            snprintf(what, sizeof what, "ours: ketama lookup alone, %d servers", LM_SERVERS);
            detail(c, what, lookup_ns, NULL);
            snprintf(what, sizeof what,
                     "ketama vs libmemcached, %d weighted servers, key to server", LM_SERVERS);
            summary(c, what, full_ns, lm_full_ns, false, 3, false, ">= 3");
            snprintf(what, sizeof what, "ketama vs libmemcached, %d servers, lookup (lm: - md5)",
                     LM_SERVERS);
            summary(c, what, lookup_ns, lm_full_ns - lm_hash_ns, false, 3, false, ">= 3");
            snprintf(what, sizeof what, "ketama = libmemcached on %zu keys, %d servers", k.n,
                     LM_SERVERS);
            summary(c, what, NAN, NAN, false, 0, false, "identical");
            c->rows[c->n_rows - 1].met = differ == 0 ? "yes" : "NO";
        }
    }
    hs_place_free(p);
    memcached_free(memc);
    if (LM_SERVERS < KETAMA_SERVERS)
        bench_note(c->r,
                   "libmemcached %s aborts on a continuum of more than %d servers (assertion "
                   "server_count * MEMCACHED_POINTS_PER_SERVER <= MEMCACHED_CONTINUUM_SIZE), so "
                   "the comparison runs at %d; our ketama is also timed alone at %d",
                   memcached_lib_version(), LM_SERVERS, LM_SERVERS, KETAMA_SERVERS);
#endif

    /* Our ketama at the full server count, alone when libmemcached cannot. */
    if (info != NULL && rc == HS_OK && LM_SERVERS < KETAMA_SERVERS) {
        bench_progress("bench peers: ketama, %d servers", KETAMA_SERVERS);
        hs_place *big;
        rc = our_ketama(KETAMA_SERVERS, &big);
        double f[REPS_MAX], h[REPS_MAX], l[REPS_MAX];
        for (int r = 0; rc == HS_OK && r < c->reps; r++)
            time_ours(c, big, &hasher, &k, hashes, &f[r], &h[r], &l[r]);
        if (rc == HS_OK) {
            snprintf(what, sizeof what, "ours: %s + ketama lookup, %d servers",
                     hs_hash_name(hasher.id), KETAMA_SERVERS);
            detail(c, what, bench_median(f, (size_t)c->reps), NULL);
            snprintf(what, sizeof what, "ours: ketama lookup alone, %d servers", KETAMA_SERVERS);
            detail(c, what, bench_median(l, (size_t)c->reps), NULL);
            hs_place_free(big);
        }
    }
    free(hashes);
    free(k.data);
    free(k.off);
    free(k.len);
    return rc;
}

/* ---- the claim against the original Python scheme ---- */

static const char python_script[] =
    "import hashlib, json, sys, time\n"
    "path, n, me, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])\n"
    "with open(path, 'rb') as f:\n"
    "    raw = [line.rstrip(b'\\n') for line in f]\n"
    "msgs = [json.loads(line) for line in raw]\n"
    "def scheme():\n"
    "    mine = 0\n"
    "    for msg in msgs:\n"
    "        if int(hashlib.md5(json.dumps(msg).encode('utf-8')).hexdigest(), 16) % n == me:\n"
    "            mine += 1\n"
    "    return mine\n"
    "def md5_only():\n"
    "    mine = 0\n"
    "    for body in raw:\n"
    "        if int(hashlib.md5(body).hexdigest(), 16) % n == me:\n"
    "            mine += 1\n"
    "    return mine\n"
    "def timed(fn):\n"
    "    runs = []\n"
    "    for _ in range(reps):\n"
    "        t0 = time.process_time_ns()\n"
    "        mine = fn()\n"
    "        runs.append((time.process_time_ns() - t0) / len(msgs))\n"
    "    runs.sort()\n"
    "    return runs[len(runs) // 2], mine\n"
    "a, mine_a = timed(scheme)\n"
    "b, mine_b = timed(md5_only)\n"
    "print('%.1f %.1f %d %d' % (a, b, mine_a, mine_b))\n";

/* A fedmsg-like message of exactly `size` bytes (a git push notification),
 * number i. */
static size_t fedmsg_body(char *out, size_t size, size_t i, uint64_t *seed)
{
    char rev[41];
    for (int k = 0; k < 40; k++)
        rev[k] = "0123456789abcdef"[bench_rand64(seed) & 15];
    rev[40] = '\0';
    int head =
        snprintf(out, size,
                 "{\"i\": %zu, \"msg_id\": \"2024-%08llx-%04x-%04x\", \"timestamp\": "
                 "%llu, \"topic\": \"org.fedoraproject.prod.git.receive\", "
                 "\"username\": \"packager%zu\", \"msg\": {\"commit\": {\"repo\": "
                 "\"rpms/python-pkg%zu\", \"branch\": \"rawhide\", \"rev\": \"%s\", "
                 "\"agent\": \"packager%zu\", \"stats\": {\"files\": {\"python.spec\": "
                 "{\"additions\": %zu, \"deletions\": %zu, \"lines\": %zu}}, "
                 "\"total\": {\"additions\": %zu, \"deletions\": %zu, \"files\": 1, "
                 "\"lines\": %zu}}, \"message\": \"",
                 i + 1, (unsigned long long)(bench_rand64(seed) & 0xffffffffu),
                 (unsigned)(bench_rand64(seed) & 0xffff), (unsigned)(bench_rand64(seed) & 0xffff),
                 1700000000ull + (unsigned long long)i, i % 500, i % 20000, rev, i % 500, i % 50,
                 i % 7, i % 50 + i % 7, i % 50, i % 7, i % 50 + i % 7);
    static const char tail[] = "\"}}}";
    size_t at = (size_t)head;
    static const char words[] = "Update to the latest upstream release and rebuild for the mass "
                                "rebuild; fix the build with the new toolchain. ";
    while (at < size - (sizeof tail - 1)) {
        out[at] = words[(at - (size_t)head) % (sizeof words - 1)];
        at++;
    }
    memcpy(out + at, tail, sizeof tail - 1); /* no NUL: bodies are packed */
    return size;
}

/* Write the script and the messages to a fresh directory; run python3 on
 * them; read "scheme_ns md5_ns mine_a mine_b". */
static int run_python(peers_ctx *c, const char *dir, size_t n_members, size_t self,
                      double *scheme_ns, double *md5_ns, long *mine)
{
    char script[4200], data[4200], n_arg[24], me_arg[24], reps_arg[24];
    snprintf(script, sizeof script, "%s/claim.py", dir);
    snprintf(data, sizeof data, "%s/messages.jsonl", dir);
    snprintf(n_arg, sizeof n_arg, "%zu", n_members);
    snprintf(me_arg, sizeof me_arg, "%zu", self);
    snprintf(reps_arg, sizeof reps_arg, "1");
    FILE *f = fopen(script, "w");
    if (f == NULL || fputs(python_script, f) < 0 || fclose(f) != 0)
        return -1;
    const char *python = c->o->python ? c->o->python : "/usr/bin/python3";
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        char *const argv[] = {(char *)python, script, data, n_arg, me_arg, reps_arg, NULL};
        execv(python, argv);
        _exit(127);
    }
    close(fds[1]);
    char out[256] = "";
    size_t got = 0;
    ssize_t k;
    while (got < sizeof out - 1 && (k = read(fds[0], out + got, sizeof out - 1 - got)) != 0) {
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            break;
        got += (size_t)k;
    }
    out[got] = '\0';
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    long mine_b;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        sscanf(out, "%lf %lf %ld %ld", scheme_ns, md5_ns, mine, &mine_b) != 4)
        return -1;
    return 0;
}

static int peers_claim(peers_ctx *c)
{
    size_t n_msgs = c->o->messages ? c->o->messages : 20000;
    if (c->o->quick && n_msgs > 500)
        n_msgs = 500;
    enum { BODY = 1024, MEMBERS = 4, SELF = 1 };
    char *bodies = malloc(n_msgs * BODY);
    if (bodies == NULL)
        return HS_ENOMEM;
    uint64_t seed = 3;
    for (size_t i = 0; i < n_msgs; i++)
        fedmsg_body(bodies + i * BODY, BODY, i, &seed);

    /* Our claim: a view of 4 hubs, jump on xxh3 (the defaults of `route`),
     * deciding for hub number SELF. */
    static const hs_view_member members[MEMBERS] = {
        {"hub-a", 1}, {"hub-b", 1}, {"hub-c", 1}, {"hub-d", 1}};
    const char *method = hs_place_method_find("jump") ? "jump" : hs_place_method_at(0)->name;
    hs_view *view;
    int rc = hs_view_new(&view, 1, method, NULL, NULL, members, MEMBERS);
    if (rc != HS_OK) {
        free(bodies);
        return rc;
    }
    const hs_hasher *hasher = hs_view_hasher(view);

    /* The messages and the script go to a fresh directory. */
    const char *tmp = getenv("TMPDIR");
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/hashspace-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    bool have_dir = mkdtemp(dir) != NULL;
    bool python_ok = have_dir;
    if (!have_dir) {
        bench_note(c->r, "python: cannot make a temporary directory: %s", strerror(errno));
    } else {
        snprintf(path, sizeof path, "%s/messages.jsonl", dir);
        FILE *f = fopen(path, "w");
        python_ok = f != NULL;
        for (size_t i = 0; i < n_msgs && python_ok; i++)
            python_ok = fwrite(bodies + i * BODY, 1, BODY, f) == BODY && fputc('\n', f) != EOF;
        if (f != NULL && fclose(f) != 0)
            python_ok = false;
    }

    /* Rounds: one Python run (its own process, one pass of each loop), then
     * one round of ours, so that both sides see the machine in the same
     * state. Two passes of ours: "cold" walks all n_msgs bodies (more than
     * the caches hold), "warm" cycles through the first WARM bodies, in
     * cache as a message the hub has just received is. */
    enum { WARM = 256 };
    int rounds = c->o->quick ? 2 : 7;
    double py[REPS_MAX], py_md5[REPS_MAX];
    double claim[2][REPS_MAX], hash[2][REPS_MAX], batch[2][REPS_MAX];
    long mine = 0, py_mine = -1, mine_batch = 0;
    size_t lens[128], owners[128];
    for (size_t i = 0; i < 128; i++)
        lens[i] = BODY;
    int py_rounds = 0;
    for (int k = 0; k < rounds; k++) {
        if (python_ok) {
            bench_progress("bench peers: python3 on %zu messages, round %d of %d", n_msgs, k + 1,
                           rounds);
            python_ok = run_python(c, dir, MEMBERS, SELF, &py[py_rounds], &py_md5[py_rounds],
                                   &py_mine) == 0;
            if (python_ok)
                py_rounds++;
            else
                bench_note(c->r,
                           "python: %s did not run the claim script; Python figures "
                           "missing",
                           c->o->python ? c->o->python : "/usr/bin/python3");
        }
        bench_progress("bench peers: claim, round %d of %d", k + 1, rounds);
        /* The claim and the hash alone alternate every BLOCK messages. */
        enum { BLOCK = 128 };
        for (int warm = 0; warm < 2; warm++) {
            size_t window = warm && n_msgs > WARM ? WARM : n_msgs;
            uint64_t acc = 0, claim_ns = 0, hash_ns = 0, batch_ns = 0, batch_n = 0;
            long mine_now = 0;
            for (size_t at = 0; at < n_msgs; at += BLOCK) {
                size_t end = n_msgs - at < BLOCK ? n_msgs : at + BLOCK;
                uint64_t t0 = bench_now_ns();
                for (size_t i = at; i < end; i++) {
                    bool is_mine = false;
                    hs_view_owns(view, SELF, bodies + (i % window) * BODY, BODY, &is_mine);
                    mine_now += is_mine;
                }
                uint64_t t1 = bench_now_ns();
                /* Cold: the hash reads other bodies than the claim just
                 * did (half the set away), so that neither side finds the
                 * other's bodies in cache. */
                for (size_t i = at; i < end; i++) {
                    uint64_t h;
                    size_t j = warm ? i % window : (i + n_msgs / 2) % n_msgs;
                    hs_hasher_hash(hasher, bodies + j * BODY, BODY, &h);
                    acc += h;
                }
                uint64_t t2 = bench_now_ns();
                /* The same claims in one hs_view_owner_many call (cold: a
                 * quarter of the set away from both others). */
                size_t first = warm ? at % window : (at + n_msgs / 4) % n_msgs;
                size_t len = end - at;
                if (first + len > (warm ? window : n_msgs))
                    len = (warm ? window : n_msgs) - first;
                hs_view_owner_many(view, bodies + first * BODY, lens, len, owners, NULL);
                for (size_t i = 0; i < len; i++)
                    mine_batch += owners[i] == SELF;
                uint64_t t3 = bench_now_ns();
                claim_ns += t1 - t0;
                hash_ns += t2 - t1;
                batch_ns += t3 - t2;
                batch_n += len;
            }
            claim[warm][k] = (double)claim_ns / (double)n_msgs;
            hash[warm][k] = (double)hash_ns / (double)n_msgs;
            batch[warm][k] = (double)batch_ns / (double)batch_n;
            bench_consume(acc + (uint64_t)mine_now);
            if (!warm)
                mine = mine_now;
        }
    }
    if (have_dir) {
        unlink(path);
        snprintf(path, sizeof path, "%s/claim.py", dir);
        unlink(path);
        rmdir(dir);
    }
    double py_ns = py_rounds ? bench_median(py, (size_t)py_rounds) : NAN;
    double py_md5_ns = py_rounds ? bench_median(py_md5, (size_t)py_rounds) : NAN;
    double claim_ns[2], hash_ns[2], batch_ns[2];
    for (int warm = 0; warm < 2; warm++) {
        claim_ns[warm] = bench_median(claim[warm], (size_t)rounds);
        hash_ns[warm] = bench_median(hash[warm], (size_t)rounds);
        batch_ns[warm] = bench_median(batch[warm], (size_t)rounds);
    }
    char what[96], check[96];
    snprintf(what, sizeof what, "claim, cold: hs_view_owns, %s on %s, %zu 1 KiB bodies", method,
             hs_hash_name(hasher->id), n_msgs);
    snprintf(check, sizeof check, "%ld of %zu messages mine (%d members)", mine, n_msgs, MEMBERS);
    detail(c, what, claim_ns[0], check);
    snprintf(what, sizeof what, "%s of the body alone, cold", hs_hash_name(hasher->id));
    detail(c, what, hash_ns[0], NULL);
    snprintf(what, sizeof what, "claim, warm: the same on %d bodies in cache", WARM);
    detail(c, what, claim_ns[1], NULL);
    snprintf(what, sizeof what, "%s of the body alone, warm", hs_hash_name(hasher->id));
    detail(c, what, hash_ns[1], NULL);
    snprintf(check, sizeof check, "%ld mine over all rounds", mine_batch);
    detail(c, "claim in batches (hs_view_owner_many, 128 at a time), cold", batch_ns[0], check);
    detail(c, "claim in batches (hs_view_owner_many, 128 at a time), warm", batch_ns[1], NULL);
    if (py_rounds > 0) {
        snprintf(check, sizeof check, "%ld of %zu messages mine", py_mine, n_msgs);
        detail(c, "python3: int(md5(json.dumps(msg)).hexdigest(), 16) % n", py_ns, check);
        detail(c, "python3: int(md5(raw body).hexdigest(), 16) % n (no json.dumps)", py_md5_ns,
               NULL);
    }
    /* Warm is the hub's case (a body just received is in cache); cold is
     * shown too: it is the harder side for the Python ratio, warm the harder
     * one for the overhead over the hash. */
    summary(c, "claim (warm) vs Python md5(json.dumps(msg)) % n, 1 KiB body", claim_ns[1], py_ns,
            false, 100, false, ">= 100 (aim 200)");
    summary(c, "claim (cold) vs Python md5(json.dumps(msg)) % n, 1 KiB body", claim_ns[0], py_ns,
            false, 100, false, ">= 100 (aim 200)");
    summary(c, "claim in batches (warm) vs the Python scheme", batch_ns[1], py_ns, false, 100,
            false, ">= 100 (aim 200)");
    summary(c, "claim in batches (cold) vs the Python scheme", batch_ns[0], py_ns, false, 100,
            false, ">= 100 (aim 200)");
    summary(c, "claim vs hashing the body alone, warm", claim_ns[1], hash_ns[1], true, 1.2, true,
            "<= 1.2");
    summary(c, "claim vs hashing the body alone, cold", claim_ns[0], hash_ns[0], true, 1.2, true,
            "<= 1.2");
    summary(c, "claim in batches vs hashing the body alone, warm", batch_ns[1], hash_ns[1], true,
            1.2, true, "<= 1.2");
    summary(c, "claim in batches vs hashing the body alone, cold", batch_ns[0], hash_ns[0], true,
            1.2, true, "<= 1.2");
    hs_view_release(view);
    free(bodies);
    return HS_OK;
}

int bench_peers_run(bench_report *r, const bench_peers_opts *o)
{
    peers_ctx *c = calloc(1, sizeof *c);
    if (c == NULL) {
        fprintf(stderr, "hashspace bench: out of memory\n");
        return 1;
    }
    c->r = r;
    c->o = o;
    c->reps = o->quick ? 3 : 11;
    int rc = peers_jump(c);
    if (rc == HS_OK)
        rc = peers_ketama(c);
    if (rc == HS_OK)
        rc = peers_claim(c);
    bench_progress_done();
    if (rc != HS_OK) {
        fprintf(stderr, "hashspace bench: peers: %s\n", hs_strerror(rc));
        free(c);
        return 1;
    }
    static const char *const cols[] = {"comparison", "ours_ns", "other_ns", "ratio",
                                       "ratio_is",   "goal",    "met",      NULL};
    bench_table(r, "peers", "Peers: the same keys, the same machine, the same run (median ns)", 0,
                cols);
    for (size_t i = 0; i < c->n_rows; i++) {
        const struct summary *s = &c->rows[i];
        bench_cell_str(r, s->what);
        bench_cell_num(r, s->ours_ns, 2);
        bench_cell_num(r, s->other_ns, 2);
        bench_cell_num(r, s->ratio, 3);
        bench_cell_str(r, s->ratio_is);
        bench_cell_str(r, s->goal);
        bench_cell_str(r, s->met);
        bench_row_end(r);
    }
    bench_table_end(r);
    static const char *const dcols[] = {"measurement", "ns", "check", NULL};
    bench_table(r, "peers_detail", "Peers: every timing behind the ratios (median ns per key)", 0,
                dcols);
    for (size_t i = 0; i < c->n_details; i++) {
        bench_cell_str(r, c->details[i].what);
        bench_cell_num(r, c->details[i].ns, 2);
        bench_cell_str(r, c->details[i].check);
        bench_row_end(r);
    }
    bench_table_end(r);
    free(c);
    return 0;
}
