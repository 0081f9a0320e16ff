/* hash_xxh3_avx2.c - XXH3 from libxxhash's own header, compiled for AVX2.
 * Debian builds libxxhash for baseline x86-64 (SSE2); XXH3 defines the same
 * result for every vector width, so hash.c calls this instead on a CPU that
 * has AVX2, for keys long enough to use the vector loop. Only this file is
 * built with -mavx2 (CMakeLists.txt), so nothing else can fault on an older
 * CPU. */
#include "hash_xxh3_avx2.h"

#if HS_HAVE_XXH3_AVX2
#define XXH_INLINE_ALL
#define XXH_VECTOR XXH_AVX2
#include <xxhash.h>

uint64_t hs__xxh3_avx2(const void *key, size_t len)
{
    return XXH3_64bits(key, len);
}
#endif
