/* promtext.c - a parser for the Prometheus text exposition format (the
 * subset the hub writes: names, labels with escapes, values, optional
 * timestamps). Moved out of cmd_status.c so that the fuzz target can call it. */
#include "promtext.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void hs_prom_clear(hs_prom_samples *s)
{
    for (size_t i = 0; i < s->n; i++) {
        for (size_t j = 0; j < s->v[i].nlabels; j++) {
            free(s->v[i].labels[j].name);
            free(s->v[i].labels[j].value);
        }
        free(s->v[i].labels);
        free(s->v[i].name);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}

static bool name_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

static const char *skip_blank(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static char *dup_range(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s != NULL) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* A label value: "..." with \\, \" and \n escapes. p points after the
 * opening quote; returns the position after the closing one, or NULL. */
static const char *parse_label_value(const char *p, char **out)
{
    size_t cap = 32, n = 0;
    char *v = malloc(cap);
    if (v == NULL)
        return NULL;
    for (; *p != '"'; p++) {
        if (*p == '\0' || *p == '\n') {
            free(v);
            return NULL;
        }
        char c = *p;
        if (c == '\\') {
            p++;
            c = *p == 'n' ? '\n' : *p;
            if (c == '\0') {
                free(v);
                return NULL;
            }
        }
        if (n + 1 >= cap) {
            char *bigger = realloc(v, cap *= 2);
            if (bigger == NULL) {
                free(v);
                return NULL;
            }
            v = bigger;
        }
        v[n++] = c;
    }
    v[n] = '\0';
    *out = v;
    return p + 1;
}

int hs_prom_parse_value(const char *p, const char **end, double *out)
{
    if (strncmp(p, "+Inf", 4) == 0 || strncmp(p, "Inf", 3) == 0) {
        *out = INFINITY;
        *end = p + (p[0] == '+' ? 4 : 3);
        return 0;
    }
    if (strncmp(p, "-Inf", 4) == 0) {
        *out = -INFINITY;
        *end = p + 4;
        return 0;
    }
    if (strncmp(p, "NaN", 3) == 0) {
        *out = NAN;
        *end = p + 3;
        return 0;
    }
    char *e;
    *out = strtod(p, &e);
    if (e == p)
        return -1;
    *end = e;
    return 0;
}

/* One sample line (comments and blank lines are skipped by the caller).
 * Returns 0, or -1 for a line that does not parse (it is skipped). */
static int parse_line(const char *p, hs_prom_samples *s)
{
    hs_prom_sample smp = {0};
    p = skip_blank(p);
    const char *start = p;
    if (!name_char(*p, true))
        return -1;
    while (name_char(*p, false))
        p++;
    if ((smp.name = dup_range(start, (size_t)(p - start))) == NULL)
        return -1;
    p = skip_blank(p);
    if (*p == '{') {
        p = skip_blank(p + 1);
        while (*p != '}') {
            const char *ls = p;
            if (!name_char(*p, true))
                goto bad;
            while (name_char(*p, false))
                p++;
            size_t lnlen = (size_t)(p - ls);
            p = skip_blank(p);
            if (*p != '=')
                goto bad;
            p = skip_blank(p + 1);
            if (*p != '"')
                goto bad;
            hs_prom_label *more = realloc(smp.labels, (smp.nlabels + 1) * sizeof *more);
            if (more == NULL)
                goto bad;
            smp.labels = more;
            hs_prom_label *l = &smp.labels[smp.nlabels];
            if ((l->name = dup_range(ls, lnlen)) == NULL)
                goto bad;
            if ((p = parse_label_value(p + 1, &l->value)) == NULL) {
                free(l->name);
                goto bad;
            }
            smp.nlabels++;
            p = skip_blank(p);
            if (*p == ',')
                p = skip_blank(p + 1);
            else if (*p != '}')
                goto bad;
        }
        p++;
    }
    p = skip_blank(p);
    if (hs_prom_parse_value(p, &p, &smp.value) != 0)
        goto bad;
    /* An optional timestamp may follow; nothing else. */
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        hs_prom_sample *bigger = realloc(s->v, cap * sizeof *bigger);
        if (bigger == NULL)
            goto bad;
        s->v = bigger;
        s->cap = cap;
    }
    s->v[s->n++] = smp;
    return 0;
bad:
    for (size_t j = 0; j < smp.nlabels; j++) {
        free(smp.labels[j].name);
        free(smp.labels[j].value);
    }
    free(smp.labels);
    free(smp.name);
    return -1;
}

void hs_prom_parse(char *text, hs_prom_samples *s)
{
    for (char *line = text; line != NULL && *line != '\0';) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] == '\r')
            line[len - 1] = '\0';
        const char *p = skip_blank(line);
        if (*p != '#' && *p != '\0')
            parse_line(p, s);
        line = nl ? nl + 1 : NULL;
    }
}

const char *hs_prom_label_of(const hs_prom_sample *smp, const char *name)
{
    for (size_t i = 0; i < smp->nlabels; i++)
        if (strcmp(smp->labels[i].name, name) == 0)
            return smp->labels[i].value;
    return NULL;
}