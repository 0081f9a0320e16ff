/* promtext.h - the Prometheus text exposition format, as `hashspace status`
 * reads a hub's /metrics: sample lines with their labels and values.
 *
 * The parser is pure (no I/O) and works on caller-owned objects: safe from
 * any thread. A samples object owns every string it holds. */
#ifndef HS_CLI_PROMTEXT_H
#define HS_CLI_PROMTEXT_H

#include <stddef.h>

typedef struct hs_prom_label {
    char *name, *value;
} hs_prom_label;

typedef struct hs_prom_sample {
    char *name;
    hs_prom_label *labels;
    size_t nlabels;
    double value;
} hs_prom_sample;

typedef struct hs_prom_samples {
    hs_prom_sample *v;
    size_t n, cap;
} hs_prom_samples;

/* Parse the text (modified in place: lines are cut at '\n') and append each
 * sample to s. Comments, blank lines and lines that do not parse are
 * skipped. */
void hs_prom_parse(char *text, hs_prom_samples *s);
/* Free everything s holds and leave it empty (reusable). */
void hs_prom_clear(hs_prom_samples *s);
/* The value of label `name` of one sample, or NULL. */
const char *hs_prom_label_of(const hs_prom_sample *smp, const char *name);
/* A sample value: a number as strtod reads it, or +Inf, Inf, -Inf, NaN.
 * 0 with *end after it, or -1. */
int hs_prom_parse_value(const char *p, const char **end, double *out);

#endif
