/* fuzz_members.c - member lists ("a,b=2,c", from --members and the config's
 * members key) through hs_members_parse, then into a view of a placement
 * chosen by the input, and a few lookups. */
#include "fuzz_util.h"

#include "hashspace/error.h"
#include "hashspace/place.h"
#include "hashspace/view.h"

#include <math.h>

#define FUZZ_VIEW_MAX 64 /* bigger lists only parse: some builds are slow */
/* Weights past this only parse too: ring's points grow with the weight (it
 * refuses past 16M points, but building near that takes seconds). */
#define FUZZ_WEIGHT_SUM_MAX 1000.0

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const hs_place_info *method = hs_place_method_at(data[0] % hs_place_method_count());
    char *list = fuzz_cstr(data + 1, size - 1);
    hs_view_member *members;
    size_t n, at = (size_t)-1;
    char *storage;
    int rc = hs_members_parse(list, &members, &n, &storage, &at);
    if (rc != HS_OK) {
        FUZZ_ASSERT(rc == HS_EEMPTY || rc == HS_ENAME || rc == HS_EWEIGHT || rc == HS_ENOMEM);
        FUZZ_ASSERT(rc == HS_EEMPTY || at != (size_t)-1);
        free(list);
        return 0;
    }
    size_t len = strlen(list);
    FUZZ_ASSERT(n >= 1 && n <= len + 1);
    for (size_t i = 0; i < n; i++) {
        const char *name = members[i].name;
        size_t nlen = strlen(name);
        FUZZ_ASSERT(nlen > 0 && nlen <= HS_MEMBER_NAME_MAX);
        FUZZ_ASSERT(strchr(name, ',') == NULL && strchr(name, '=') == NULL);
        FUZZ_ASSERT(name >= storage && name + nlen <= storage + len);
        FUZZ_ASSERT(isfinite(members[i].weight) && members[i].weight > 0);
    }
    double weight_sum = 0;
    for (size_t i = 0; i < n; i++)
        weight_sum += members[i].weight;
    if (n <= FUZZ_VIEW_MAX && weight_sum <= FUZZ_WEIGHT_SUM_MAX) {
        hs_view *view;
        rc = hs_view_new(&view, 1, method->name, NULL, NULL, members, n);
        if (rc == HS_OK) {
            FUZZ_ASSERT(hs_view_size(view) == n);
            for (size_t i = 0; i < n; i++) {
                size_t index;
                FUZZ_ASSERT(hs_view_index(view, members[i].name, &index) == HS_OK);
                FUZZ_ASSERT(strcmp(hs_view_member_name(view, index), members[i].name) == 0);
            }
            for (uint64_t k = 0; k < 8; k++) {
                char key[32];
                int klen = snprintf(key, sizeof key, "%llu", (unsigned long long)(k * 7919));
                size_t owner;
                if (hs_view_owner(view, key, (size_t)klen, &owner) == HS_OK)
                    FUZZ_ASSERT(owner < n);
            }
            hs_view_release(view);
        } else {
            /* Duplicates, or a weight or size this placement refuses. */
            FUZZ_ASSERT(rc != HS_ENOMEM);
        }
    }
    free(members);
    free(storage);
    free(list);
    return 0;
}
