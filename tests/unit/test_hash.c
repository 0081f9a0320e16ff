/* test_hash.c - known answers for every registered hash, from published
 * vectors (RFC 1321, the CRC-32/Adler-32 check values, xxHash's sanity
 * suite, the FNV test suite, SMHasher's MurmurHash3 verification value, the
 * SipHash paper), the `int` parser's edges, and the registry itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hashspace/error.h"
#include "hashspace/hash.h"

#include <openssl/evp.h>
#include <xxhash.h>

static uint64_t hash_of(hs_hash_id id, const void *key, size_t len)
{
    uint64_t h = 0;
    assert_int_equal(hs_hash(id, key, len, &h), HS_OK);
    return h;
}

static uint64_t hash_str(hs_hash_id id, const char *s)
{
    return hash_of(id, s, strlen(s));
}

/* The first 8 bytes of a published hex digest, read little-endian: what the
 * registry's md5 is defined to return. */
static uint64_t le64_of_hex(const char *hex)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        unsigned byte;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &byte), 1);
        v = v << 8 | byte;
    }
    return v;
}

/* RFC 1321, appendix A.5 ("MD5 test suite"). */
static void test_md5_rfc1321_suite(void **state)
{
    (void)state;
    static const struct {
        const char *msg, *digest;
    } suite[] = {
        {"", "d41d8cd98f00b204e9800998ecf8427e"},
        {"a", "0cc175b9c0f1b6a831c399e269772661"},
        {"abc", "900150983cd24fb0d6963f7d28e17f72"},
        {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
        {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
         "d174ab98d277d9f5a5611c2c9f419d9f"},
        {"1234567890123456789012345678901234567890123456789012345678901234567890123456789"
         "0",
         "57edf4a22be3c955ac49da2e2107b67a"},
    };
    for (size_t i = 0; i < sizeof suite / sizeof suite[0]; i++)
        assert_int_equal(hash_str(HS_HASH_MD5, suite[i].msg), le64_of_hex(suite[i].digest));
}

/* Short keys take a one-block path (the padding done by hand around
 * OpenSSL's compression function), longer ones MD5(): both must be MD5 at
 * every length around the 55-byte boundary and beyond two blocks, at any
 * alignment. */
static void test_md5_equals_openssl_at_every_length(void **state)
{
    (void)state;
    unsigned char buf[200 + 8];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    EVP_MD *md5 = EVP_MD_fetch(NULL, "MD5", NULL);
    assert_non_null(md5);
    for (size_t off = 0; off < 8; off += 3)
        for (size_t len = 0; len <= 200; len++) {
            unsigned char digest[EVP_MAX_MD_SIZE];
            unsigned int dlen = 0;
            assert_true(EVP_Digest(buf + off, len, digest, &dlen, md5, NULL));
            assert_int_equal(dlen, 16);
            uint64_t want = 0;
            for (int b = 7; b >= 0; b--)
                want = want << 8 | digest[b];
            assert_int_equal(hash_of(HS_HASH_MD5, buf + off, len), want);
        }
    EVP_MD_free(md5);
}

/* libketama's python test: ketama.hashi("test") == 3446378249, the low 32
 * bits of our md5 (the key hash of libketama and libmemcached). */
static void test_md5_low_bits_are_ketama_hashi(void **state)
{
    (void)state;
    assert_int_equal(hash_str(HS_HASH_MD5, "test") & 0xffffffffu, 3446378249u);
}

static void test_crc32_check_values(void **state)
{
    (void)state;
    assert_int_equal(hash_str(HS_HASH_CRC32, "123456789"), 0xCBF43926u);
    assert_int_equal(hash_str(HS_HASH_CRC32, ""), 0);
    assert_int_equal(hash_str(HS_HASH_CRC32, "The quick brown fox jumps over the lazy dog"),
                     0x414FA339u);
}

static void test_adler32_known_values(void **state)
{
    (void)state;
    /* RFC 1950's definition: A starts at 1, B at 0, result B << 16 | A. */
    assert_int_equal(hash_str(HS_HASH_ADLER32, ""), 1);
    assert_int_equal(hash_str(HS_HASH_ADLER32, "Wikipedia"), 0x11E60398u);
    /* "abc": A = 1+97+98+99 = 0x127, B = 98+196+295 = 0x24d. */
    assert_int_equal(hash_str(HS_HASH_ADLER32, "abc"), 0x024D0127u);
}

/* xxHash's sanity buffer (xsum_sanity_check.c): byte i is the top byte of a
 * generator that starts at PRIME32 and is multiplied by PRIME64 each step. */
static void fill_sanity_buffer(unsigned char *buf, size_t len)
{
    uint64_t gen = 2654435761u;
    for (size_t i = 0; i < len; i++) {
        buf[i] = (unsigned char)(gen >> 56);
        gen *= 11400714785074694797ull;
    }
}

static void test_xxh64_sanity_vectors(void **state)
{
    (void)state;
    static unsigned char buf[2367];
    fill_sanity_buffer(buf, sizeof buf);
    static const struct {
        size_t len;
        uint64_t want;
    } v[] = {
        {0, 0xEF46DB3751D8E999ull},  {1, 0xE934A84ADB052768ull},   {4, 0x9136A0DCA57457EEull},
        {14, 0x8282DCC4994E35C8ull}, {222, 0xB641AE8CB691C174ull},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        assert_int_equal(hash_of(HS_HASH_XXH64, buf, v[i].len), v[i].want);
}

static void test_xxh3_sanity_vectors(void **state)
{
    (void)state;
    static unsigned char buf[2367];
    fill_sanity_buffer(buf, sizeof buf);
    /* One length per XXH3 code path, seed 0. */
    static const struct {
        size_t len;
        uint64_t want;
    } v[] = {
        {0, 0x2D06800538D394C2ull},    {1, 0xC44BDFF4074EECDBull},    {6, 0x27B56A84CD2D7325ull},
        {12, 0xA713DAF0DFBB77E7ull},   {24, 0xA3FE70BF9D3510EBull},   {48, 0x397DA259ECBA1F11ull},
        {80, 0xBCDEFBBB2C47C90Aull},   {195, 0xCD94217EE362EC3Aull},  {403, 0xCDEB804D65C6DEA4ull},
        {512, 0x617E49599013CB6Bull},  {2048, 0xDD59E2C3A5F038E0ull}, {2099, 0xC6B9D9B3FC9AC765ull},
        {2240, 0x6E73A90539CF2948ull}, {2367, 0xCB37AEB9E5D361EDull},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        assert_int_equal(hash_of(HS_HASH_XXH3, buf, v[i].len), v[i].want);
}

/* Landon Curt Noll's FNV test suite (test_fnv.c). */
static void test_fnv1a_published_vectors(void **state)
{
    (void)state;
    assert_int_equal(hash_str(HS_HASH_FNV1A32, ""), 0x811c9dc5u);
    assert_int_equal(hash_str(HS_HASH_FNV1A32, "a"), 0xe40c292cu);
    assert_int_equal(hash_str(HS_HASH_FNV1A32, "foobar"), 0xbf9cf968u);
    assert_int_equal(hash_str(HS_HASH_FNV1A64, ""), 0xcbf29ce484222325ull);
    assert_int_equal(hash_str(HS_HASH_FNV1A64, "a"), 0xaf63dc4c8601ec8cull);
    assert_int_equal(hash_str(HS_HASH_FNV1A64, "foobar"), 0x85944171f73967e8ull);
}

/* A plain reference MurmurHash3_x64_128 (seeded), written from Appleby's
 * description, so that SMHasher's published verification value can be
 * computed; that value then vouches for this reference, and the reference
 * for the registry's `murmur3` (seed 0, first half). */
static uint64_t rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
}

static uint64_t load64(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

static void ref_murmur3_x64_128(const unsigned char *data, size_t len, uint32_t seed,
                                unsigned char out[16])
{
    const uint64_t c1 = 0x87c37b91114253d5ull, c2 = 0x4cf5ad432745937full;
    uint64_t h1 = seed, h2 = seed;
    size_t blocks = len / 16;
    for (size_t i = 0; i < blocks; i++) {
        uint64_t k1 = load64(data + 16 * i, 8), k2 = load64(data + 16 * i + 8, 8);
        k1 *= c1;
        k1 = rotl64(k1, 31);
        k1 *= c2;
        h1 ^= k1;
        h1 = rotl64(h1, 27);
        h1 += h2;
        h1 = h1 * 5 + 0x52dce729;
        k2 *= c2;
        k2 = rotl64(k2, 33);
        k2 *= c1;
        h2 ^= k2;
        h2 = rotl64(h2, 31);
        h2 += h1;
        h2 = h2 * 5 + 0x38495ab5;
    }
    const unsigned char *tail = data + 16 * blocks;
    size_t rest = len & 15;
    if (rest > 8) {
        uint64_t k2 = load64(tail + 8, rest - 8);
        k2 *= c2;
        k2 = rotl64(k2, 33);
        k2 *= c1;
        h2 ^= k2;
    }
    if (rest > 0) {
        uint64_t k1 = load64(tail, rest > 8 ? 8 : rest);
        k1 *= c1;
        k1 = rotl64(k1, 31);
        k1 *= c2;
        h1 ^= k1;
    }
    h1 ^= len;
    h2 ^= len;
    h1 += h2;
    h2 += h1;
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 += h2;
    h2 += h1;
    for (int i = 0; i < 8; i++) {
        out[i] = (unsigned char)(h1 >> (8 * i));
        out[8 + i] = (unsigned char)(h2 >> (8 * i));
    }
}

/* SMHasher's VerificationTest: key i is bytes 0..i-1 hashed with seed 256-i;
 * the 256 digests concatenated are hashed with seed 0; the first four bytes,
 * little-endian, are 0x6384BA69 for MurmurHash3_x64_128. The last step goes
 * through the registry too. */
static void test_murmur3_smhasher_verification(void **state)
{
    (void)state;
    unsigned char key[256], digests[256 * 16], final[16];
    for (int i = 0; i < 256; i++) {
        key[i] = (unsigned char)i;
        ref_murmur3_x64_128(key, (size_t)i, (uint32_t)(256 - i), digests + 16 * i);
    }
    ref_murmur3_x64_128(digests, sizeof digests, 0, final);
    assert_int_equal(load64(final, 4), 0x6384BA69u);
    assert_int_equal(hash_of(HS_HASH_MURMUR3, digests, sizeof digests) & 0xffffffffu, 0x6384BA69u);
    assert_int_equal(hash_str(HS_HASH_MURMUR3, ""), 0);
    /* Every length up to three blocks: registry == reference. */
    for (size_t len = 0; len <= 48; len++) {
        unsigned char ref[16];
        ref_murmur3_x64_128(digests, len, 0, ref);
        assert_int_equal(hash_of(HS_HASH_MURMUR3, digests, len), load64(ref, 8));
    }
}

/* The SipHash paper (Aumasson & Bernstein), appendix A: key 00..0f, message
 * 00..0e gives a129ca6149be45e5; the reference vectors.h gives the empty
 * message and the one-byte message 00. */
static void test_siphash_reference_vectors(void **state)
{
    (void)state;
    uint8_t key[HS_SIPHASH_KEYBYTES];
    unsigned char msg[15];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 15; i++)
        msg[i] = (unsigned char)i;
    hs_hasher h;
    assert_int_equal(hs_hasher_init(&h, HS_HASH_SIPHASH), HS_OK);
    hs_hasher_set_secret(&h, key);
    uint64_t out;
    assert_int_equal(hs_hasher_hash(&h, msg, 15, &out), HS_OK);
    assert_int_equal(out, 0xa129ca6149be45e5ull);
    assert_int_equal(hs_hasher_hash(&h, msg, 0, &out), HS_OK);
    assert_int_equal(out, 0x726fdb47dd0e0e31ull);
    assert_int_equal(hs_hasher_hash(&h, msg, 1, &out), HS_OK);
    assert_int_equal(out, 0x74f839c593dc67fdull);
    /* The default (all-zero) secret is a different key: a different tag. */
    assert_int_not_equal(hash_of(HS_HASH_SIPHASH, msg, 15), 0xa129ca6149be45e5ull);
}

static void test_siphash_secret_from_hex(void **state)
{
    (void)state;
    /* The reference key 00 01 .. 0f as text, in both cases: same tag as the
     * reference vector. */
    unsigned char msg[15];
    for (int i = 0; i < 15; i++)
        msg[i] = (unsigned char)i;
    const char *good[] = {"000102030405060708090a0b0c0d0e0f", "000102030405060708090A0B0C0D0E0F"};
    for (size_t g = 0; g < 2; g++) {
        hs_hasher h;
        assert_int_equal(hs_hasher_init(&h, HS_HASH_SIPHASH), HS_OK);
        assert_int_equal(hs_hasher_set_secret_hex(&h, good[g]), HS_OK);
        uint64_t out;
        assert_int_equal(hs_hasher_hash(&h, msg, 15, &out), HS_OK);
        assert_int_equal(out, 0xa129ca6149be45e5ull);
    }
    /* What sscanf("%2x") would have let through, and the wrong lengths:
     * refused, and the secret left as it was. */
    const char *bad[] = {
        "",
        "000102030405060708090a0b0c0d0e0",   /* 31 digits */
        "000102030405060708090a0b0c0d0e0f0", /* 33 */
        " 00102030405060708090a0b0c0d0e0f",  /* a blank */
        "-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1-1",  /* signs */
        "0x0102030405060708090a0b0c0d0e0f",  /* a prefix */
        "000102030405060708090a0b0c0d0eg0",  /* not hex */
        "000102030405060708090a0b0c0d0e0f\n",
    };
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        hs_hasher h;
        assert_int_equal(hs_hasher_init(&h, HS_HASH_SIPHASH), HS_OK);
        assert_int_equal(hs_hasher_set_secret_hex(&h, bad[b]), HS_EINVAL);
        uint64_t out;
        assert_int_equal(hs_hasher_hash(&h, msg, 15, &out), HS_OK);
        assert_int_equal(out, hash_of(HS_HASH_SIPHASH, msg, 15));
    }
    hs_hasher h;
    assert_int_equal(hs_hasher_init(&h, HS_HASH_SIPHASH), HS_OK);
    assert_int_equal(hs_hasher_set_secret_hex(&h, NULL), HS_EINVAL);
}

static void test_int_parses_decimal_uint64(void **state)
{
    (void)state;
    assert_int_equal(hash_str(HS_HASH_INT, "0"), 0);
    assert_int_equal(hash_str(HS_HASH_INT, "42"), 42);
    assert_int_equal(hash_str(HS_HASH_INT, "007"), 7);
    assert_int_equal(hash_str(HS_HASH_INT, "18446744073709551615"), UINT64_MAX);
    assert_int_equal(hash_str(HS_HASH_INT, "18446744073709551614"), UINT64_MAX - 1);
}

static void test_int_rejects_what_is_not_a_uint64(void **state)
{
    (void)state;
    static const char *bad[] = {"",
                                "-1",
                                "+1",
                                " 1",
                                "1 ",
                                "12a",
                                "0x10",
                                "1.",
                                "\xd9\xa1",
                                "18446744073709551616",
                                "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t out = 12345;
        assert_int_equal(hs_hash(HS_HASH_INT, bad[i], strlen(bad[i]), &out), HS_EKEY);
    }
}

static void test_registry_lists_and_finds_every_hash(void **state)
{
    (void)state;
    static const char *names[] = {"md5",     "crc32",   "adler32", "xxh3",    "xxh64",
                                  "fnv1a32", "fnv1a64", "murmur3", "siphash", "int"};
    size_t n = sizeof names / sizeof names[0];
    assert_int_equal(hs_hash_count(), n);
    for (size_t i = 0; i < n; i++) {
        hs_hash_id id;
        assert_int_equal(hs_hash_find(names[i], &id), HS_OK);
        assert_int_equal(id, i);
        assert_string_equal(hs_hash_name(id), names[i]);
        assert_non_null(hs_hash_summary(id));
    }
    assert_string_equal(
        hs_hash_names(),
        "md5, crc32, adler32, xxh3, xxh64, fnv1a32, fnv1a64, murmur3, siphash, int");
}

static void test_registry_rejects_unknown_names_and_ids(void **state)
{
    (void)state;
    hs_hash_id id = HS_HASH_MD5;
    assert_int_equal(hs_hash_find("md6", &id), HS_EUNKNOWN_HASH);
    assert_int_equal(hs_hash_find("MD5", &id), HS_EUNKNOWN_HASH);
    assert_int_equal(hs_hash_find("", &id), HS_EUNKNOWN_HASH);
    assert_int_equal(hs_hash_find(NULL, &id), HS_EUNKNOWN_HASH);
    assert_null(hs_hash_name(HS_HASH__COUNT));
    assert_null(hs_hash_summary(HS_HASH__COUNT));
    hs_hasher h;
    assert_int_equal(hs_hasher_init(&h, HS_HASH__COUNT), HS_EUNKNOWN_HASH);
    uint64_t out;
    assert_int_equal(hs_hash(HS_HASH__COUNT, "x", 1, &out), HS_EUNKNOWN_HASH);
}

/* xxh3 takes an AVX2 build of XXH3 for long keys on CPUs that have it: its
 * answers must be libxxhash's, at every length around the vector loop's
 * block and stripe sizes. */
static void test_xxh3_equals_libxxhash_at_every_length(void **state)
{
    (void)state;
    static unsigned char buf[5000];
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < sizeof buf; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (unsigned char)x;
    }
    for (size_t len = 0; len <= sizeof buf; len += len < 1100 ? 1 : 61) {
        for (size_t off = 0; off < 3; off++) {
            if (off + len > sizeof buf)
                continue;
            uint64_t ours;
            assert_int_equal(hs_hash(HS_HASH_XXH3, buf + off, len, &ours), HS_OK);
            assert_true(ours == XXH3_64bits(buf + off, len));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md5_rfc1321_suite),
        cmocka_unit_test(test_md5_equals_openssl_at_every_length),
        cmocka_unit_test(test_md5_low_bits_are_ketama_hashi),
        cmocka_unit_test(test_crc32_check_values),
        cmocka_unit_test(test_adler32_known_values),
        cmocka_unit_test(test_xxh64_sanity_vectors),
        cmocka_unit_test(test_xxh3_sanity_vectors),
        cmocka_unit_test(test_fnv1a_published_vectors),
        cmocka_unit_test(test_murmur3_smhasher_verification),
        cmocka_unit_test(test_siphash_reference_vectors),
        cmocka_unit_test(test_siphash_secret_from_hex),
        cmocka_unit_test(test_int_parses_decimal_uint64),
        cmocka_unit_test(test_int_rejects_what_is_not_a_uint64),
        cmocka_unit_test(test_registry_lists_and_finds_every_hash),
        cmocka_unit_test(test_registry_rejects_unknown_names_and_ids),
        cmocka_unit_test(test_xxh3_equals_libxxhash_at_every_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
