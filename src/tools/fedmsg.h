/* fedmsg.h - the load generator: build fedmsg-format messages, the two
 * frames [topic, body] of a fedmsg bus, the body a JSON object {topic, msg,
 * timestamp, msg_id, i, username}. Used by `hashspace pub` and the hub
 * benchmarks, never by the hub (src/tools: tools apart from the runtime); keys are drawn from a
 * uniform or Zipf distribution so that traffic can be skewed like a real bus (a few users produce
 * most messages).
 *
 * A generator is owned by one thread; nothing here locks and nothing prints.
 */
#ifndef HS_TOOLS_FEDMSG_H
#define HS_TOOLS_FEDMSG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* fedmsg's msg_id, "<year>-<uuid4>": a version-4 UUID made of the 122
 * random bits of hi and lo (the version and the variant set here), into
 * out (42 bytes with the NUL for a four-digit year). Inline, so that the
 * benchmarks that do not link this generator (bench/peers_cluster) write
 * the same ids. */
static inline void hs__fedmsg_msg_id(char *out, size_t cap, int year, uint64_t hi, uint64_t lo)
{
    hi = (hi & ~0xf000ull) | 0x4000ull;
    lo = (lo & ~(3ull << 62)) | (2ull << 62);
    snprintf(out, cap, "%d-%08llx-%04llx-%04llx-%04llx-%012llx", year,
             (unsigned long long)(hi >> 32), (unsigned long long)((hi >> 16) & 0xffff),
             (unsigned long long)(hi & 0xffff), (unsigned long long)(lo >> 48),
             (unsigned long long)(lo & 0xffffffffffffull));
}

typedef enum hs__key_dist {
    HS__KEY_UNIFORM,
    HS__KEY_ZIPF,
} hs__key_dist;

/* A small, fast PRNG (xoshiro256**). Not for secrets. */
typedef struct hs__rng {
    uint64_t s[4];
} hs__rng;

/* Seed from a 64-bit value (0 is fine) via splitmix64. */
void hs__rng_seed(hs__rng *r, uint64_t seed);
/* A seed from the kernel's entropy pool (falls back to the clock). */
uint64_t hs__rng_entropy_seed(void);
uint64_t hs__rng_next(hs__rng *r);
/* Uniform in [0, 1). */
double hs__rng_unit(hs__rng *r);
/* Uniform in [0, n), n > 0, without modulo bias. */
uint64_t hs__rng_below(hs__rng *r, uint64_t n);

/* A Zipf(s) sampler over ranks 1..n by rejection-inversion (Hörmann and
 * Derflinger 1996): O(1) memory and time whatever n, P(k) ~ k^-s, s > 0. */
typedef struct hs__zipf {
    uint64_t n;
    double s;
    double h_integral_x1, h_integral_n, cut;
} hs__zipf;

/* HS_EINVAL unless n >= 1 and s > 0 (finite). */
int hs__zipf_init(hs__zipf *z, uint64_t n, double s);
/* A rank in 1..n; rank 1 is the most frequent. */
uint64_t hs__zipf_sample(const hs__zipf *z, hs__rng *r);

typedef struct hs__fedmsg_opts {
    const char *const *topics; /* one is picked uniformly per message; at least one */
    size_t ntopics;
    uint64_t keys;        /* distinct keys (msg.key = "key-<n>", msg.user = "user-<n>"); >= 1 */
    hs__key_dist dist;    /* how keys are drawn */
    double zipf_s;        /* Zipf exponent, when dist is HS__KEY_ZIPF */
    size_t size;          /* pad the body to this many bytes (0: no padding) */
    const char *username; /* the body's "username" field; NULL: "hashspace" */
    uint64_t seed;        /* 0: from the kernel's entropy */
} hs__fedmsg_opts;

typedef struct hs__fedmsg_gen hs__fedmsg_gen;

/* A generator; copies what it needs from opts. HS_EINVAL on bad options,
 * HS_ENOMEM. */
int hs__fedmsg_gen_new(hs__fedmsg_gen **out, const hs__fedmsg_opts *opts);
/* Accepts NULL. */
void hs__fedmsg_gen_free(hs__fedmsg_gen *g);

/* Build the next message: sequence number i (1, 2, ... per generator),
 * timestamp = the wall clock now, a fresh msg_id "<year>-<uuid4>". The topic
 * and body point into the generator and stay valid until the next call. The
 * body is compact JSON, NUL-terminated, body_len excluding the NUL; it is at
 * least opts->size bytes long when that is reachable (exactly, unless the
 * unpadded body is already longer). */
int hs__fedmsg_gen_next(hs__fedmsg_gen *g, const char **topic, size_t *topic_len, const char **body,
                        size_t *body_len);

/* The sequence number the next message will carry. */
uint64_t hs__fedmsg_gen_seq(const hs__fedmsg_gen *g);

#endif
