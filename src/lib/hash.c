/* hash.c - the hash registry: each hash function is a thin wrapper over the
 * Debian library that implements it (OpenSSL, zlib, libxxhash, libmurmurhash,
 * libsodium); FNV-1a and `int` are a few lines and have no library. */
#include "hashspace/hash.h"
#include "hashspace/error.h"
#include "hash_xxh3_avx2.h"
#include "md5.h"

/* MD5() and MD5_Transform() are deprecated in OpenSSL 3 in favour of EVP,
 * but EVP_Digest looks the algorithm up on every call: 2.2 us per short key
 * here against 0.3 us for MD5(), which also needs no context allocation. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <murmurhash.h>
#include <openssl/md5.h>
#include <sodium.h>
#include <string.h>
#include <xxhash.h>
#include <zlib.h>

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* A key of up to 55 bytes and MD5's padding (RFC 1321 3.1-3.2: a 1 bit,
 * zeros, the length in bits, little-endian) fill exactly one 64-byte block,
 * so one call of OpenSSL's compression function gives the digest. MD5()'s
 * init/update/final around that same call copy the key twice: the short
 * keys ketama and its peers hash take 15-20 % less this way. */
#define MD5_ONE_BLOCK 55

void hs__md5_words(const void *key, size_t len, uint32_t words[4])
{
    if (len <= MD5_ONE_BLOCK) {
        unsigned char block[MD5_CBLOCK] = {0};
        if (len > 0)
            memcpy(block, key, len);
        block[len] = 0x80;
        uint64_t bits = (uint64_t)len * 8;
        for (int i = 0; i < 8; i++)
            block[MD5_CBLOCK - 8 + i] = (unsigned char)(bits >> (8 * i));
        MD5_CTX ctx;
        MD5_Init(&ctx);
        MD5_Transform(&ctx, block);
        words[0] = ctx.A;
        words[1] = ctx.B;
        words[2] = ctx.C;
        words[3] = ctx.D;
        return;
    }
    unsigned char d[MD5_DIGEST_LENGTH];
    MD5(key, len, d);
    for (int k = 0; k < 4; k++)
        words[k] = (uint32_t)d[4 * k] | (uint32_t)d[4 * k + 1] << 8 | (uint32_t)d[4 * k + 2] << 16 |
                   (uint32_t)d[4 * k + 3] << 24;
}

static int hash_md5(const void *key, size_t len, const uint8_t *secret, uint64_t *out)
{
    (void)secret;
    uint32_t w[4];
    hs__md5_words(key, len, w);
    *out = (uint64_t)w[0] | (uint64_t)w[1] << 32;
    return HS_OK;
}

/* zlib's checksums take uInt lengths: feed large keys in slices. */
static uint64_t zlib_checksum(uLong (*update)(uLong, const Bytef *, uInt), const void *key,
                              size_t len)
{
    const unsigned char *p = key;
    uLong sum = update(0L, Z_NULL, 0);
    while (len > 0) {
        uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;
        sum = update(sum, p, n);
        p += n;
        len -= n;
    }
    return (uint64_t)sum;
}

static int hash_crc32(const void *key, size_t len, const uint8_t *secret, uint64_t *out)
{
    (void)secret;
    *out = zlib_checksum(crc32, key, len);
    return HS_OK;
}

static int hash_adler32(const void *key, size_t len, const uint8_t *secret, uint64_t *out)
{
    (void)secret;
    *out = zlib_checksum(adler32, key, len);
    return HS_OK;
}

/* Past 240 bytes XXH3 runs its vector loop, twice as fast with AVX2 as with
 * the SSE2 of Debian's build (1 KiB: about 45 ns against 90 ns here). */
#define XXH3_VECTOR_MIN 240

static int hash_xxh3(const void *key, size_t len, const uint8_t *secret, uint64_t *out)
{
    (void)secret;
#if HS_HAVE_XXH3_AVX2
    if (len > XXH3_VECTOR_MIN && __builtin_cpu_supports("avx2")) {
        *out = hs__xxh3_avx2(key, len);
        return HS_OK;
    }
#endif
    *out = XXH3_64bits(key, len);
    return HS_OK;
}

static int hash_xxh64(const void *key, size_t len, const uint8_t *secret, uint64_t *out)
{
    (void)secret;
    *out = XXH64(key, len, 0);
    return HS_OK;
}

static int hash_fnv1a32(const void *key, size_t len, const uint8_t *secret, uint64_t *out)
{
    (void)secret;
    const unsigned char *p = key;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    *out = h;
    return HS_OK;
}

static int hash_fnv1a64(const void *key, size_t len, const uint8_t *secret, uint64_t *out)
{
    (void)secret;
    const unsigned char *p = key;
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    *out = h;
    return HS_OK;
}

static int hash_murmur3(const void *key, size_t len, const uint8_t *secret, uint64_t *out)
{
    (void)secret;
    uint64_t h[2];
    if (len > 0x7fffffffu)
        return HS_ERANGE;
    lmmh_x64_128(key, (unsigned int)len, 0, h);
    *out = h[0];
    return HS_OK;
}

static int hash_siphash(const void *key, size_t len, const uint8_t *secret, uint64_t *out)
{
    unsigned char tag[crypto_shorthash_siphash24_BYTES];
    crypto_shorthash_siphash24(tag, key, len, secret);
    *out = load_le64(tag);
    return HS_OK;
}

static int hash_int(const void *key, size_t len, const uint8_t *secret, uint64_t *out)
{
    (void)secret;
    const unsigned char *p = key;
    uint64_t v = 0;
    if (len == 0 || len > 20)
        return HS_EKEY;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return HS_EKEY;
        uint64_t d = (uint64_t)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return HS_EKEY;
        v = v * 10 + d;
    }
    *out = v;
    return HS_OK;
}

static const struct {
    const char *name;
    const char *summary;
    hs_hash_fn fn;
} registry[] = {
#define HS__HASH_ROW(name, ENUM, summary) {#name, summary, hash_##name},
    HS_HASH_MAP(HS__HASH_ROW)
#undef HS__HASH_ROW
};

size_t hs_hash_count(void)
{
    return HS_HASH__COUNT;
}

const char *hs_hash_name(hs_hash_id id)
{
    return (unsigned)id < HS_HASH__COUNT ? registry[id].name : NULL;
}

const char *hs_hash_summary(hs_hash_id id)
{
    return (unsigned)id < HS_HASH__COUNT ? registry[id].summary : NULL;
}

int hs_hash_find(const char *name, hs_hash_id *out)
{
    if (name == NULL)
        return HS_EUNKNOWN_HASH;
    for (size_t i = 0; i < HS_HASH__COUNT; i++) {
        if (strcmp(registry[i].name, name) == 0) {
            *out = (hs_hash_id)i;
            return HS_OK;
        }
    }
    return HS_EUNKNOWN_HASH;
}

const char *hs_hash_names(void)
{
    /* Each name is preceded by ", "; skip the first separator. */
    static const char names[] =
#define HS__HASH_NAME(name, ENUM, summary) ", " #name
        HS_HASH_MAP(HS__HASH_NAME)
#undef HS__HASH_NAME
        ;
    return names + 2;
}

int hs_hasher_init(hs_hasher *h, hs_hash_id id)
{
    if ((unsigned)id >= HS_HASH__COUNT)
        return HS_EUNKNOWN_HASH;
    memset(h, 0, sizeof *h);
    h->id = id;
    h->fn = registry[id].fn;
    return HS_OK;
}

void hs_hasher_set_secret(hs_hasher *h, const uint8_t secret[HS_SIPHASH_KEYBYTES])
{
    memcpy(h->secret, secret, HS_SIPHASH_KEYBYTES);
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hs_hasher_set_secret_hex(hs_hasher *h, const char *hex)
{
    uint8_t secret[HS_SIPHASH_KEYBYTES];
    if (hex == NULL)
        return HS_EINVAL;
    for (size_t i = 0; i < HS_SIPHASH_KEYBYTES; i++) {
        int hi = hex_digit(hex[2 * i]);
        int lo = hi < 0 ? -1 : hex_digit(hex[2 * i + 1]);
        if (lo < 0)
            return HS_EINVAL;
        secret[i] = (uint8_t)(hi << 4 | lo);
    }
    if (hex[2 * HS_SIPHASH_KEYBYTES] != '\0')
        return HS_EINVAL;
    hs_hasher_set_secret(h, secret);
    return HS_OK;
}

int hs_hash(hs_hash_id id, const void *key, size_t len, uint64_t *out)
{
    hs_hasher h;
    int rc = hs_hasher_init(&h, id);
    if (rc != HS_OK)
        return rc;
    return hs_hasher_hash(&h, key, len, out);
}
