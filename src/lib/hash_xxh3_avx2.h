/* hash_xxh3_avx2.h - XXH3 compiled for AVX2 (hash_xxh3_avx2.c), used by
 * hash.c when the CPU has AVX2. */
#ifndef HASHSPACE_HASH_XXH3_AVX2_H
#define HASHSPACE_HASH_XXH3_AVX2_H

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && !defined(HS_NO_AVX2)
#define HS_HAVE_XXH3_AVX2 1
uint64_t hs__xxh3_avx2(const void *key, size_t len);
#else
#define HS_HAVE_XXH3_AVX2 0
#endif

#endif
