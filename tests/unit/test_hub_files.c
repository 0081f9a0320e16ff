/* test_hub_files.c - the files the hub writes (file: consumers, the dead-
 * letter file): whole lines on a full disk, failures counted apart from
 * records written, error lines rate-limited, a failed open tried again
 * after a back-off, no symbolic link followed, the mode asked for, and a
 * reopen by path after SIGHUP (log rotation). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "consumer.h"
#include "deadletter.h"
#include "hashspace/error.h"
#include "log.h"
#include "msg.h"
#include "outfile.h"

static char dir[] = "/tmp/hs-test-files-XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A path in the test's directory; the last 16 answers stay valid. */
static const char *path(const char *name)
{
    static char bufs[16][512];
    static int next;
    char *buf = bufs[next++ % 16];
    snprintf(buf, sizeof bufs[0], "%s/%s", dir, name);
    return buf;
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Every line of the file parses as JSON; returns how many, and each line's
 * body.msg_id (or its "n" for dead-letter records) in ids if not NULL. */
static size_t whole_lines(const char *file, char ids[][64], size_t max)
{
    FILE *f = fopen(file, "r");
    if (f == NULL)
        return 0;
    size_t n = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] != '\n')
            fail_msg("%s: line %zu has no newline: a partial line", file, n + 1);
        json_error_t e;
        json_t *o = json_loads(line, 0, &e);
        if (o == NULL)
            fail_msg("%s: line %zu is not JSON (%s): %.80s", file, n + 1, e.text, line);
        const char *id = json_string_value(json_object_get(json_object_get(o, "body"), "msg_id"));
        if (ids != NULL && n < max)
            snprintf(ids[n], 64, "%s", id != NULL ? id : "");
        json_decref(o);
        n++;
    }
    free(line);
    fclose(f);
    return n;
}

static hs__consumer *file_consumer(const char *name, const char *file, unsigned mode,
                                   unsigned tries, hs__deadletter *dl)
{
    hs__consumer_spec spec = {.name = (char *)name,
                              .glob = "*",
                              .kind = "file",
                              .arg = (char *)file,
                              .workers = 1,
                              .queue_size = 1024,
                              .on_full = HS__ON_FULL_BLOCK,
                              .max_tries = tries,
                              .file_mode = mode};
    hs__consumer *c;
    char err[256];
    assert_int_equal(hs__consumer_new(&c, &spec, dl, err, sizeof err), HS_OK);
    return c;
}

/* A message of about 330 bytes with msg_id "NAME-N". */
static void route(hs__consumer *c, const char *name, int n)
{
    char body[400];
    int len = snprintf(body, sizeof body, "{\"msg_id\":\"%s-%d\",\"msg\":{\"pad\":\"%0300d\"}}",
                       name, n, 0);
    hs__msg *m = hs__msg_new("org.files", 9, body, (size_t)len, 0, 1);
    assert_non_null(m);
    assert_int_equal(hs__consumer_route(c, m, hs__monotonic_ns(), NULL), HS_OK);
}

static void finish(hs__consumer *c)
{
    hs__consumer_close(c, 0);
    assert_int_equal(hs__consumer_join(c, 0), 0);
}

static hs__deadletter_rec record(const char *topic)
{
    hs__deadletter_rec rec = {.reason = "no_key",
                              .error = "the key is not in the body",
                              .topic = topic,
                              .topic_len = strlen(topic),
                              .body = "{\"msg_id\":\"dl\"}",
                              .body_len = 15,
                              .body_total = 15,
                              .frames = 2};
    return rec;
}

/* stderr into a file while the hub's code logs. */
static int capture_begin(const char *file)
{
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, STDERR_FILENO);
    close(fd);
    return saved;
}

static void capture_end(int saved)
{
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
}

static size_t lines_containing(const char *file, const char *text)
{
    FILE *f = fopen(file, "r");
    assert_non_null(f);
    size_t n = 0, cap = 0;
    char *line = NULL;
    while (getline(&line, &cap, f) > 0)
        n += strstr(line, text) != NULL;
    free(line);
    fclose(f);
    return n;
}

/* Item 4: the file fills up (RLIMIT_FSIZE: writes past the limit are cut
 * short, then fail with EFBIG, as on a full disk). Every line in the file is
 * whole; a message is either in it (ok) or failed (dead-lettered); and once
 * there is room again the next lines do not merge with a fragment. */
#define FULL_MESSAGES 60
#define FULL_LIMIT 8000

static void test_file_sink_full_disk_leaves_only_whole_lines(void **state)
{
    (void)state;
    hs__deadletter *dl;
    char err[256];
    assert_int_equal(hs__deadletter_new(&dl, "none", err, sizeof err), HS_OK);
    const char *out = path("full.jsonl");
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_IGN);

    hs__consumer *c = file_consumer("full", out, 0, 2, dl);
    assert_int_equal(hs__consumer_start(c, err, sizeof err), HS_OK);
    struct rlimit small = {FULL_LIMIT, old.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    for (int i = 0; i < FULL_MESSAGES; i++)
        route(c, "a", i);
    finish(c);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    uint64_t ok = atomic_load(&c->ok), failed = atomic_load(&c->failed);
    hs__consumer_free(c);
    print_message("full file: %llu ok, %llu failed\n", (unsigned long long)ok,
                  (unsigned long long)failed);
    assert_true(ok > 0 && failed > 0);
    assert_int_equal(ok + failed, FULL_MESSAGES);
    assert_int_equal(hs__deadletter_count(dl), failed);
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_true(st.st_size <= FULL_LIMIT);
    static char ids[FULL_MESSAGES + 10][64];
    assert_int_equal(whole_lines(out, ids, FULL_MESSAGES), ok);
    /* The first ok messages, in order: a line is there exactly when its
     * message was counted ok. */
    for (uint64_t i = 0; i < ok; i++) {
        char want[64];
        snprintf(want, sizeof want, "a-%llu", (unsigned long long)i);
        assert_string_equal(ids[i], want);
    }

    /* Room again: the next lines start on a line of their own. */
    c = file_consumer("full", out, 0, 2, dl);
    assert_int_equal(hs__consumer_start(c, err, sizeof err), HS_OK);
    for (int i = 0; i < 10; i++)
        route(c, "b", i);
    finish(c);
    assert_int_equal(atomic_load(&c->ok), 10);
    hs__consumer_free(c);
    assert_int_equal(whole_lines(out, ids, FULL_MESSAGES + 10), ok + 10);
    assert_string_equal(ids[ok], "b-0");
    hs__deadletter_free(dl);
}

/* Item 5: a dead-letter file on a full device takes nothing: every record
 * is a failure, none is counted dead-lettered, and the error lines are
 * rate-limited. */
#define DL_RECORDS 300

static void test_deadletter_full_device_counts_failures_not_records(void **state)
{
    (void)state;
    hs__deadletter *dl;
    char err[256];
    assert_int_equal(hs__deadletter_new(&dl, "file:/dev/full", err, sizeof err), HS_OK);
    const char *log = path("full-device.log");
    int saved = capture_begin(log);
    hs__deadletter_rec rec = record("org.full");
    uint64_t t0 = hs__monotonic_ns();
    for (int i = 0; i < DL_RECORDS; i++)
        hs__deadletter_write(dl, &rec);
    double took = (double)(hs__monotonic_ns() - t0) / 1e9;
    capture_end(saved);
    print_message("/dev/full: %llu written, %llu failures\n",
                  (unsigned long long)hs__deadletter_count(dl),
                  (unsigned long long)hs__deadletter_failures(dl));
    assert_int_equal(hs__deadletter_count(dl), 0);
    assert_int_equal(hs__deadletter_failures(dl), DL_RECORDS);
    size_t errors = lines_containing(log, "dead letter: cannot write to /dev/full");
    print_message("error lines: %zu for %d failures in %.3f s\n", errors, DL_RECORDS, took);
    assert_true(errors >= 1);
    assert_true(errors <= HS__LOG_BAD_BURST + (size_t)(took * HS__LOG_BAD_PER_SEC) + 1);
    /* The records themselves went to stderr as a last resort. */
    assert_int_equal(lines_containing(log, "\"reason\":\"no_key\""), DL_RECORDS);
    hs__deadletter_free(dl);
}

/* Item 5: a failed open is tried again at a later record, after a back-off
 * (not at every record: the directory appears, and the very next record
 * still does not create the file). */
static void test_deadletter_open_is_retried_after_a_back_off(void **state)
{
    (void)state;
    const char *sub = path("later");
    const char *file = path("later/dead.jsonl");
    char spec[600], err[256];
    snprintf(spec, sizeof spec, "file:%s", file);
    hs__deadletter *dl;
    assert_int_equal(hs__deadletter_new(&dl, spec, err, sizeof err), HS_OK);
    hs__deadletter_rec rec = record("org.later");
    int saved = capture_begin(path("later.log"));
    hs__deadletter_write(dl, &rec); /* no directory: fails */
    assert_int_equal(mkdir(sub, 0700), 0);
    hs__deadletter_write(dl, &rec); /* within the back-off: not tried */
    capture_end(saved);
    assert_int_equal(hs__deadletter_count(dl), 0);
    assert_int_equal(hs__deadletter_failures(dl), 2);
    assert_int_equal(access(file, F_OK), -1);
    assert_true(lines_containing(path("later.log"), "cannot open") >= 1);
    sleep_ms(150);
    hs__deadletter_write(dl, &rec);
    hs__deadletter_write(dl, &rec);
    assert_int_equal(hs__deadletter_count(dl), 2);
    assert_int_equal(hs__deadletter_failures(dl), 2);
    assert_int_equal(whole_lines(file, NULL, 0), 2);
    hs__deadletter_free(dl);
}

/* Item 5: one transient EMFILE at the first record does not send every
 * later record to stderr for good. */
static void test_deadletter_open_is_retried_after_emfile(void **state)
{
    (void)state;
    const char *file = path("emfile.jsonl");
    char spec[600], err[256];
    snprintf(spec, sizeof spec, "file:%s", file);
    hs__deadletter *dl;
    assert_int_equal(hs__deadletter_new(&dl, spec, err, sizeof err), HS_OK);
    hs__deadletter_rec rec = record("org.emfile");
    int saved = capture_begin(path("emfile.log"));
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    int probe = open("/dev/null", O_RDONLY);
    assert_true(probe >= 0);
    close(probe);
    struct rlimit none_free = {(rlim_t)probe, old.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &none_free), 0);
    hs__deadletter_write(dl, &rec);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    capture_end(saved);
    assert_int_equal(hs__deadletter_failures(dl), 1);
    assert_true(lines_containing(path("emfile.log"), "Too many open files") >= 1);
    sleep_ms(150);
    for (int i = 0; i < 3; i++)
        hs__deadletter_write(dl, &rec);
    assert_int_equal(hs__deadletter_count(dl), 3);
    assert_int_equal(whole_lines(file, NULL, 0), 3);
    hs__deadletter_free(dl);
}

/* Item 14: a symbolic link planted where a file should be is refused with
 * a sentence, by the file sink and by the dead-letter file, and the file it
 * points to is neither created nor written. */
static void test_files_refuse_a_symbolic_link(void **state)
{
    (void)state;
    const char *target = path("target.jsonl");
    const char *link = path("planted.jsonl");
    assert_int_equal(symlink(target, link), 0);
    char err[600];
    assert_int_equal(hs__outfile_open(link, 0640, err, sizeof err), -1);
    assert_int_equal(errno, ELOOP);
    assert_non_null(strstr(err, "is a symbolic link"));

    hs__deadletter *none;
    assert_int_equal(hs__deadletter_new(&none, "none", err, sizeof err), HS_OK);
    hs__consumer *c = file_consumer("planted", link, 0, 1, none);
    assert_int_not_equal(hs__consumer_start(c, err, sizeof err), HS_OK);
    print_message("%s\n", err);
    assert_non_null(strstr(err, "consumer 'planted': file: "));
    assert_non_null(strstr(err, "planted.jsonl is a symbolic link; the hub does not follow"));
    hs__consumer_free(c);
    hs__deadletter_free(none);

    char spec[600];
    snprintf(spec, sizeof spec, "file:%s", link);
    hs__deadletter *dl;
    assert_int_equal(hs__deadletter_new(&dl, spec, err, sizeof err), HS_OK);
    hs__deadletter_rec rec = record("org.planted");
    int saved = capture_begin(path("planted.log"));
    hs__deadletter_write(dl, &rec);
    capture_end(saved);
    assert_int_equal(hs__deadletter_count(dl), 0);
    assert_int_equal(hs__deadletter_failures(dl), 1);
    assert_true(lines_containing(path("planted.log"), "is a symbolic link") >= 1);
    hs__deadletter_free(dl);
    assert_int_equal(access(target, F_OK), -1);
}

static unsigned mode_of(const char *file)
{
    struct stat st;
    assert_int_equal(stat(file, &st), 0);
    return (unsigned)(st.st_mode & 07777);
}

/* Item 14: files the hub creates get the mode asked for (default 0640),
 * whatever the umask; an existing file keeps its own. */
static void test_files_are_created_with_the_mode_asked(void **state)
{
    (void)state;
    mode_t old_umask = umask(022);
    char err[600];
    hs__deadletter *none;
    assert_int_equal(hs__deadletter_new(&none, "none", err, sizeof err), HS_OK);
    hs__consumer *c = file_consumer("dflt", path("default.jsonl"), 0, 1, none);
    assert_int_equal(hs__consumer_start(c, err, sizeof err), HS_OK);
    finish(c);
    hs__consumer_free(c);
    assert_int_equal(mode_of(path("default.jsonl")), 0640);
    c = file_consumer("grp", path("group.jsonl"), 0660, 1, none);
    assert_int_equal(hs__consumer_start(c, err, sizeof err), HS_OK);
    finish(c);
    hs__consumer_free(c);
    assert_int_equal(mode_of(path("group.jsonl")), 0660);
    hs__deadletter_free(none);

    char spec[600];
    snprintf(spec, sizeof spec, "file:%s", path("dead-default.jsonl"));
    hs__deadletter *dl;
    hs__deadletter_rec rec = record("org.mode");
    assert_int_equal(hs__deadletter_new(&dl, spec, err, sizeof err), HS_OK);
    hs__deadletter_write(dl, &rec);
    hs__deadletter_free(dl);
    assert_int_equal(mode_of(path("dead-default.jsonl")), 0640);
    snprintf(spec, sizeof spec, "file:%s", path("dead-private.jsonl"));
    assert_int_equal(hs__deadletter_new(&dl, spec, err, sizeof err), HS_OK);
    hs__deadletter_set_file_mode(dl, 0600);
    hs__deadletter_write(dl, &rec);
    hs__deadletter_free(dl);
    assert_int_equal(mode_of(path("dead-private.jsonl")), 0600);

    /* An existing file is the operator's: its mode stays. */
    int fd = open(path("existing.jsonl"), O_WRONLY | O_CREAT, 0604);
    close(fd);
    chmod(path("existing.jsonl"), 0604);
    fd = hs__outfile_open(path("existing.jsonl"), 0640, err, sizeof err);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(mode_of(path("existing.jsonl")), 0604);

    unsigned mode;
    assert_int_equal(hs__outfile_parse_mode("0640", &mode), 0);
    assert_int_equal(mode, 0640);
    assert_int_equal(hs__outfile_parse_mode("600", &mode), 0);
    assert_int_equal(mode, 0600);
    assert_int_equal(hs__outfile_parse_mode("0400", &mode), -1); /* owner cannot write */
    assert_int_equal(hs__outfile_parse_mode("01640", &mode), -1);
    assert_int_equal(hs__outfile_parse_mode("0648", &mode), -1);
    assert_int_equal(hs__outfile_parse_mode("rw-r-----", &mode), -1);
    umask(old_umask);
}

static void wait_ok(hs__consumer *c, uint64_t n)
{
    for (int i = 0; i < 500 && atomic_load(&c->ok) < n; i++)
        sleep_ms(10);
    assert_int_equal(atomic_load(&c->ok), n);
}

/* Item 2: after a rotation (rename, then the reopen SIGHUP asks for) the
 * next lines go to a new file at the path; none is lost or doubled. */
static void test_files_reopen_by_path_after_rotation(void **state)
{
    (void)state;
    char err[600], spec[600];
    char dead[512], out[512];
    snprintf(dead, sizeof dead, "%s", path("rotate-dead.jsonl"));
    snprintf(out, sizeof out, "%s", path("rotate.jsonl"));
    snprintf(spec, sizeof spec, "file:%s", dead);
    hs__deadletter *dl;
    assert_int_equal(hs__deadletter_new(&dl, spec, err, sizeof err), HS_OK);
    hs__consumer *c = file_consumer("rot", out, 0, 1, dl);
    assert_int_equal(hs__consumer_start(c, err, sizeof err), HS_OK);
    hs__deadletter_rec rec = record("org.rotate");
    for (int i = 0; i < 5; i++)
        route(c, "r", i);
    wait_ok(c, 5);
    hs__deadletter_write(dl, &rec);
    assert_int_equal(rename(out, path("rotate.jsonl.1")), 0);
    assert_int_equal(rename(dead, path("rotate-dead.jsonl.1")), 0);
    hs__outfile_reopen_all();
    for (int i = 5; i < 12; i++)
        route(c, "r", i);
    hs__deadletter_write(dl, &rec);
    hs__deadletter_write(dl, &rec);
    finish(c);
    assert_int_equal(atomic_load(&c->ok), 12);
    hs__consumer_free(c);
    static char ids[16][64];
    assert_int_equal(whole_lines(path("rotate.jsonl.1"), ids, 16), 5);
    assert_string_equal(ids[4], "r-4");
    assert_int_equal(whole_lines(out, ids, 16), 7);
    assert_string_equal(ids[0], "r-5");
    assert_int_equal(whole_lines(path("rotate-dead.jsonl.1"), NULL, 0), 1);
    assert_int_equal(whole_lines(dead, NULL, 0), 2);
    assert_int_equal(hs__deadletter_count(dl), 3);
    hs__deadletter_free(dl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_sink_full_disk_leaves_only_whole_lines),
        cmocka_unit_test(test_deadletter_full_device_counts_failures_not_records),
        cmocka_unit_test(test_deadletter_open_is_retried_after_a_back_off),
        cmocka_unit_test(test_deadletter_open_is_retried_after_emfile),
        cmocka_unit_test(test_files_refuse_a_symbolic_link),
        cmocka_unit_test(test_files_are_created_with_the_mode_asked),
        cmocka_unit_test(test_files_reopen_by_path_after_rotation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
