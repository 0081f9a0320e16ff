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
#include "sink.h"

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

/* Load text; the problems (load + check) and their messages (malloc'd). */
static int load_text_errors(hs__hub_config *cfg, const char *text, char **messages)
{
    char path[] = "/tmp/hs-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    size_t len;
    FILE *errors = open_memstream(messages, &len);
    hs__config_init(cfg);
    int problems = hs__config_load(cfg, path, errors);
    problems += hs__config_check(cfg, errors);
    fclose(errors);
    unlink(path);
    return problems;
}

/* The problems of a [hub] section plus extra lines; 0 when all is well. */
static int problems_with(const char *extra, const char *expect)
{
    char text[2048];
    snprintf(text, sizeof text, "[hub]\nself = a\nmembers = a\nbind = tcp://127.0.0.1:9940\n%s%s",
             extra,
             strstr(extra, "[consumer") != NULL ? "" : "[consumer c]\nkind = file\narg = x\n");
    hs__hub_config cfg;
    char *messages;
    int problems = load_text_errors(&cfg, text, &messages);
    if (expect != NULL && strstr(messages, expect) == NULL)
        fail_msg("expected '%s' in:\n%s", expect, messages);
    if (expect == NULL && problems != 0)
        fail_msg("expected no problem with:\n%s\ngot:\n%s", text, messages);
    free(messages);
    hs__config_free(&cfg);
    return problems;
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

/* A CURVE key pair (hashspace keygen --print), given as Z85 text. */
#define TEST_PUBLIC_Z85 "(/%9k0pboG:Wa*MrB<qD(q$&)Ydj#PCR4-8l?K1P"
#define TEST_SECRET_Z85 "Hw+a:vOu7XR&(ISRKEG4onxybx:BLP!6k}4lFArk"

/* Every option set to something other than its default: the printout loads
 * back to the same values, and prints the same. hash-key and log-level were
 * left out of the printout, so a siphash config reloaded with a zero key. */
static void test_config_print_reloads_every_option(void **state)
{
    (void)state;
    char allow[] = "/tmp/hs-test-allow.XXXXXX";
    assert_non_null(mkdtemp(allow));
    char text[4096];
    snprintf(text, sizeof text,
             "[hub]\n"
             "curve-secret-key = %s\n"
             "curve-server-key = %s\n"
             "curve-allow = %s\n"
             "push-server-key = %s\n"
             "status-args = yes\n"
             "connect = tcp://127.0.0.1:9941\n"
             "bind = ipc:///tmp/hs-test.ipc\n"
             "subscribe = org.\n"
             "max-body = 1M\n"
             "max-topic = 300\n"
             "rcv-hwm = 2147483647\n"
             "self = b\n"
             "members = a=2,b\n"
             "key = json:/msg/user\n"
             "key-fallback = topic\n"
             "hash = siphash\n"
             "placement = ring\n"
             "hash-key = 000102030405060708090a0b0c0d0e0f\n"
             "consumer = spec,queue=7,timeout=1.25@org.*=file:spec.jsonl\n"
             "workers = 3\n"
             "queue-size = 50\n"
             "on-full = drop\n"
             "timeout = 1234567.8\n"
             "max-tries = 9\n"
             "dead-letter = stderr\n"
             "metrics = 127.0.0.1:9100\n"
             "drain-timeout = 2.5\n"
             "log-level = warn\n"
             "time-key = json:/ts\n"
             "time-skew = 5\n"
             "ring-seconds = 12.5\n"
             "ring-bytes = 64M\n"
             "hold-max = 77\n"
             "ordered = false\n"
             "[consumer own]\n"
             "ordered = true\n"
             "glob = a.*\n"
             "kind = exec\n"
             "arg = /bin/sh -c cat\n"
             "workers = 2\n"
             "queue = 5\n"
             "on_full = block\n"
             "timeout = 500ms\n"
             "max_tries = 1\n",
             TEST_SECRET_Z85, TEST_PUBLIC_Z85, allow, TEST_PUBLIC_Z85);
    hs__hub_config first, second;
    char *messages;
    if (load_text_errors(&first, text, &messages) != 0)
        fail_msg("%s", messages);
    free(messages);
    char *printed = print_config(&first);
    if (load_text_errors(&second, printed, &messages) != 0)
        fail_msg("%s\n--\n%s", messages, printed);
    free(messages);
    char *again = print_config(&second);
    assert_string_equal(printed, again);
    /* Every command-line option is in the printout. */
    struct option opts[HS__CONFIG_OPTIONS_MAX];
    size_t n = hs__config_long_options(opts, HS__CONFIG_OPTIONS_MAX);
    assert_true(n >= 23);
    for (size_t i = 0; i < n; i++) {
        char key[80];
        snprintf(key, sizeof key, "\n%s = ", opts[i].name);
        for (char *p = key; *p != '\0'; p++)
            *p = *p == '-' ? '_' : *p;
        /* coordinator and cluster exclude members: the next test prints them. */
        if (strcmp(opts[i].name, "consumer") != 0 && strcmp(opts[i].name, "coordinator") != 0 &&
            strcmp(opts[i].name, "cluster") != 0 && strstr(printed, key) == NULL)
            fail_msg("option %s is not in the printout:\n%s", opts[i].name, printed);
    }
    const hs__hub_config *c[2] = {&first, &second};
    for (int k = 0; k < 2; k++) {
        assert_string_equal(c[k]->curve_secret_key, TEST_SECRET_Z85);
        assert_string_equal(c[k]->curve_server_key, TEST_PUBLIC_Z85);
        assert_string_equal(c[k]->curve_allow, allow);
        assert_true(c[k]->status_args);
        assert_string_equal(c[k]->consumers[1].push_server_key, TEST_PUBLIC_Z85);
        assert_string_equal(c[k]->hash_key, "000102030405060708090a0b0c0d0e0f");
        assert_string_equal(c[k]->log_level, "warn");
        assert_string_equal(c[k]->hash, "siphash");
        assert_string_equal(c[k]->placement, "ring");
        assert_string_equal(c[k]->key, "json:/msg/user");
        assert_string_equal(c[k]->key_fallback, "topic");
        assert_string_equal(c[k]->members, "a=2,b");
        assert_string_equal(c[k]->dead_letter, "stderr");
        assert_string_equal(c[k]->metrics, "127.0.0.1:9100");
        assert_string_equal(c[k]->connect.items[0], "tcp://127.0.0.1:9941");
        assert_string_equal(c[k]->bind.items[0], "ipc:///tmp/hs-test.ipc");
        assert_string_equal(c[k]->subscribe.items[0], "org.");
        assert_int_equal(c[k]->max_body, 1 << 20);
        assert_int_equal(c[k]->max_topic, 300);
        assert_int_equal(c[k]->rcv_hwm, 2147483647);
        assert_true(c[k]->drain_timeout_s == 2.5);
        assert_true(c[k]->timeout_s == 1234567.8);
        assert_int_equal(c[k]->workers, 3);
        assert_int_equal(c[k]->queue_size, 50);
        assert_int_equal(c[k]->on_full, HS__ON_FULL_DROP);
        assert_int_equal(c[k]->max_tries, 9);
        assert_int_equal(c[k]->nconsumers, 2);
        const hs__consumer_spec *spec = &c[k]->consumers[0], *own = &c[k]->consumers[1];
        assert_string_equal(spec->name, "spec");
        assert_string_equal(spec->glob, "org.*");
        assert_int_equal(spec->queue_size, 7);
        assert_true(spec->timeout_s == 1.25);
        assert_int_equal(spec->workers, 3); /* the hub's default */
        assert_int_equal(spec->on_full, HS__ON_FULL_DROP);
        assert_string_equal(own->arg, "/bin/sh -c cat");
        assert_string_equal(own->glob, "a.*");
        assert_int_equal(own->workers, 2);
        assert_int_equal(own->queue_size, 5);
        assert_int_equal(own->on_full, HS__ON_FULL_BLOCK);
        assert_true(own->timeout_s == 0.5);
        assert_int_equal(own->max_tries, 1);
    }
    free(printed);
    free(again);
    hs__config_free(&first);
    hs__config_free(&second);
    rmdir(allow);
}

/* --check-config refuses what start-up would: rcv-hwm over an int (2G used
 * to become libzmq's default 1000), timeouts past a 32-bit count of
 * milliseconds, a drain timeout overflowing nanoseconds. */
/* Dynamic membership: the coordinator's settings load, print and load back;
 * members with a coordinator, or a coordinator without a cluster, are
 * refused; so is an expiry that is not longer than the heartbeat. */
static void test_config_dynamic_membership(void **state)
{
    (void)state;
    const char *text = "[hub]\n"
                       "bind = tcp://127.0.0.1:9940\n"
                       "self = hub-a\n"
                       "coordinator = redis://127.0.0.1:6400/2\n"
                       "cluster = prod\n"
                       "weight = 2.5\n"
                       "heartbeat = 250ms\n"
                       "expiry = 1\n"
                       "lead-time = 0.5\n"
                       "confirm-wait = 2\n"
                       "join-wait = 0.1\n"
                       "[consumer c]\n"
                       "kind = file\n"
                       "arg = x\n"
                       "ordered = false\n";
    hs__hub_config first, second;
    char *messages;
    if (load_text_errors(&first, text, &messages) != 0)
        fail_msg("%s", messages);
    free(messages);
    char *printed = print_config(&first);
    if (load_text_errors(&second, printed, &messages) != 0)
        fail_msg("%s\n--\n%s", messages, printed);
    free(messages);
    char *again = print_config(&second);
    assert_string_equal(printed, again);
    assert_non_null(strstr(printed, "\ncoordinator = redis://127.0.0.1:6400/2\n"));
    assert_non_null(strstr(printed, "\ncluster = prod\n"));
    assert_true(second.weight == 2.5);
    assert_true(second.heartbeat_s == 0.25);
    assert_true(second.lead_time_s == 0.5);
    assert_int_equal(second.consumers[0].ordered, HS__ORDERED_NO);
    assert_int_equal(second.ordered, HS__ORDERED_YES);
    free(printed);
    free(again);
    hs__config_free(&first);
    hs__config_free(&second);
    problems_with("coordinator = redis://127.0.0.1:6379\ncluster = x\n",
                  "members and coordinator exclude each other");
    const char *nocluster = "[hub]\nself = a\nbind = tcp://127.0.0.1:9940\n"
                            "coordinator = redis://127.0.0.1:6379\n"
                            "[consumer c]\nkind = file\narg = x\n";
    hs__hub_config cfg;
    assert_int_equal(load_text_errors(&cfg, nocluster, &messages), 1);
    assert_non_null(strstr(messages, "coordinator wants cluster"));
    free(messages);
    hs__config_free(&cfg);
    problems_with("coordinator = etcd://127.0.0.1\n", "coordinator:");
    problems_with("weight = -1\n", "weight: '-1' is not a positive number");
    problems_with("ordered = maybe\n", "ordered: 'maybe' is not true or false");
}

static void test_config_refuses_numbers_out_of_range(void **state)
{
    (void)state;
    problems_with("rcv-hwm = 2G\n", ":5: rcv-hwm: '2G' is not a number from 0 to 2147483647");
    problems_with("rcv-hwm = 2147483648\n", "rcv-hwm");
    problems_with("rcv-hwm = 2147483647\n", NULL);
    problems_with("drain-timeout = 1e11\n", ":5: drain-timeout: '1e11' is not a duration");
    problems_with("drain-timeout = 2147483\n", NULL);
    problems_with("timeout = 2147484\n", "timeout: '2147484' is not a duration from 0 to 2147483");
    problems_with("[consumer p]\nkind = push\narg = tcp://127.0.0.1:9\ntimeout = 2147484s\n",
                  ":8: timeout: '2147484s' is not a duration");
    problems_with("consumer = p,timeout=3000000@push:tcp://127.0.0.1:9\n",
                  "consumer 'p': timeout: '3000000' is not a duration");
    problems_with("max-body = 0\n", "max-body: '0' is not a size from 1 to 2G");
    problems_with("max-topic = 3G\n", "max-topic: '3G' is not a size from 1 to 2G");
    problems_with("workers = 1025\n", "workers: '1025' is not a number from 1 to 1024");
    problems_with("queue-size = 65M\n", "queue-size: '65M' is not a size from 1 to 64M");
}

/* A repeated [hub] key used to override silently, a second [consumer x]
 * section to merge into the first; lists and continued values repeat. */
static void test_config_refuses_repeated_keys_and_sections(void **state)
{
    (void)state;
    problems_with("self = b\n", ":5: self is already set on line 2 (give it once)");
    problems_with("max_body = 1M\nmax-body = 2M\n", ":6: max-body is already set on line 5");
    problems_with("[consumer c]\nkind = file\narg = x\n[consumer d]\nkind = file\narg = y\n"
                  "[consumer c]\nglob = org.*\n",
                  ":12: [consumer c] again: consumer 'c' is already defined on line 6");
    problems_with("[consumer c]\nkind = file\narg = x\n[consumer c]\nglob = org.*\n",
                  ":9: [consumer c] again");
    problems_with("[consumer c]\nkind = file\nkind = exec\narg = x\n",
                  ":7: consumer 'c': kind is already set on line 6");
    problems_with("consumer = x@file:x\n[consumer x]\nkind = file\narg = y\n",
                  "consumer 'x' is already defined on line 5");
    problems_with("connect = tcp://127.0.0.1:1\nconnect = tcp://127.0.0.1:2\nbind = tcp://*:3\n"
                  "subscribe = a\nsubscribe = b\nmembers = b\nconsumer = f@file:f\n"
                  "consumer = g@file:g\n[consumer c]\nkind = exec\narg = /bin/sh\narg = -c true\n",
                  NULL);
}

/* Endpoints that zmq_connect/zmq_bind would refuse at start-up. */
static void test_config_refuses_unknown_transports(void **state)
{
    (void)state;
    problems_with("connect = nonsense://x\n", ":5: connect: 'nonsense://x' is not an endpoint");
    problems_with("bind = 127.0.0.1:9940\n", "bind: '127.0.0.1:9940' is not an endpoint");
    problems_with("connect = tcp://127.0.0.1\n",
                  "connect: 'tcp://127.0.0.1' is not tcp://HOST:PORT");
    problems_with("connect = tcp://*:9940\n", "is not tcp://HOST:PORT");
    problems_with("connect = udp://127.0.0.1:9940\n", "is not an endpoint");
    problems_with("consumer = p@push:nonsense://x\n", "consumer 'p': push: 'nonsense://x'");
    problems_with("bind = tcp://*:9941\nbind = tcp://127.0.0.1:*\nconnect = ipc:///tmp/x\n"
                  "connect = inproc://x\n",
                  NULL);
}

/* An exec program that start-up could not run: missing, in no PATH
 * directory, not executable. */
static void test_config_checks_exec_programs(void **state)
{
    (void)state;
    problems_with("consumer = e@exec:/no/such/program --x\n",
                  "consumer 'e': exec: cannot run '/no/such/program': No such file or directory");
    problems_with("consumer = e@exec:no-such-program-hs --x\n",
                  "cannot run 'no-such-program-hs': No such file or directory (not found in PATH)");
    char plain[] = "/tmp/hs-test-not-executable-XXXXXX", text[128], expect[128];
    close(mkstemp(plain)); /* mode 0600 */
    snprintf(text, sizeof text, "consumer = e@exec:%s\n", plain);
    snprintf(expect, sizeof expect, "cannot run '%s': Permission denied", plain);
    problems_with(text, expect); /* root too: execve wants an x bit */
    unlink(plain);
    problems_with("consumer = e@exec:/tmp\n", "cannot run '/tmp': Permission denied");
    problems_with("consumer = e@exec:'unterminated\n", "consumer 'e': exec: unterminated '");
    problems_with("consumer = e@exec:sh -c 'cat >/dev/null'\n", NULL);
}

/* /dev/zero made --check-config read for ever (1.8 GB and growing). */
static void test_config_refuses_devices_and_huge_files(void **state)
{
    (void)state;
    hs__hub_config cfg;
    size_t len;
    char *messages;
    FILE *errors = open_memstream(&messages, &len);
    hs__config_init(&cfg);
    assert_int_equal(hs__config_load(&cfg, "/dev/zero", errors), 1);
    assert_int_equal(hs__config_load(&cfg, "/tmp", errors), 1);
    fclose(errors);
    assert_non_null(strstr(messages, "/dev/zero: not a config file: a device"));
    assert_non_null(strstr(messages, "/tmp: not a config file: a directory"));
    free(messages);
    hs__config_free(&cfg);

    char path[] = "/tmp/hs-test-config-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fputs("[hub]\n", f);
    for (int i = 0; i < 120000; i++)
        fputs("; a comment line\n", f); /* 2 MiB */
    fclose(f);
    errors = open_memstream(&messages, &len);
    hs__config_init(&cfg);
    assert_int_equal(hs__config_load(&cfg, path, errors), 1);
    fclose(errors);
    unlink(path);
    assert_non_null(strstr(messages, "the file goes on past 1048576 bytes"));
    free(messages);
    hs__config_free(&cfg);
}

/* The line of an error is the line of the option it is about. */
static void test_config_errors_name_the_option_line(void **state)
{
    (void)state;
    hs__hub_config cfg;
    char *messages;
    assert_int_equal(load_text_errors(&cfg,
                                      "[hub]\nbind = tcp://127.0.0.1:1\nmembers = a,b\n"
                                      "self = c\nconsumer = file:x\n",
                                      &messages),
                     1);
    assert_non_null(strstr(messages, ":4: self 'c' is not one of the members (a,b)"));
    free(messages);
    hs__config_free(&cfg);
    assert_int_equal(load_text_errors(&cfg,
                                      "[hub]\nbind = tcp://127.0.0.1:1\nself = a\n"
                                      "members = a,a\nconsumer = file:x\n",
                                      &messages),
                     1);
    assert_non_null(strstr(messages, ":4: members: "));
    free(messages);
    hs__config_free(&cfg);
}

/* The kinds come from HS_SINK_MAP alone: each is found by name and
 * position, parses as KIND:ARG on the command line, is listed in --help
 * with its usage, and an unknown kind's error lists them all. */
static void test_config_consumer_kinds_come_from_the_sink_map(void **state)
{
    (void)state;
    static const char *const usages[] = {
#define USAGE(kind, usage) usage,
        HS_SINK_MAP(USAGE)
#undef USAGE
    };
    char *help = NULL;
    size_t len;
    FILE *f = open_memstream(&help, &len);
    hs__config_usage(f);
    fclose(f);
    char list[256] = "";
    for (int k = 0; k < HS__SINKS; k++) {
        const char *kind = hs__sink_at(k)->kind;
        assert_int_equal(hs__sink_index(kind), k);
        assert_ptr_equal(hs__sink_find(kind), hs__sink_at(k));
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", k > 0 ? ", " : "", kind);
        /* usage starts with "KIND:" and is in --help on a line of its own. */
        assert_int_equal(strncmp(usages[k], kind, strlen(kind)), 0);
        assert_int_equal(usages[k][strlen(kind)], ':');
        char line[128];
        snprintf(line, sizeof line, "  %s\n", usages[k]);
        if (strstr(help, line) == NULL)
            fail_msg("no '%s' in --help:\n%s", usages[k], help);
        hs__hub_config cfg;
        char err[512], spec[64];
        hs__config_init(&cfg);
        snprintf(spec, sizeof spec, "org.*=%s:x", kind);
        assert_int_equal(hs__config_add_consumer(&cfg, spec, 0, err, sizeof err), 0);
        assert_string_equal(cfg.consumers[0].kind, kind);
        assert_string_equal(cfg.consumers[0].glob, "org.*");
        hs__config_free(&cfg);
    }
    assert_string_equal(hs__sink_kinds(), list);
    assert_null(hs__sink_find("mail"));
    assert_null(hs__sink_at(HS__SINKS));
    free(help);
    char expect[300];
    snprintf(expect, sizeof expect, "consumer 'c': unknown kind mail (expected %s)", list);
    problems_with("[consumer c]\nkind = mail\narg = x\n", expect);
    snprintf(expect, sizeof expect, "KIND one of %s (e.g.", list);
    problems_with("consumer = org.*=mail:x\n", expect);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_refuses_consumer_names_libinih_would_cut),
        cmocka_unit_test(test_config_refuses_consumer_names_that_do_not_print_back),
        cmocka_unit_test(test_config_consumer_glob_loses_surrounding_blanks),
        cmocka_unit_test(test_config_print_of_long_values_loads_back),
        cmocka_unit_test(test_config_print_reloads_every_option),
        cmocka_unit_test(test_config_dynamic_membership),
        cmocka_unit_test(test_config_refuses_numbers_out_of_range),
        cmocka_unit_test(test_config_refuses_repeated_keys_and_sections),
        cmocka_unit_test(test_config_refuses_unknown_transports),
        cmocka_unit_test(test_config_checks_exec_programs),
        cmocka_unit_test(test_config_refuses_devices_and_huge_files),
        cmocka_unit_test(test_config_errors_name_the_option_line),
        cmocka_unit_test(test_config_consumer_kinds_come_from_the_sink_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
