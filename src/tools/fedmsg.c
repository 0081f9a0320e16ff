/* fedmsg.c - fedmsg-format message generator: keys from a uniform or Zipf
 * distribution, bodies built with jansson and padded to a target size. */
#include "fedmsg.h"

#include "clock.h"

#include "hashspace/error.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* --- PRNG: xoshiro256** seeded through splitmix64 --- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void hs__rng_seed(hs__rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

uint64_t hs__rng_entropy_seed(void)
{
    uint64_t seed;
    if (getrandom(&seed, sizeof seed, 0) == (ssize_t)sizeof seed)
        return seed;
    return hs__realtime_ns();
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t hs__rng_next(hs__rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double hs__rng_unit(hs__rng *r)
{
    return (double)(hs__rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t hs__rng_below(hs__rng *r, uint64_t n)
{
    /* Lemire's multiply-shift with rejection of the biased low zone. */
    unsigned __int128 m = (unsigned __int128)hs__rng_next(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = -n % n;
        while (low < threshold) {
            m = (unsigned __int128)hs__rng_next(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

/* --- Zipf by rejection-inversion --- */

/* log1p(x)/x, accurate near 0. */
static double helper1(double x)
{
    return fabs(x) > 1e-8 ? log1p(x) / x : 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
}

/* expm1(x)/x, accurate near 0. */
static double helper2(double x)
{
    return fabs(x) > 1e-8 ? expm1(x) / x : 1 + x * 0.5 * (1 + x / 3 * (1 + 0.25 * x));
}

/* H(x), an antiderivative of h(x) = x^-s that stays finite at s = 1. */
static double h_integral(const hs__zipf *z, double x)
{
    double lx = log(x);
    return helper2((1 - z->s) * lx) * lx;
}

static double h(const hs__zipf *z, double x)
{
    return exp(-z->s * log(x));
}

static double h_integral_inverse(const hs__zipf *z, double x)
{
    double t = x * (1 - z->s);
    if (t < -1)
        t = -1; /* guards rounding: the true value never goes below -1 */
    return exp(helper1(t) * x);
}

int hs__zipf_init(hs__zipf *z, uint64_t n, double s)
{
    if (n < 1 || !(s > 0) || !isfinite(s))
        return HS_EINVAL;
    z->n = n;
    z->s = s;
    z->h_integral_x1 = h_integral(z, 1.5) - 1;
    z->h_integral_n = h_integral(z, (double)n + 0.5);
    z->cut = 2 - h_integral_inverse(z, h_integral(z, 2.5) - h(z, 2));
    return HS_OK;
}

uint64_t hs__zipf_sample(const hs__zipf *z, hs__rng *r)
{
    for (;;) {
        double u = z->h_integral_n + hs__rng_unit(r) * (z->h_integral_x1 - z->h_integral_n);
        double x = h_integral_inverse(z, u);
        double kd = floor(x + 0.5);
        if (kd < 1)
            kd = 1;
        else if (kd > (double)z->n)
            kd = (double)z->n;
        /* Accept at once in the region where the hat fits tightly, else
         * test against the exact mass of k. */
        if (kd - x <= z->cut || u >= h_integral(z, kd + 0.5) - h(z, kd))
            return (uint64_t)kd;
    }
}

/* --- the generator --- */

struct hs__fedmsg_gen {
    char **topics;
    size_t ntopics;
    uint64_t keys;
    hs__key_dist dist;
    hs__zipf zipf;
    size_t size;
    hs__rng rng;
    uint64_t seq;
    json_t *root, *msg; /* reused between messages: fields are replaced */
    char *buf;
    size_t cap;
};

void hs__fedmsg_gen_free(hs__fedmsg_gen *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; i < g->ntopics; i++)
        free(g->topics[i]);
    free(g->topics);
    json_decref(g->root);
    free(g->buf);
    free(g);
}

int hs__fedmsg_gen_new(hs__fedmsg_gen **out, const hs__fedmsg_opts *o)
{
    *out = NULL;
    if (o->ntopics == 0 || o->topics == NULL || o->keys == 0)
        return HS_EINVAL;
    hs__fedmsg_gen *g = calloc(1, sizeof *g);
    if (g == NULL)
        return HS_ENOMEM;
    g->keys = o->keys;
    g->dist = o->dist;
    g->size = o->size;
    g->seq = 1;
    if (o->dist == HS__KEY_ZIPF && hs__zipf_init(&g->zipf, o->keys, o->zipf_s) != HS_OK) {
        free(g);
        return HS_EINVAL;
    }
    hs__rng_seed(&g->rng, o->seed != 0 ? o->seed : hs__rng_entropy_seed());
    g->topics = calloc(o->ntopics, sizeof *g->topics);
    if (g->topics == NULL)
        goto nomem;
    for (size_t i = 0; i < o->ntopics; i++) {
        if ((g->topics[i] = strdup(o->topics[i])) == NULL)
            goto nomem;
        g->ntopics++;
    }
    g->cap = 256 + o->size * 2;
    g->buf = malloc(g->cap);
    g->root = json_object();
    g->msg = json_object();
    if (g->buf == NULL || g->root == NULL || g->msg == NULL)
        goto nomem;
    /* Field order as fedmsg writes them; jansson keeps insertion order. */
    if (json_object_set_new(g->root, "topic", json_string("")) != 0 ||
        json_object_set(g->root, "msg", g->msg) != 0 ||
        json_object_set_new(g->root, "timestamp", json_real(0)) != 0 ||
        json_object_set_new(g->root, "msg_id", json_string("")) != 0 ||
        json_object_set_new(g->root, "i", json_integer(0)) != 0 ||
        json_object_set_new(g->root, "username",
                            json_string(o->username != NULL ? o->username : "hashspace")) != 0)
        goto nomem;
    json_decref(g->msg); /* root holds it now */
    *out = g;
    return HS_OK;
nomem:
    if (g->root == NULL)
        json_decref(g->msg);
    hs__fedmsg_gen_free(g);
    return HS_ENOMEM;
}

uint64_t hs__fedmsg_gen_seq(const hs__fedmsg_gen *g)
{
    return g->seq;
}

/* Serialize root into g->buf, growing it as needed; the length, or 0. */
static size_t dump(hs__fedmsg_gen *g)
{
    for (;;) {
        size_t n = json_dumpb(g->root, g->buf, g->cap - 1, JSON_COMPACT);
        if (n == 0)
            return 0;
        if (n < g->cap) {
            g->buf[n] = '\0';
            return n;
        }
        char *bigger = realloc(g->buf, n + 1);
        if (bigger == NULL)
            return 0;
        g->buf = bigger;
        g->cap = n + 1;
    }
}

int hs__fedmsg_gen_next(hs__fedmsg_gen *g, const char **topic, size_t *topic_len, const char **body,
                        size_t *body_len)
{
    const char *t = g->topics[g->ntopics == 1 ? 0 : hs__rng_below(&g->rng, g->ntopics)];
    uint64_t key = g->dist == HS__KEY_ZIPF ? hs__zipf_sample(&g->zipf, &g->rng) - 1
                                           : hs__rng_below(&g->rng, g->keys);
    char text[64];
    struct timespec now = hs__timespec(hs__realtime_ns());
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);

    uint64_t hi = hs__rng_next(&g->rng), lo = hs__rng_next(&g->rng);
    char id[64];
    hs__fedmsg_msg_id(id, sizeof id, tm.tm_year + 1900, hi, lo);

    int rc = 0;
    rc |= json_object_set_new(g->root, "topic", json_string(t));
    rc |= json_real_set(json_object_get(g->root, "timestamp"),
                        (double)now.tv_sec + (double)now.tv_nsec * 1e-9);
    rc |= json_object_set_new(g->root, "msg_id", json_string(id));
    rc |= json_integer_set(json_object_get(g->root, "i"), (json_int_t)g->seq);
    snprintf(text, sizeof text, "key-%llu", (unsigned long long)key);
    rc |= json_object_set_new(g->msg, "key", json_string(text));
    snprintf(text, sizeof text, "user-%llu", (unsigned long long)key);
    rc |= json_object_set_new(g->msg, "user", json_string(text));
    if (g->size > 0)
        rc |= json_object_set_new(g->msg, "pad", json_string(""));
    if (rc != 0)
        return HS_ENOMEM;
    size_t n = dump(g);
    if (n == 0)
        return HS_ENOMEM;
    if (g->size > n) {
        /* Splice the padding into the empty "pad" string rather than have
         * jansson escape-check kilobytes per message. The pattern cannot
         * occur inside a string (quotes are escaped there) and "pad" is a
         * key of msg only. */
        static const char mark[] = "\"pad\":\"";
        char *at = strstr(g->buf, mark);
        if (at == NULL)
            return HS_EINVAL;
        size_t extra = g->size - n;
        if (g->size + 1 > g->cap) {
            size_t off = (size_t)(at - g->buf);
            char *bigger = realloc(g->buf, g->size + 1);
            if (bigger == NULL)
                return HS_ENOMEM;
            g->buf = bigger;
            g->cap = g->size + 1;
            at = g->buf + off;
        }
        at += sizeof mark - 1;
        memmove(at + extra, at, n + 1 - (size_t)(at - g->buf));
        memset(at, 'x', extra);
        n = g->size;
    }
    g->seq++;
    *topic = t;
    *topic_len = strlen(t);
    *body = g->buf;
    *body_len = n;
    return HS_OK;
}
