/* util.c - what every experiment needs: a clock, medians, deterministic
 * random numbers, progress lines, building a placement of n members, the
 * machine's description, and the statistics of a split. */
#include "bench.h"

#include "hashspace/error.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char bench_fedmsg_body[] =
    "{\"i\":1,\"msg\":{\"agent\":\"fas\",\"user\":\"user-4711\",\"fields\":[\"ircnick\","
    "\"timezone\"],\"changed\":true},\"msg_id\":\"2024-5f1c2d3e-1a2b-4c5d-8e9f-0123456789ab\","
    "\"timestamp\":1700000000.5,\"topic\":\"org.fedoraproject.prod.fas.user.update\","
    "\"username\":\"apache\",\"crypto\":\"x509\",\"certificate\":\"LS0tLS1CRUdJTi\","
    "\"signature\":\"dGhlIHNpZw==\"}";

/* CPU time of the calling thread, not wall time: on a machine shared with
 * other work, time the scheduler gives to other processes is not counted
 * (caches are still shared, so medians of several runs remain necessary). */
uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, size_t n)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

uint64_t bench_rand64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t *bench_random_hashes(size_t n, uint64_t seed)
{
    uint64_t *h = malloc((n ? n : 1) * sizeof *h);
    if (h == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        h[i] = bench_rand64(&seed);
    return h;
}

static bool progress_shown;

void bench_progress(const char *fmt, ...)
{
    if (!isatty(STDERR_FILENO))
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("\r\033[K", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
    progress_shown = true;
}

void bench_progress_done(void)
{
    if (progress_shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        progress_shown = false;
    }
}

/* A sink the compiler must assume is read. */
volatile uint64_t bench_sink;

void bench_consume(uint64_t v)
{
    bench_sink += v;
}

size_t bench_member_name(char *buf, size_t cap, const char *prefix, size_t i)
{
    int len = snprintf(buf, cap, "%s%zu:11211", prefix, i);
    return len < 0 ? 0 : (size_t)len;
}

int bench_place_build(hs_place **out, const char *method, const char *prefix, size_t n,
                      const double *weights)
{
    hs_place *p;
    int rc = hs_place_new(&p, method, NULL);
    if (rc != HS_OK)
        return rc;
    size_t plen = strlen(prefix);
    size_t each = plen + 28;
    char *storage = malloc(n * each + 1);
    const char **names = malloc((n ? n : 1) * sizeof *names);
    if (storage == NULL || names == NULL) {
        free(storage);
        free(names);
        hs_place_free(p);
        return HS_ENOMEM;
    }
    char *at = storage;
    for (size_t i = 0; i < n; i++) {
        names[i] = at;
        at += bench_member_name(at, each, prefix, i) + 1;
    }
    rc = hs_place_add_many(p, names, weights, n);
    free(storage);
    free(names);
    if (rc != HS_OK) {
        hs_place_free(p);
        return rc;
    }
    *out = p;
    return HS_OK;
}

const char *bench_cpu_model(void)
{
    static char model[128];
    if (model[0] != '\0')
        return model;
    snprintf(model, sizeof model, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL)
        return model;
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "model name", 10) != 0)
            continue;
        const char *v = strchr(line, ':');
        if (v == NULL)
            continue;
        v++;
        while (*v == ' ' || *v == '\t')
            v++;
        snprintf(model, sizeof model, "%s", v);
        model[strcspn(model, "\n")] = '\0';
        break;
    }
    fclose(f);
    return model;
}

long bench_cpu_count(void)
{
    return sysconf(_SC_NPROCESSORS_ONLN);
}

/* ---- statistics ---- */

/* Q(a, x) by its continued fraction (Lentz), for x >= a + 1. */
static double gamma_q_fraction(double a, double x)
{
    const double tiny = 1e-300;
    double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
    for (int i = 1; i < 10000; i++) {
        double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        if (fabs(d) < tiny)
            d = tiny;
        c = b + an / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1 / d;
        double delta = d * c;
        h *= delta;
        if (fabs(delta - 1) < 1e-15)
            break;
    }
    return exp(-x + a * log(x) - lgamma(a)) * h;
}

/* P(a, x) by its power series, for x < a + 1. */
static double gamma_p_series(double a, double x)
{
    double term = 1 / a, sum = term;
    for (int n = 1; n < 100000; n++) {
        term *= x / (a + n);
        sum += term;
        if (fabs(term) < fabs(sum) * 1e-16)
            break;
    }
    return sum * exp(-x + a * log(x) - lgamma(a));
}

double bench_gamma_q(double a, double x)
{
    if (x <= 0)
        return 1;
    if (x < a + 1)
        return 1 - gamma_p_series(a, x);
    return gamma_q_fraction(a, x);
}

void bench_balance_stats_of(const uint64_t *counts, size_t n, bench_balance_stats *s)
{
    memset(s, 0, sizeof *s);
    if (n == 0)
        return;
    uint64_t total = 0;
    s->min = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        total += counts[i];
        if (counts[i] < s->min)
            s->min = counts[i];
        if (counts[i] > s->max)
            s->max = counts[i];
    }
    s->mean = (double)total / (double)n;
    double var = 0, chi2 = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)counts[i] - s->mean;
        var += d * d;
        if (s->mean > 0)
            chi2 += d * d / s->mean;
    }
    s->stddev = sqrt(var / (double)n);
    s->cv = s->mean > 0 ? s->stddev / s->mean : NAN;
    s->peak_to_mean = s->mean > 0 ? (double)s->max / s->mean : NAN;
    s->chi2 = chi2;
    s->p_value = n > 1 ? bench_gamma_q((double)(n - 1) / 2, chi2 / 2) : NAN;
}
