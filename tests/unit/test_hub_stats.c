/* test_hub_stats.c - the counter maps: every row of HS__HUB_COUNTER_MAP and
 * HS__CONSUMER_COUNTER_MAP shows in /metrics (HELP, TYPE and its value) and
 * in /status (its key and value), and the summary words follow each row's
 * "shown" rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "consumer.h"
#include "deadletter.h"
#include "hashspace/error.h"
#include "hub.h"

typedef struct fixture {
    hs__hub_config cfg;
    hs__deadletter *dl;
    hs__consumer *c;
    hs__hub hub;
} fixture;

static atomic_uint_fast64_t *at(void *base, size_t offset)
{
    return (atomic_uint_fast64_t *)((char *)base + offset);
}

/* A hub with one consumer "arch", each atomic row set to 100 + its index. */
static void make(fixture *f)
{
    char err[256];
    hs__config_init(&f->cfg);
    assert_int_equal(hs__deadletter_new(&f->dl, "none", err, sizeof err), HS_OK);
    hs__consumer_spec spec = {.name = "arch",
                              .glob = "*",
                              .kind = "file",
                              .arg = "/dev/null",
                              .workers = 1,
                              .queue_size = 8,
                              .on_full = HS__ON_FULL_BLOCK,
                              .timeout_s = 1,
                              .max_tries = 1};
    assert_int_equal(hs__consumer_new(&f->c, &spec, f->dl, err, sizeof err), HS_OK);
    f->hub = (hs__hub){.cfg = &f->cfg, .deadletter = f->dl, .consumers = &f->c, .nconsumers = 1};
    for (size_t i = 0; i < HS__HUB_STATS; i++) {
        const hs__stat *row = &hs__hub_stats[i];
        if (row->source == HS__STAT_ATOMIC || row->source == HS__STAT_SECONDS)
            atomic_store(at(&f->hub, row->offset), 100 + i);
        if (row->source == HS__STAT_REASONS)
            for (int r = 0; r < HS__MALFORMED__COUNT; r++)
                atomic_store(at(&f->hub, row->offset) + r, 1);
    }
    for (size_t i = 0; i < HS__CONSUMER_STATS; i++) {
        const hs__stat *row = &hs__consumer_stats[i];
        if (row->source == HS__STAT_ATOMIC)
            atomic_store(at(f->c, row->offset), 100 + i);
        if (row->source == HS__STAT_HISTOGRAM)
            atomic_store(at(f->c, row->offset) + 2, 7);
    }
}

static void unmake(fixture *f)
{
    hs__consumer_free(f->c);
    hs__deadletter_free(f->dl);
    hs__config_free(&f->cfg);
}

static void expect_in(const char *text, const char *what)
{
    if (strstr(text, what) == NULL)
        fail_msg("missing: %s\nin:\n%s", what, text);
}

static void test_stats_every_row_is_in_metrics_with_help_type_and_value(void **state)
{
    (void)state;
    fixture f;
    make(&f);
    size_t len;
    char *text = hs__metrics_render(&f.hub, &len);
    assert_non_null(text);
    char want[512];
    for (size_t i = 0; i < HS__HUB_STATS; i++) {
        const hs__stat *row = &hs__hub_stats[i];
        snprintf(want, sizeof want, "# HELP %s %s\n# TYPE %s %s\n", row->metric, row->help,
                 row->metric, row->type);
        expect_in(text, want);
        if (row->source == HS__STAT_ATOMIC)
            snprintf(want, sizeof want, "\n%s %zu\n", row->metric, 100 + i);
        else if (row->source == HS__STAT_SECONDS) /* nanoseconds, shown in seconds */
            snprintf(want, sizeof want, "\n%s 0.000000%zu\n", row->metric, 100 + i);
        else if (row->source == HS__STAT_REASONS)
            snprintf(want, sizeof want, "\n%s{reason=\"json\"} 1\n", row->metric);
        else
            snprintf(want, sizeof want, "\n%s 0\n", row->metric);
        expect_in(text, want);
    }
    for (size_t i = 0; i < HS__CONSUMER_STATS; i++) {
        const hs__stat *row = &hs__consumer_stats[i];
        int n = (int)strcspn(row->metric, "{");
        snprintf(want, sizeof want, "# TYPE %.*s %s\n", n, row->metric, row->type);
        expect_in(text, want);
        const char *labels = row->metric + n;
        char extra[128] = "";
        if (*labels == '{')
            snprintf(extra, sizeof extra, ",%.*s", (int)strlen(labels) - 2, labels + 1);
        if (row->source == HS__STAT_ATOMIC)
            snprintf(want, sizeof want, "\n%.*s{consumer=\"arch\"%s} %zu\n", n, row->metric, extra,
                     100 + i);
        else if (row->source == HS__STAT_HISTOGRAM)
            snprintf(want, sizeof want, "\n%.*s_count{consumer=\"arch\"} 7\n", n, row->metric);
        else
            snprintf(want, sizeof want, "\n%.*s{consumer=\"arch\"} 0", n, row->metric);
        expect_in(text, want);
    }
    free(text);
    unmake(&f);
}

static void test_stats_every_row_is_in_status_with_its_value(void **state)
{
    (void)state;
    fixture f;
    make(&f);
    size_t len;
    char *text = hs__status_render(&f.hub, &len);
    assert_non_null(text);
    json_error_t jerr;
    json_t *o = json_loads(text, 0, &jerr);
    assert_non_null(o);
    for (size_t i = 0; i < HS__HUB_STATS; i++) {
        const hs__stat *row = &hs__hub_stats[i];
        json_t *v = json_object_get(o, row->key);
        if (v == NULL)
            fail_msg("no /status key %s", row->key);
        if (row->source == HS__STAT_ATOMIC)
            assert_int_equal(json_integer_value(v), 100 + i);
        if (row->source == HS__STAT_SECONDS)
            assert_true(json_real_value(v) == (double)(100 + i) / 1e9);
        if (row->source == HS__STAT_REASONS)
            assert_int_equal(json_integer_value(json_object_get(v, "no_key")), 1);
    }
    json_t *c = json_array_get(json_object_get(o, "consumers"), 0);
    assert_string_equal(json_string_value(json_object_get(c, "name")), "arch");
    for (size_t i = 0; i < HS__CONSUMER_STATS; i++) {
        const hs__stat *row = &hs__consumer_stats[i];
        json_t *v = json_object_get(c, row->key);
        if (v == NULL)
            fail_msg("no consumer /status key %s", row->key);
        if (row->source == HS__STAT_ATOMIC)
            assert_int_equal(json_integer_value(v), 100 + i);
        if (row->source == HS__STAT_HISTOGRAM) {
            json_t *counts = json_object_get(v, "counts");
            assert_int_equal(json_array_size(json_object_get(v, "bounds")), HS__DURATION_BUCKETS);
            assert_int_equal(json_array_size(counts), HS__DURATION_BUCKETS + 1);
            assert_int_equal(json_integer_value(json_array_get(counts, 2)), 7);
        }
    }
    json_decref(o);
    free(text);
    unmake(&f);
}

static void test_stats_format_follows_each_rows_shown_rule(void **state)
{
    (void)state;
    const hs__stat rows[] = {
        {.label = "always", .shown = HS__SHOWN_ALWAYS},
        {.label = "nonzero", .shown = HS__SHOWN_NONZERO},
        {.label = "never", .shown = HS__SHOWN_NEVER},
        {.label = "column", .shown = HS__SHOWN_ALWAYS, .column = "col"},
    };
    char out[128];
    uint64_t zero[] = {0, 0, 5, 1};
    hs__stats_format(out, sizeof out, rows, 4, zero, ", ", false);
    assert_string_equal(out, "always 0, column 1");
    uint64_t set[] = {3, 4, 5, 1};
    hs__stats_format(out, sizeof out, rows, 4, set, "  ", false);
    assert_string_equal(out, "always 3  nonzero 4  column 1");
    /* Notes: rows without a column, when not 0. */
    hs__stats_format(out, sizeof out, rows, 4, set, "  ", true);
    assert_string_equal(out, "always 3  nonzero 4");
    hs__stats_format(out, sizeof out, rows, 4, zero, "  ", true);
    assert_string_equal(out, "");
    /* Cut at the end of the buffer, between two rows, still terminated. */
    size_t n = hs__stats_format(out, 12, rows, 4, set, "  ", false);
    assert_string_equal(out, "always 3");
    assert_int_equal(n, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_every_row_is_in_metrics_with_help_type_and_value),
        cmocka_unit_test(test_stats_every_row_is_in_status_with_its_value),
        cmocka_unit_test(test_stats_format_follows_each_rows_shown_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
