/* fuzz_promtext.c - the Prometheus text exposition parser of
 * `hashspace status` (src/cli/promtext.c), fed any bytes as a hub's
 * /metrics body. */
#include "fuzz_util.h"

#include "promtext.h"

#include <math.h>
#include <stdbool.h>

static bool name_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

static bool is_name(const char *s)
{
    if (!name_char(s[0], true))
        return false;
    for (s++; *s != '\0'; s++)
        if (!name_char(*s, false))
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    hs_prom_samples s = {0};
    hs_prom_parse(text, &s);
    FUZZ_ASSERT(s.n <= s.cap);
    for (size_t i = 0; i < s.n; i++) {
        const hs_prom_sample *smp = &s.v[i];
        FUZZ_ASSERT(is_name(smp->name));
        for (size_t j = 0; j < smp->nlabels; j++) {
            FUZZ_ASSERT(is_name(smp->labels[j].name));
            FUZZ_ASSERT(smp->labels[j].value != NULL);
            FUZZ_ASSERT(hs_prom_label_of(smp, smp->labels[j].name) != NULL);
        }
        const char *le = hs_prom_label_of(smp, "le");
        if (le != NULL) {
            const char *end;
            double bound;
            if (hs_prom_parse_value(le, &end, &bound) == 0)
                FUZZ_ASSERT(end > le && end <= le + strlen(le));
        }
    }
    /* Parsing more text appends; clearing leaves s reusable. */
    char *again = fuzz_cstr(data, size);
    size_t before = s.n;
    hs_prom_parse(again, &s);
    FUZZ_ASSERT(s.n == 2 * before);
    hs_prom_clear(&s);
    FUZZ_ASSERT(s.n == 0 && s.v == NULL);
    free(again);
    free(text);
    return 0;
}
