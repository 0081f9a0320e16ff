/* hash.h - the registry of 64-bit hash functions of keys.
 *
 * Every function maps a key (bytes) to a uint64_t. Names are stable and are
 * what users type (--hash NAME). All functions are pure; an hs_hasher is a
 * small value that may be shared read-only between threads.
 *
 * Definitions, so that other implementations can match them bit for bit:
 *   md5      first 8 bytes of the MD5 digest, little-endian (so the low 32 bits
 *            are the key hash of libketama and libmemcached's MD5)
 *   crc32    zlib crc32 (IEEE), zero-extended
 *   adler32  zlib adler32 (initial value 1), zero-extended
 *   xxh3     XXH3_64bits, seed 0
 *   xxh64    XXH64, seed 0
 *   fnv1a32  32-bit FNV-1a, zero-extended
 *   fnv1a64  64-bit FNV-1a
 *   murmur3  MurmurHash3_x64_128, seed 0, first 64-bit half
 *   siphash  SipHash-2-4 with a 16-byte key (all zero unless set), little-endian
 *   int      the key is a decimal unsigned 64-bit integer, used as the hash
 */
#ifndef HASHSPACE_HASH_H
#define HASHSPACE_HASH_H

#include "hashspace/export.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, ENUM, summary): adding a hash is one line here plus its function. */
#define HS_HASH_MAP(X)                                                                             \
    X(md5, MD5, "MD5 (OpenSSL), first 8 digest bytes little-endian; ketama-compatible")            \
    X(crc32, CRC32, "CRC-32 (zlib)")                                                               \
    X(adler32, ADLER32, "Adler-32 (zlib)")                                                         \
    X(xxh3, XXH3, "XXH3 64-bit (libxxhash); the default")                                          \
    X(xxh64, XXH64, "XXH64 (libxxhash)")                                                           \
    X(fnv1a32, FNV1A32, "FNV-1a 32-bit")                                                           \
    X(fnv1a64, FNV1A64, "FNV-1a 64-bit")                                                           \
    X(murmur3, MURMUR3, "MurmurHash3 x64_128, low half (libmurmurhash)")                           \
    X(siphash, SIPHASH, "SipHash-2-4 (libsodium), keyed: for keys an attacker may choose")         \
    X(int, INT, "the key is a decimal uint64, used as its own hash (Elixir Jumper)")

typedef enum hs_hash_id {
#define HS__HASH_ENUM(name, ENUM, summary) HS_HASH_##ENUM,
    HS_HASH_MAP(HS__HASH_ENUM)
#undef HS__HASH_ENUM
        HS_HASH__COUNT
} hs_hash_id;

#define HS_SIPHASH_KEYBYTES 16

typedef int (*hs_hash_fn)(const void *key, size_t len, const uint8_t *secret, uint64_t *out);

/* A chosen hash function with its secret (used by siphash only). */
typedef struct hs_hasher {
    hs_hash_id id;
    hs_hash_fn fn;
    uint8_t secret[HS_SIPHASH_KEYBYTES];
} hs_hasher;

/* Number of registered hashes; ids are 0 .. count-1. */
HS_EXTERN size_t hs_hash_count(void);
/* Name and one-line summary of an id; NULL for an invalid id. */
HS_EXTERN const char *hs_hash_name(hs_hash_id id);
HS_EXTERN const char *hs_hash_summary(hs_hash_id id);
/* Find a hash by name; HS_EUNKNOWN_HASH if none. */
HS_EXTERN int hs_hash_find(const char *name, hs_hash_id *out);
/* Comma-separated list of every name, for error messages and --help. */
HS_EXTERN const char *hs_hash_names(void);

/* Initialise a hasher by id, secret all zero. */
HS_EXTERN int hs_hasher_init(hs_hasher *h, hs_hash_id id);
/* Set the siphash secret (ignored by the other hashes). */
HS_EXTERN void hs_hasher_set_secret(hs_hasher *h, const uint8_t secret[HS_SIPHASH_KEYBYTES]);
/* The same from text: exactly 2 * HS_SIPHASH_KEYBYTES hex digits, either
 * case, nothing else (no sign, blank or 0x). HS_EINVAL, and h unchanged, for
 * anything else. */
HS_EXTERN int hs_hasher_set_secret_hex(hs_hasher *h, const char *hex);

/* Hash one key. Fails only with HS_EKEY (the `int` hash and a key that is not
 * a decimal uint64). */
static inline int hs_hasher_hash(const hs_hasher *h, const void *key, size_t len, uint64_t *out)
{
    return h->fn(key, len, h->secret, out);
}

/* One-shot convenience: hash with the named id and an all-zero secret. */
HS_EXTERN int hs_hash(hs_hash_id id, const void *key, size_t len, uint64_t *out);

#ifdef __cplusplus
}
#endif
#endif
