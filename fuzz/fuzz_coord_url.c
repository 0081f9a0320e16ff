/* fuzz_coord_url.c - what the coordinator module parses from outside: the
 * first line as a coordinator URL (--coordinator), the rest as a stored view
 * (JSON read back from Redis). A URL that parses formats back to text that
 * parses the same; a view that parses is sorted, valid (its departed
 * members too, none of them a member), and survives its own JSON form and
 * a copy unchanged. */
#include "fuzz_util.h"

#include "coord.h"

#include "hashspace/error.h"

#include <math.h>

static void check_url(const char *text)
{
    hs__coord_url u, again;
    char err[256] = "";
    int rc = hs__coord_url_parse(text, &u, err, sizeof err);
    if (rc != HS_OK) {
        FUZZ_ASSERT(rc == HS_EPARSE && err[0] != '\0');
        return;
    }
    FUZZ_ASSERT(strcmp(u.scheme, "redis") == 0);
    FUZZ_ASSERT(u.host[0] != '\0' && strlen(u.host) <= HS__COORD_HOST_MAX);
    FUZZ_ASSERT(u.port >= 1 && u.port <= 65535);
    for (const char *p = u.path; *p; p++)
        FUZZ_ASSERT(*p >= '0' && *p <= '9');
    char buf[HS__COORD_URL_MAX];
    int n = hs__coord_url_format(&u, buf, sizeof buf);
    FUZZ_ASSERT(n > 0 && (size_t)n < sizeof buf);
    FUZZ_ASSERT(hs__coord_url_parse(buf, &again, err, sizeof err) == HS_OK);
    FUZZ_ASSERT(memcmp(&u, &again, sizeof u) == 0);
}

static void check_view(const char *text, size_t len)
{
    hs__coord_view v, again;
    char err[256] = "";
    int rc = hs__coord_view_parse(text, len, &v, err, sizeof err);
    if (rc != HS_OK) {
        FUZZ_ASSERT((rc == HS_EPARSE && err[0] != '\0') || rc == HS_ENOMEM);
        return;
    }
    FUZZ_ASSERT(v.epoch >= 1 && v.n >= 1);
    for (size_t i = 0; i < v.n; i++) {
        FUZZ_ASSERT(hs__coord_name_valid(v.members[i].name));
        FUZZ_ASSERT(isfinite(v.members[i].weight) && v.members[i].weight > 0);
        FUZZ_ASSERT(i == 0 || strcmp(v.members[i - 1].name, v.members[i].name) < 0);
    }
    for (size_t i = 0; i < v.ndeparted; i++) {
        FUZZ_ASSERT(hs__coord_name_valid(v.departed[i].name));
        FUZZ_ASSERT(i == 0 || strcmp(v.departed[i - 1].name, v.departed[i].name) < 0);
        for (size_t k = 0; k < v.n; k++)
            FUZZ_ASSERT(strcmp(v.departed[i].name, v.members[k].name) != 0);
    }
    char *json = hs__coord_view_json(&v);
    FUZZ_ASSERT(json != NULL);
    FUZZ_ASSERT(hs__coord_view_parse(json, strlen(json), &again, err, sizeof err) == HS_OK);
    FUZZ_ASSERT(again.epoch == v.epoch && again.effective_from_ns == v.effective_from_ns &&
                again.created_ns == v.created_ns && again.n == v.n &&
                again.ndeparted == v.ndeparted);
    for (size_t i = 0; i < v.n; i++) {
        FUZZ_ASSERT(strcmp(again.members[i].name, v.members[i].name) == 0);
        FUZZ_ASSERT(again.members[i].weight == v.members[i].weight);
    }
    for (size_t i = 0; i < v.ndeparted; i++) {
        const hs__coord_departed *a = &again.departed[i], *d = &v.departed[i];
        FUZZ_ASSERT(strcmp(a->name, d->name) == 0 && a->leaving == d->leaving &&
                    a->has_watermark == d->has_watermark &&
                    (!d->has_watermark || a->watermark_ns == d->watermark_ns));
    }
    /* A copy is the same view. */
    hs__coord_view copy;
    if (hs__coord_view_copy(&copy, &v) == HS_OK) {
        char *again_json = hs__coord_view_json(&copy);
        FUZZ_ASSERT(again_json != NULL && strcmp(again_json, json) == 0);
        free(again_json);
        hs__coord_view_clear(&copy);
    }
    free(json);
    hs__coord_view_clear(&again);
    hs__coord_view_clear(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t head_len, rest_len;
    const uint8_t *rest = fuzz_split(data, size, &head_len, &rest_len);
    char *url = fuzz_cstr(data, head_len);
    check_url(url);
    free(url);
    check_view((const char *)rest, rest_len);
    return 0;
}
