/* bench.h - the measurements behind `hashspace bench`, `balance` and
 * `movement`: hash speed, placement speed, balance of a split, movement on
 * membership change, and comparisons with peers (libmemcached, the jump hash
 * paper's code, the original Python claim scheme).
 *
 * Every experiment iterates the hash and placement registries, so a method
 * added to the library is measured without touching this code. Results go
 * into a bench_report: an aligned text table on a terminal, or JSON / CSV for
 * plots, and optionally one CSV file per table in a directory.
 *
 * Not thread-safe: one report, one thread.
 */
#ifndef HS_BENCH_H
#define HS_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hashspace/place.h"

/* ---- the report: tables of named columns ---- */

typedef enum bench_format { BENCH_TEXT, BENCH_JSON, BENCH_CSV } bench_format;

typedef struct bench_report bench_report;

/* Tables flagged DATA are long-form tables for plots: written to CSV/JSON
 * and to the output directory, not printed as text. */
enum { BENCH_TABLE_DATA = 1u << 0 };

/* outdir may be NULL; when set, every table is also written to
 * outdir/<name>.csv. Returns NULL when out of memory. */
bench_report *bench_report_new(bench_format format, const char *command, const char *outdir);
/* Print what is still buffered (JSON), free. Returns 0, or -1 when writing
 * failed. Accepts NULL. */
int bench_report_finish(bench_report *r);

/* Prefix the names of the tables that follow (NULL: none), so that one
 * experiment run twice in a report writes distinct tables. */
void bench_report_prefix(bench_report *r, const char *prefix);
/* Start a table; columns is a NULL-terminated list of names. title is the
 * heading printed above the text table. */
void bench_table(bench_report *r, const char *name, const char *title, unsigned flags,
                 const char *const *columns);
void bench_cell_str(bench_report *r, const char *s);
void bench_cell_u64(bench_report *r, uint64_t v);
/* A number with `decimals` digits after the point, or -decimals significant
 * digits when negative; NaN prints as n/a (text), NaN (CSV), null (JSON). */
void bench_cell_num(bench_report *r, double v, int decimals);
void bench_row_end(bench_report *r);
/* Print (text, CSV) or keep (JSON) the table. */
void bench_table_end(bench_report *r);
/* A sentence about the results: printed under the text tables, kept as a
 * "notes" list in JSON, a "# " line in CSV. */
void bench_note(bench_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- timing and helpers ---- */

/* A FAS user update as the bus carries it (316 bytes, NUL-terminated): the
 * fedmsg body the key and sink benchmarks time. */
extern const char bench_fedmsg_body[];

/* The measuring clock, in nanoseconds: CPU time of the calling thread. */
uint64_t bench_now_ns(void);
/* Median of n doubles (sorts them in place). */
double bench_median(double *v, size_t n);
/* splitmix64 step: deterministic pseudo-random 64-bit numbers. */
uint64_t bench_rand64(uint64_t *state);
/* n random 64-bit hashes (malloc'd; NULL when out of memory). */
uint64_t *bench_random_hashes(size_t n, uint64_t seed);
/* A progress line on stderr, overwritten in place; only when stderr is a
 * terminal. bench_progress_done clears it. */
void bench_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bench_progress_done(void);
/* Keep a value alive so the optimizer cannot drop the loop producing it. */
void bench_consume(uint64_t v);
/* The name of member i in every experiment: "<prefix><i>:11211", a
 * host:port, since compatibility methods (continuum, ketama) want one.
 * Returns the length. */
size_t bench_member_name(char *buf, size_t cap, const char *prefix, size_t i);
/* Build a placement of n members named bench_member_name(prefix, i) with
 * weight weights[i] (NULL: all 1). Returns an hs_ error code. */
int bench_place_build(hs_place **out, const char *method, const char *prefix, size_t n,
                      const double *weights);
/* The machine, for reports: CPU model and online CPU count. */
const char *bench_cpu_model(void);
long bench_cpu_count(void);

/* ---- the experiments; each returns 0, or 1 on a run-time failure (message
 * printed). `quick` shrinks every size to a smoke test of a second or so. ---- */

typedef struct bench_hashes_opts {
    bool quick;
} bench_hashes_opts;
int bench_hashes_run(bench_report *r, const bench_hashes_opts *o);

typedef struct bench_placement_opts {
    bool quick;
    size_t max_n;          /* largest member count to try (default 10^6) */
    double build_budget_s; /* skip a size whose build would take longer */
} bench_placement_opts;
int bench_placement_run(bench_report *r, const bench_placement_opts *o);

typedef struct bench_balance_opts {
    bool quick;
    size_t servers;        /* default 4 */
    const char *keys_file; /* default /usr/share/dict/words */
    size_t generate;       /* > 0: use this many synthetic keys instead of a file */
} bench_balance_opts;
int bench_balance_run(bench_report *r, const bench_balance_opts *o);

typedef struct bench_movement_opts {
    bool quick;
    size_t keys;     /* default 10^6 */
    size_t sizes[4]; /* member counts, 0-terminated; default 10, 1000 */
} bench_movement_opts;
int bench_movement_run(bench_report *r, const bench_movement_opts *o);

typedef struct bench_peers_opts {
    bool quick;
    size_t keys;        /* keys for the ketama comparison (default 10^6) */
    size_t messages;    /* fedmsg-like messages for the claim comparison */
    const char *python; /* default /usr/bin/python3 */
} bench_peers_opts;
int bench_peers_run(bench_report *r, const bench_peers_opts *o);

/* The jump hash paper's reference code, transcribed to C (jump_ref.c). */
int32_t bench_jump_ref(uint64_t key, int32_t num_buckets);

/* Balance statistics of counts over n bins against a uniform split. */
typedef struct bench_balance_stats {
    double mean, peak_to_mean, stddev, cv, chi2, p_value;
    uint64_t min, max;
} bench_balance_stats;
void bench_balance_stats_of(const uint64_t *counts, size_t n, bench_balance_stats *s);
/* Upper regularized incomplete gamma Q(a, x): the chi-square p-value is
 * Q(df / 2, chi2 / 2). */
double bench_gamma_q(double a, double x);

#endif
