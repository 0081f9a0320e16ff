/* test_config.c - hub INI files: what --check-config refuses, and that the
 * printed effective configuration loads back the same. Regressions found by
 * fuzz/fuzz_config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

/* Load text as an INI file; the number of problems (load + check). */
static int load_text(hs__hub_config *cfg, const char *text)
{
    char path[] = "/tmp/hs-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    FILE *devnull = fopen("/dev/null", "w");
    hs__config_init(cfg);
    int problems = hs__config_load(cfg, path, devnull);
    problems += hs__config_check(cfg, devnull);
    fclose(devnull);
    unlink(path);
    return problems;
}

static char *print_config(const hs__hub_config *cfg)
{
    char *out = NULL;
    size_t len;
    FILE *f = open_memstream(&out, &len);
    hs__config_print(cfg, f);
    fclose(f);
    return out;
}

static const char hub[] = "[hub]\nself = a\nmembers = a\nbind = tcp://127.0.0.1:9940\n";

/* libinih cuts section names at 49 bytes: two long consumer names used to
 * merge into one consumer silently. */
static void test_config_refuses_consumer_names_libinih_would_cut(void **state)
{
    (void)state;
    char text[1024];
    snprintf(text, sizeof text,
             "%s[consumer %s-one]\nkind = file\narg = x\n[consumer %s-two]\nkind = file\narg = y\n",
             hub, "abcdefghijklmnopqrstuvwxyzabcdefghijklmnop",
             "abcdefghijklmnopqrstuvwxyzabcdefghijklmnop");
    hs__hub_config cfg;
    assert_true(load_text(&cfg, text) > 0);
    hs__config_free(&cfg);
}

/* Names that print as a section that reads back differently. */
static void test_config_refuses_consumer_names_that_do_not_print_back(void **state)
{
    (void)state;
    const char *bad[] = {"consumer = @file:x\n", "consumer = a]b@file:x\n",
                         "consumer = a;b@file:x\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "%s%s", hub, bad[i]);
        hs__hub_config cfg;
        assert_true(load_text(&cfg, text) > 0);
        hs__config_free(&cfg);
    }
    hs__hub_config cfg;
    char text[512];
    snprintf(text, sizeof text, "%sconsumer = audit.v2_x-1@file:x\n", hub);
    assert_int_equal(load_text(&cfg, text), 0);
    hs__config_free(&cfg);
}

/* A blank before '=' in "GLOB =KIND:ARG" is not part of the glob (it was,
 * and the printout lost it). */
static void test_config_consumer_glob_loses_surrounding_blanks(void **state)
{
    (void)state;
    char text[512];
    snprintf(text, sizeof text, "%sconsumer = audit@ org.* =file:x\n", hub);
    hs__hub_config cfg;
    assert_int_equal(load_text(&cfg, text), 0);
    assert_string_equal(cfg.consumers[0].glob, "org.*");
    hs__config_free(&cfg);
}

/* Repeated members and arg keys continue the value; the printout used to put
 * it on one line longer than libinih reads. */
static void test_config_print_of_long_values_loads_back(void **state)
{
    (void)state;
    char text[8192] = "[hub]\nself = member-000\nbind = tcp://127.0.0.1:9940\n";
    for (int k = 0; k < 3; k++) {
        strcat(text, "members = ");
        for (int i = 0; i < 15; i++) {
            char item[32];
            snprintf(item, sizeof item, "%smember-%d%02d", i ? "," : "", k, i);
            strcat(text, item);
        }
        strcat(text, "\n");
    }
    strcat(text, "[consumer c]\nkind = exec\narg = /bin/sh\n");
    for (int k = 0; k < 3; k++)
        strcat(text, "arg = --one-word --two-words --three-words --four-words --five-words "
                     "--six-words --seven-words\n");
    hs__hub_config first, second;
    assert_int_equal(load_text(&first, text), 0);
    assert_int_equal(strlen(first.members), 3 * 15 * 10 + 44);
    assert_int_equal(strncmp(first.consumers[0].arg, "/bin/sh --one-word", 18), 0);
    char *printed = print_config(&first);
    assert_int_equal(load_text(&second, printed), 0);
    char *again = print_config(&second);
    assert_string_equal(printed, again);
    assert_string_equal(first.members, second.members);
    assert_string_equal(first.consumers[0].arg, second.consumers[0].arg);
    free(printed);
    free(again);
    hs__config_free(&first);
    hs__config_free(&second);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_refuses_consumer_names_libinih_would_cut),
        cmocka_unit_test(test_config_refuses_consumer_names_that_do_not_print_back),
        cmocka_unit_test(test_config_consumer_glob_loses_surrounding_blanks),
        cmocka_unit_test(test_config_print_of_long_values_loads_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
