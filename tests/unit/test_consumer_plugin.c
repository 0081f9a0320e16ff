/* test_consumer_plugin.c - the plugin sink: load the example count plugin,
 * feed it messages, see their effect; refuse missing files, objects that are
 * not plugins and plugins of another ABI version, with a clear message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dlfcn.h>
#include <stdatomic.h>
#include <unistd.h>

#include "sink.h"

#ifndef HS_COUNT_PLUGIN_PATH
#error "HS_COUNT_PLUGIN_PATH must name the built examples/plugins/count_plugin.c"
#endif

static hs__sink_env env = {.consumer = "counter"};

static hs_message message(const char *topic, const char *body, uint32_t attempt)
{
    hs_message m = {topic, strlen(topic), body, strlen(body), 0, attempt};
    return m;
}

/* The plugin's own counter, reached through a reference of our own. */
static uint64_t plugin_total(void)
{
    void *h = dlopen(HS_COUNT_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
    assert_non_null(h);
    _Atomic uint64_t *total = dlsym(h, "hs_count_plugin_total");
    assert_non_null(total);
    uint64_t v = atomic_load(total);
    dlclose(h);
    return v;
}

static void test_plugin_consumes_and_appends_to_its_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/hs-plugin-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char file[64], spec[512], err[512];
    snprintf(file, sizeof file, "%s/out", dir);
    snprintf(spec, sizeof spec, "%s,%s", HS_COUNT_PLUGIN_PATH, file);

    void *a, *b;
    assert_int_equal(hs__sink_plugin.open(&a, spec, &env, err, sizeof err), HS_OK);
    /* A second worker's instance: its own init, the same loaded object. */
    assert_int_equal(hs__sink_plugin.open(&b, spec, &env, err, sizeof err), HS_OK);
    uint64_t before = plugin_total();
    hs_message m1 = message("org.x.one", "{\"a\": 1}", 1);
    hs_message m2 = message("org.x.two", "hello", 3);
    assert_int_equal(hs__sink_plugin.consume(a, &m1, err, sizeof err), HS_OK);
    assert_int_equal(hs__sink_plugin.consume(b, &m2, err, sizeof err), HS_OK);
    assert_int_equal(plugin_total() - before, 2);
    hs__sink_plugin.close(a);
    hs__sink_plugin.close(b);
    /* The last close unloaded it. */
    assert_null(dlopen(HS_COUNT_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD));

    FILE *in = fopen(file, "r");
    assert_non_null(in);
    char got[256] = {0};
    size_t n = fread(got, 1, sizeof got - 1, in);
    fclose(in);
    assert_true(n > 0);
    assert_string_equal(got, "org.x.one\t8\t1\norg.x.two\t5\t3\n");
    unlink(file);
    rmdir(dir);
}

static void test_plugin_failure_is_reported(void **state)
{
    (void)state;
    char spec[512], err[512];
    void *s;
    /* Every write to /dev/full fails with ENOSPC. */
    snprintf(spec, sizeof spec, "%s,/dev/full", HS_COUNT_PLUGIN_PATH);
    assert_int_equal(hs__sink_plugin.open(&s, spec, &env, err, sizeof err), HS_OK);
    hs_message m = message("t", "{}", 1);
    assert_int_equal(hs__sink_plugin.consume(s, &m, err, sizeof err), HS_EIO);
    assert_non_null(strstr(err, "plugin 'count' failed the message"));
    hs__sink_plugin.close(s);
}

static void test_plugin_init_failure_fails_open(void **state)
{
    (void)state;
    char spec[512], err[512];
    void *s = (void *)&s;
    snprintf(spec, sizeof spec, "%s,/nonexistent-dir/out", HS_COUNT_PLUGIN_PATH);
    assert_int_equal(hs__sink_plugin.open(&s, spec, &env, err, sizeof err), HS_EIO);
    assert_null(s);
    assert_non_null(strstr(err, "plugin 'count' init failed"));
}

static void test_plugin_wrong_path_is_clear(void **state)
{
    (void)state;
    char err[512];
    void *s;
    assert_int_equal(
        hs__sink_plugin.open(&s, "/nonexistent/libnothing.so,x", &env, err, sizeof err), HS_EINVAL);
    assert_null(s);
    assert_non_null(strstr(err, "cannot load /nonexistent/libnothing.so"));
    assert_non_null(strstr(err, "No such file or directory"));

    assert_int_equal(hs__sink_plugin.open(&s, "", &env, err, sizeof err), HS_EINVAL);
    assert_non_null(strstr(err, "plugin:PATH.so[,ARG]"));
}

static void test_plugin_without_entry_symbol_is_refused(void **state)
{
    (void)state;
    char err[512];
    void *s;
    /* A real shared object that is not a plugin: the C library. */
    assert_int_equal(hs__sink_plugin.open(&s, "libc.so.6", &env, err, sizeof err), HS_EUNSUPPORTED);
    assert_null(s);
    assert_non_null(strstr(err, "libc.so.6: no symbol hs_consumer_plugin_v1"));
}

static void test_plugin_wrong_abi_version_is_refused(void **state)
{
    (void)state;
    char err[512], want[512];
    void *s;
    assert_int_equal(hs__sink_plugin.open(&s, HS_WRONG_ABI_PLUGIN_PATH, &env, err, sizeof err),
                     HS_EUNSUPPORTED);
    assert_null(s);
    snprintf(want, sizeof want, "%s: plugin ABI version %d, this hub speaks %d",
             HS_WRONG_ABI_PLUGIN_PATH, HS_CONSUMER_ABI_VERSION + 1, HS_CONSUMER_ABI_VERSION);
    assert_string_equal(err, want);
    /* Refused and unloaded. */
    assert_null(dlopen(HS_WRONG_ABI_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plugin_consumes_and_appends_to_its_file),
        cmocka_unit_test(test_plugin_failure_is_reported),
        cmocka_unit_test(test_plugin_init_failure_fails_open),
        cmocka_unit_test(test_plugin_wrong_path_is_clear),
        cmocka_unit_test(test_plugin_without_entry_symbol_is_refused),
        cmocka_unit_test(test_plugin_wrong_abi_version_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
