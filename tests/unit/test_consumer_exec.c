/* test_consumer_exec.c - the exec sink against real child processes
 * (tests/unit/exec_child.py run by /usr/bin/python3): requests, answers,
 * crashes and restarts, timeouts, argv splitting, no zombies left behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "sink.h"

#ifndef HS_EXEC_CHILD_PATH
#error "HS_EXEC_CHILD_PATH must name tests/unit/exec_child.py"
#endif
#define CHILD "/usr/bin/python3 " HS_EXEC_CHILD_PATH

typedef struct fixture {
    char dir[64];
    char record[128];
    char pidfile[128];
    atomic_uint_fast64_t restarts;
    hs__sink_env env;
    void *sink;
    char err[512];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/hs-exec-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->record, sizeof f->record, "%s/record", f->dir);
    snprintf(f->pidfile, sizeof f->pidfile, "%s/pids", f->dir);
    atomic_init(&f->restarts, 0);
    f->env.consumer = "badges";
    f->env.timeout_s = 10;
    f->env.restarts = &f->restarts;
    f->env.worker = 2;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    hs__sink_exec.close(f->sink);
    unlink(f->record);
    unlink(f->pidfile);
    rmdir(f->dir);
    free(f);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void open_child(fixture *f, const char *extra)
{
    char spec[1024];
    snprintf(spec, sizeof spec, CHILD " --pidfile %s %s", f->pidfile, extra);
    int rc = hs__sink_exec.open(&f->sink, spec, &f->env, f->err, sizeof f->err);
    if (rc != HS_OK)
        fail_msg("open %s: %s", spec, f->err);
}

static int consume(fixture *f, const char *topic, const char *body, size_t body_len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    hs_message msg = {
        .topic = topic,
        .topic_len = strlen(topic),
        .body = body,
        .body_len = body_len,
        .received_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec,
        .attempt = 1,
    };
    f->err[0] = '\0';
    return hs__sink_exec.consume(f->sink, &msg, f->err, sizeof f->err);
}

static int consume_str(fixture *f, const char *topic, const char *body)
{
    return consume(f, topic, body, strlen(body));
}

/* The pids the child wrote at each start, in order; returns how many. */
static size_t read_pids(const fixture *f, pid_t *pids, size_t max)
{
    FILE *in = fopen(f->pidfile, "r");
    size_t n = 0;
    long pid;
    if (in == NULL)
        return 0;
    while (n < max && fscanf(in, "%ld", &pid) == 1)
        pids[n++] = (pid_t)pid;
    fclose(in);
    return n;
}

/* Wait (up to 10 s) until n children have started and written their pid. */
static void wait_started(const fixture *f, size_t n)
{
    pid_t pids[8];
    for (int i = 0; i < 1000 && read_pids(f, pids, 8) < n; i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(read_pids(f, pids, 8), n);
}

/* Neither running nor a zombie: kill(pid, 0) fails for a pid that is gone,
 * and succeeds for a zombie. */
static void assert_gone(pid_t pid)
{
    errno = 0;
    assert_int_equal(kill(pid, 0), -1);
    assert_int_equal(errno, ESRCH);
}

static void test_exec_argv_split_handles_quotes(void **state)
{
    (void)state;
    char **argv;
    size_t argc;
    char err[256];
    assert_int_equal(hs__argv_split("  a \"b c\" 'd \"e' f\\ g h\"i \\\" j\"k \"\" ", &argv, &argc,
                                    err, sizeof err),
                     HS_OK);
    assert_int_equal(argc, 6);
    assert_string_equal(argv[0], "a");
    assert_string_equal(argv[1], "b c");
    assert_string_equal(argv[2], "d \"e");
    assert_string_equal(argv[3], "f g");
    assert_string_equal(argv[4], "hi \" jk");
    assert_string_equal(argv[5], "");
    assert_null(argv[6]);
    free(argv);

    assert_int_equal(hs__argv_split("cmd 'oops", &argv, &argc, err, sizeof err), HS_EPARSE);
    assert_non_null(strstr(err, "unterminated '"));
    assert_int_equal(hs__argv_split("cmd \"oops", &argv, &argc, err, sizeof err), HS_EPARSE);
    assert_int_equal(hs__argv_split("cmd oops\\", &argv, &argc, err, sizeof err), HS_EPARSE);
    assert_int_equal(hs__argv_split(" \t ", &argv, &argc, err, sizeof err), HS_EINVAL);
}

static void test_exec_sends_one_json_line_per_message(void **state)
{
    fixture *f = *state;
    char extra[256];
    snprintf(extra, sizeof extra, "--record %s", f->record);
    open_child(f, extra);
    double before = (double)time(NULL);
    assert_int_equal(consume_str(f, "org.x.badge", "{\"msg_id\": \"m-1\", \"n\": [1, 2]}"), HS_OK);
    assert_int_equal(consume_str(f, "org.x.text", "plain \"text\"\nline two"), HS_OK);
    assert_int_equal(consume(f, "org.x.bin", "\xff\xfe\x00\x01", 4), HS_OK);
    /* Bigger than a pipe buffer: written in pieces while polling. */
    size_t big_len = 300000;
    char *big = malloc(big_len + 3);
    assert_non_null(big);
    big[0] = '"';
    memset(big + 1, 'x', big_len);
    big[big_len + 1] = '"';
    big[big_len + 2] = '\0';
    assert_int_equal(consume_str(f, "org.x.big", big), HS_OK);
    free(big);
    assert_int_equal(atomic_load(&f->restarts), 0);

    FILE *in = fopen(f->record, "r");
    assert_non_null(in);
    json_error_t jerr;
    json_t *req[4];
    for (int i = 0; i < 4; i++) {
        req[i] = json_loadf(in, JSON_DISABLE_EOF_CHECK, &jerr);
        if (req[i] == NULL)
            fail_msg("request %d is not JSON: %s", i, jerr.text);
    }
    fclose(in);
    assert_string_equal(json_string_value(json_object_get(req[0], "topic")), "org.x.badge");
    json_t *body = json_object_get(req[0], "body");
    assert_true(json_is_object(body));
    assert_string_equal(json_string_value(json_object_get(body, "msg_id")), "m-1");
    assert_int_equal(json_array_size(json_object_get(body, "n")), 2);
    assert_int_equal(json_integer_value(json_object_get(req[0], "attempt")), 1);
    double received = json_real_value(json_object_get(req[0], "received"));
    assert_true(received >= before - 1 && received <= before + 60);

    assert_string_equal(json_string_value(json_object_get(req[1], "body")),
                        "plain \"text\"\nline two");
    assert_null(json_object_get(req[2], "body"));
    assert_string_equal(json_string_value(json_object_get(req[2], "body_base64")), "//4AAQ==");
    assert_int_equal(json_string_length(json_object_get(req[3], "body")), big_len);
    for (int i = 0; i < 4; i++)
        json_decref(req[i]);
}

static void test_exec_accepts_json_ok_answer(void **state)
{
    fixture *f = *state;
    open_child(f, "--answer '{\"ok\": true}'");
    assert_int_equal(consume_str(f, "t", "{}"), HS_OK);
    assert_int_equal(consume_str(f, "t", "{}"), HS_OK);
}

static void test_exec_fail_answer_fails_attempt_keeps_child(void **state)
{
    fixture *f = *state;
    open_child(f, "--answer \"fail disk full\"");
    assert_int_equal(consume_str(f, "t", "{}"), HS_EIO);
    assert_non_null(strstr(f->err, "disk full"));
    assert_int_equal(consume_str(f, "t", "{}"), HS_EIO);
    pid_t pids[4];
    assert_int_equal(read_pids(f, pids, 4), 1);
    assert_int_equal(atomic_load(&f->restarts), 0);
}

static void test_exec_json_fail_answer_carries_error(void **state)
{
    fixture *f = *state;
    open_child(f, "--answer '{\"ok\": false, \"error\": \"rule 17 rejected it\"}'");
    assert_int_equal(consume_str(f, "t", "{}"), HS_EIO);
    assert_non_null(strstr(f->err, "rule 17 rejected it"));
}

static void test_exec_garbage_answer_is_protocol_error_and_restarts(void **state)
{
    fixture *f = *state;
    open_child(f, "--answer 'yes please'");
    assert_int_equal(consume_str(f, "t", "{}"), HS_EPARSE);
    assert_non_null(strstr(f->err, "yes please"));
    assert_int_equal(consume_str(f, "t", "{}"), HS_EPARSE);
    assert_int_equal(atomic_load(&f->restarts), 1);
    pid_t pids[4];
    assert_int_equal(read_pids(f, pids, 4), 2);
    assert_gone(pids[0]);
}

/* docs/protocol.md: an answer line of at most 64 KiB (65,536 bytes, its
 * newline not counted); a longer one is a protocol error that says so. */
static void test_exec_answer_line_limit_is_64_kib(void **state)
{
    fixture *f = *state;
    open_child(f, "--answer-len 65536");
    assert_int_equal(consume_str(f, "t", "{}"), HS_OK);
    assert_int_equal(consume_str(f, "t", "{}"), HS_OK);
    hs__sink_exec.close(f->sink);
    f->sink = NULL;
    open_child(f, "--answer-len 65537");
    assert_int_equal(consume_str(f, "t", "{}"), HS_EPARSE);
    assert_non_null(strstr(f->err, "answer line longer than 65536 bytes (64 KiB)"));
    pid_t pids[4];
    assert_int_equal(read_pids(f, pids, 4), 2);
    assert_gone(pids[1]); /* stopped: hub and child are out of step */
}

static void test_exec_crash_fails_attempt_then_restarts(void **state)
{
    fixture *f = *state;
    open_child(f, "--crash-every 3");
    for (int round = 1; round <= 2; round++) {
        assert_int_equal(consume_str(f, "t", "{\"n\": 1}"), HS_OK);
        assert_int_equal(consume_str(f, "t", "{\"n\": 2}"), HS_OK);
        assert_int_equal(consume_str(f, "t", "{\"n\": 3}"), HS_EIO);
        assert_non_null(strstr(f->err, "exited with status 3 before answering"));
        assert_int_equal(atomic_load(&f->restarts), round - 1);
    }
    /* The retry starts a new child and succeeds. Each child had answered
     * before it crashed, so no backoff: the three children's start-ups, not
     * 100 + 200 ms of waiting, are the time this took. */
    assert_int_equal(consume_str(f, "t", "{\"n\": 3}"), HS_OK);
    assert_int_equal(atomic_load(&f->restarts), 2);
    pid_t pids[4];
    assert_int_equal(read_pids(f, pids, 4), 3);
    assert_gone(pids[0]);
    assert_gone(pids[1]);
}

/* A child that dies before answering anything is restarted after a backoff:
 * 100 ms, then 200 ms, then 400 ms... */
static void test_exec_crash_before_any_answer_backs_off(void **state)
{
    fixture *f = *state;
    open_child(f, "--crash-every 1");
    double start = now_s();
    for (int round = 1; round <= 3; round++) {
        assert_int_equal(consume_str(f, "t", "{}"), HS_EIO);
        assert_non_null(strstr(f->err, "exited with status 3 before answering"));
        assert_int_equal(atomic_load(&f->restarts), round - 1);
    }
    assert_true(now_s() - start >= 0.3);
}

static void test_exec_timeout_kills_and_restarts(void **state)
{
    fixture *f = *state;
    /* Generous: the timeout of the first message sent to a new child also
     * covers the start of the Python interpreter, slow on a loaded machine. */
    f->env.timeout_s = 1.5;
    open_child(f, "--hang-topic hang");
    double start = now_s();
    assert_int_equal(consume_str(f, "hang", "{}"), HS_ETIMEOUT);
    double took = now_s() - start;
    assert_true(took >= 1.5 && took < 5.0);
    assert_non_null(strstr(f->err, "no answer within 1.5 s"));
    pid_t pids[4];
    assert_int_equal(read_pids(f, pids, 4), 1);
    assert_gone(pids[0]);
    assert_int_equal(consume_str(f, "fine", "{}"), HS_OK);
    assert_int_equal(atomic_load(&f->restarts), 1);
}

static void test_exec_timeout_kills_child_that_ignores_sigterm(void **state)
{
    fixture *f = *state;
    f->env.timeout_s = 0.2;
    open_child(f, "--ignore-term --hang-topic hang");
    /* It ignores SIGTERM only once Python has started and run that line. */
    wait_started(f, 1);
    double start = now_s();
    assert_int_equal(consume_str(f, "hang", "{}"), HS_ETIMEOUT);
    /* 0.2 s timeout, 0.5 s of SIGTERM grace, then SIGKILL. */
    double took = now_s() - start;
    assert_true(took >= 0.6 && took < 3.0);
    assert_non_null(strstr(f->err, "killed by signal 9"));
    pid_t pids[4];
    assert_int_equal(read_pids(f, pids, 4), 1);
    assert_gone(pids[0]);
}

static void test_exec_missing_command_fails_open(void **state)
{
    fixture *f = *state;
    int rc =
        hs__sink_exec.open(&f->sink, "hs-no-such-command --flag", &f->env, f->err, sizeof f->err);
    assert_int_equal(rc, HS_ESYSTEM);
    assert_null(f->sink);
    assert_non_null(strstr(f->err, "cannot run 'hs-no-such-command'"));
    assert_non_null(strstr(f->err, "No such file or directory"));

    rc = hs__sink_exec.open(&f->sink, "/usr/bin/python3 -c 'print(1)", &f->env, f->err,
                            sizeof f->err);
    assert_int_equal(rc, HS_EPARSE);
    assert_null(f->sink);
    assert_non_null(strstr(f->err, "unterminated"));
}

static void test_exec_close_leaves_no_zombie(void **state)
{
    fixture *f = *state;
    open_child(f, "");
    assert_int_equal(consume_str(f, "t", "{}"), HS_OK);
    pid_t pids[4];
    assert_int_equal(read_pids(f, pids, 4), 1);
    assert_int_equal(kill(pids[0], 0), 0);
    hs__sink_exec.close(f->sink);
    f->sink = NULL;
    assert_gone(pids[0]);
    assert_int_equal(waitpid(pids[0], NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static void test_exec_child_env_names_consumer_and_worker(void **state)
{
    fixture *f = *state;
    setenv("HASHSPACE_WORKER", "99", 1);
    open_child(f, "--env-answer");
    unsetenv("HASHSPACE_WORKER");
    assert_int_equal(consume_str(f, "t", "{}"), HS_EIO);
    assert_non_null(strstr(f->err, "consumer=badges worker=2"));
}

static void test_exec_child_dying_while_idle_costs_no_attempt(void **state)
{
    fixture *f = *state;
    open_child(f, "--exit-after 1");
    assert_int_equal(consume_str(f, "t", "{}"), HS_OK);
    /* Let it finish exiting, so that the next consume sees it gone. */
    struct timespec ts = {0, 500000000};
    nanosleep(&ts, NULL);
    assert_int_equal(consume_str(f, "t", "{}"), HS_OK);
    assert_int_equal(atomic_load(&f->restarts), 1);
}

static void test_exec_unsolicited_output_restarts_before_next_message(void **state)
{
    fixture *f = *state;
    open_child(f, "--chatter");
    assert_int_equal(consume_str(f, "t", "{}"), HS_OK);
    /* The extra line may come in a write of its own: let it arrive, or it
     * would be taken for the next answer (a protocol error, also a restart). */
    struct timespec ts = {0, 200000000};
    nanosleep(&ts, NULL);
    assert_int_equal(consume_str(f, "t", "{}"), HS_OK);
    assert_int_equal(atomic_load(&f->restarts), 1);
    pid_t pids[4];
    assert_int_equal(read_pids(f, pids, 4), 2);
    assert_gone(pids[0]);
}

typedef struct worker_run {
    fixture *f;
    unsigned index;
    int rc[3];
    char err[256];
} worker_run;

static void *run_worker(void *arg)
{
    worker_run *w = arg;
    hs__sink_env env = w->f->env;
    env.worker = w->index;
    void *sink = NULL;
    w->rc[0] = hs__sink_exec.open(&sink, CHILD " --crash-every 2", &env, w->err, sizeof w->err);
    if (w->rc[0] != HS_OK)
        return NULL;
    hs_message msg = {"t", 1, "{}", 2, 0, 1};
    w->rc[0] = hs__sink_exec.consume(sink, &msg, w->err, sizeof w->err);
    w->rc[1] = hs__sink_exec.consume(sink, &msg, w->err, sizeof w->err);
    w->rc[2] = hs__sink_exec.consume(sink, &msg, w->err, sizeof w->err);
    hs__sink_exec.close(sink);
    return NULL;
}

/* Workers of one consumer run their own instances on their own threads and
 * share only the restart counter. */
static void test_exec_workers_in_threads_share_restart_counter(void **state)
{
    fixture *f = *state;
    worker_run w[2] = {{.f = f, .index = 0}, {.f = f, .index = 1}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, run_worker, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(w[i].rc[0], HS_OK);
        assert_int_equal(w[i].rc[1], HS_EIO);
        assert_int_equal(w[i].rc[2], HS_OK);
    }
    assert_int_equal(atomic_load(&f->restarts), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exec_argv_split_handles_quotes),
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_exec_sends_one_json_line_per_message),
        T(test_exec_accepts_json_ok_answer),
        T(test_exec_fail_answer_fails_attempt_keeps_child),
        T(test_exec_json_fail_answer_carries_error),
        T(test_exec_garbage_answer_is_protocol_error_and_restarts),
        T(test_exec_answer_line_limit_is_64_kib),
        T(test_exec_crash_fails_attempt_then_restarts),
        T(test_exec_crash_before_any_answer_backs_off),
        T(test_exec_timeout_kills_and_restarts),
        T(test_exec_timeout_kills_child_that_ignores_sigterm),
        T(test_exec_missing_command_fails_open),
        T(test_exec_close_leaves_no_zombie),
        T(test_exec_child_env_names_consumer_and_worker),
        T(test_exec_child_dying_while_idle_costs_no_attempt),
        T(test_exec_unsolicited_output_restarts_before_next_message),
        T(test_exec_workers_in_threads_share_restart_counter),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
