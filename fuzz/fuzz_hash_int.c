/* fuzz_hash_int.c - the `int` hash parses its key as a decimal uint64: check
 * it against strtoull, and run every other hash over the same bytes. */
#include "fuzz_util.h"

#include "hashspace/error.h"
#include "hashspace/hash.h"

#include <errno.h>

/* What `int` should accept: 1 to 20 ASCII digits whose value fits. */
static int reference(const uint8_t *data, size_t size, uint64_t *out)
{
    if (size == 0 || size > 20)
        return HS_EKEY;
    for (size_t i = 0; i < size; i++)
        if (data[i] < '0' || data[i] > '9')
            return HS_EKEY;
    char buf[21];
    memcpy(buf, data, size);
    buf[size] = '\0';
    errno = 0;
    unsigned long long v = strtoull(buf, NULL, 10);
    if (errno == ERANGE)
        return HS_EKEY;
    *out = v;
    return HS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hs_hash_id id;
    FUZZ_ASSERT(hs_hash_find("int", &id) == HS_OK);
    uint64_t got = 0, want = 0;
    int rc = hs_hash(id, data, size, &got);
    int want_rc = reference(data, size, &want);
    FUZZ_ASSERT(rc == want_rc);
    if (rc == HS_OK)
        FUZZ_ASSERT(got == want);
    for (size_t i = 0; i < hs_hash_count(); i++) {
        uint64_t h1, h2;
        int rc1 = hs_hash((hs_hash_id)i, data, size, &h1);
        int rc2 = hs_hash((hs_hash_id)i, data, size, &h2);
        FUZZ_ASSERT(rc1 == rc2 && (rc1 != HS_OK || h1 == h2));
    }
    return 0;
}
