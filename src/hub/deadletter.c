/* deadletter.c - JSON-line records of undeliverable messages.
 *
 * DESIGN: written from the ingress thread and every worker; lock guards the
 * file (opened lazily, so a hub that never dead-letters leaves no file; a
 * failed open is tried again after a back-off; after SIGHUP it is reopened)
 * and makes each record one whole line. count and failures are atomics for
 * the metrics thread; errors has its own lock (log.c).
 */
#include "deadletter.h"

#include "jsonline.h"
#include "log.h"
#include "msg.h"
#include "outfile.h"

#include "hashspace/error.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A failed open is tried again at the next record after this long, doubled
 * at each failure up to the maximum: a missing directory costs one open()
 * every 10 s, and a transient EMFILE loses the file for 0.1 s. */
#define OPEN_BACKOFF_MIN_NS 100000000ull
#define OPEN_BACKOFF_MAX_NS 10000000000ull

struct hs__deadletter {
    pthread_mutex_t lock;
    int fd; /* -1 while closed; STDERR_FILENO for stderr */
    bool to_file, to_stderr;
    unsigned mode;            /* of a file the hub creates */
    unsigned generation;      /* the reopen generation fd was opened in */
    uint64_t next_open_ns;    /* CLOCK_MONOTONIC; 0 = at the next record */
    uint64_t open_backoff_ns; /* 0 until an open fails */
    char *path;
    char *describe;
    hs__log_rate errors;
    atomic_uint_fast64_t count, failures;
};

int hs__deadletter_new(hs__deadletter **out, const char *spec, char *err, size_t errlen)
{
    hs__deadletter *dl = calloc(1, sizeof *dl);
    if (dl == NULL)
        return HS_ENOMEM;
    dl->fd = -1;
    dl->mode = HS__DEFAULT_FILE_MODE;
    if (strncmp(spec, "file:", 5) == 0 && spec[5] != '\0') {
        dl->to_file = true;
        dl->path = strdup(spec + 5);
    } else if (strcmp(spec, "stderr") == 0) {
        dl->to_stderr = true;
        dl->fd = STDERR_FILENO;
    } else if (strcmp(spec, "none") != 0) {
        snprintf(err, errlen, "dead letter '%s': expected file:PATH, stderr or none", spec);
        free(dl);
        return HS_EPARSE;
    }
    dl->describe = strdup(spec);
    if ((dl->to_file && dl->path == NULL) || dl->describe == NULL) {
        free(dl->path);
        free(dl->describe);
        free(dl);
        return HS_ENOMEM;
    }
    dl->generation = hs__outfile_generation();
    pthread_mutex_init(&dl->lock, NULL);
    hs__log_rate_init(&dl->errors);
    atomic_init(&dl->count, 0);
    atomic_init(&dl->failures, 0);
    *out = dl;
    return HS_OK;
}

void hs__deadletter_set_file_mode(hs__deadletter *dl, unsigned mode)
{
    dl->mode = mode;
}

void hs__deadletter_free(hs__deadletter *dl)
{
    if (dl == NULL)
        return;
    if (dl->to_file && dl->fd >= 0)
        close(dl->fd);
    pthread_mutex_destroy(&dl->lock);
    hs__log_rate_destroy(&dl->errors);
    free(dl->path);
    free(dl->describe);
    free(dl);
}

uint64_t hs__deadletter_count(const hs__deadletter *dl)
{
    return atomic_load_explicit(&dl->count, memory_order_relaxed);
}

uint64_t hs__deadletter_failures(const hs__deadletter *dl)
{
    return atomic_load_explicit(&dl->failures, memory_order_relaxed);
}

const char *hs__deadletter_describe(const hs__deadletter *dl)
{
    return dl->describe;
}

/* The record as a JSON line in j (docs/protocol.md); -1 when out of memory. */
static int format_record(hs__jsonline *j, const hs__deadletter_rec *rec, const char **line,
                         size_t *len)
{
    char when[32];
    time_t secs = (time_t)(rec->received_ns / 1000000000u);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    char stamp[48];
    snprintf(stamp, sizeof stamp, "%s.%06luZ", when,
             (unsigned long)(rec->received_ns % 1000000000u / 1000u));
    bool cut = rec->body_len < rec->body_total;
    hs__jsonline_start(j);
    hs__jsonline_bytes(j, "reason", rec->reason, strlen(rec->reason));
    hs__jsonline_bytes(j, "received", stamp, strlen(stamp));
    if (rec->consumer != NULL)
        hs__jsonline_bytes(j, "consumer", rec->consumer, strlen(rec->consumer));
    if (rec->error != NULL)
        hs__jsonline_bytes(j, "error", rec->error, strlen(rec->error));
    if (rec->attempts > 0)
        hs__jsonline_int(j, "attempts", rec->attempts);
    if (rec->frames > 0)
        hs__jsonline_int(j, "frames", rec->frames);
    hs__jsonline_message(j, rec->topic, rec->topic_len, rec->body, rec->body_len, !cut);
    hs__jsonline_int(j, "body_len", (long long)rec->body_total);
    if (cut)
        hs__jsonline_raw(j, "truncated", "true", 4);
    return hs__jsonline_end(j, line, len);
}

/* The file, opened (again) if need be; -1 while it cannot be. Under lock. */
static int file_fd(hs__deadletter *dl)
{
    unsigned generation = hs__outfile_generation();
    if (generation != dl->generation) {
        /* SIGHUP: the next record goes to a file opened at the path now. */
        dl->generation = generation;
        if (dl->fd >= 0)
            close(dl->fd);
        dl->fd = -1;
        dl->next_open_ns = 0;
        dl->open_backoff_ns = 0;
    }
    if (dl->fd >= 0)
        return dl->fd;
    uint64_t now = hs__monotonic_ns();
    if (now < dl->next_open_ns)
        return -1;
    char why[600];
    dl->fd = hs__outfile_open(dl->path, dl->mode, why, sizeof why);
    if (dl->fd >= 0) {
        if (dl->open_backoff_ns > 0)
            hs__info("dead letter: %s is open again", dl->path);
        dl->open_backoff_ns = 0;
        return dl->fd;
    }
    dl->open_backoff_ns = dl->open_backoff_ns == 0 ? OPEN_BACKOFF_MIN_NS : 2 * dl->open_backoff_ns;
    if (dl->open_backoff_ns > OPEN_BACKOFF_MAX_NS)
        dl->open_backoff_ns = OPEN_BACKOFF_MAX_NS;
    dl->next_open_ns = now + dl->open_backoff_ns;
    hs__log_rated(&dl->errors, HS__LOG_ERROR,
                  "dead letter: %s; records go to stderr until it opens (next try in %.1f s)", why,
                  (double)dl->open_backoff_ns / 1e9);
    return -1;
}

void hs__deadletter_write(hs__deadletter *dl, const hs__deadletter_rec *rec)
{
    /* The topic as printable ASCII, so a hostile one cannot garble the log. */
    char shown[81];
    size_t shown_len = rec->topic_len < sizeof shown - 1 ? rec->topic_len : sizeof shown - 1;
    for (size_t i = 0; i < shown_len; i++) {
        unsigned char ch = (unsigned char)rec->topic[i];
        shown[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    shown[shown_len] = 0;
    hs__log_bad("dead letter (%s%s%s): topic '%s'%s%s", rec->reason,
                rec->consumer != NULL ? ", consumer " : "",
                rec->consumer != NULL ? rec->consumer : "", shown, rec->error != NULL ? ": " : "",
                rec->error != NULL ? rec->error : "");
    if (!dl->to_file && !dl->to_stderr) {
        atomic_fetch_add_explicit(&dl->count, 1, memory_order_relaxed);
        return;
    }
    /* Formatted outside the lock, in a line of its own: dead letters are
     * rare, and the writers (ingress, workers) must not wait on each other. */
    hs__jsonline j = HS__JSONLINE_INIT;
    const char *line;
    size_t len;
    if (format_record(&j, rec, &line, &len) != 0) {
        hs__jsonline_free(&j);
        atomic_fetch_add_explicit(&dl->failures, 1, memory_order_relaxed);
        hs__log_rated(&dl->errors, HS__LOG_ERROR,
                      "dead letter: out of memory formatting a record (reason %s): not written",
                      rec->reason);
        return;
    }
    pthread_mutex_lock(&dl->lock);
    int e = 0;
    if (dl->to_file) {
        int fd = file_fd(dl);
        e = fd >= 0 ? hs__outfile_write_line(fd, line, len) : -1;
        if (e == 0) {
            atomic_fetch_add_explicit(&dl->count, 1, memory_order_relaxed);
        } else {
            /* The file did not take it: a failure, whatever stderr does
             * with the copy written there as a last resort. */
            atomic_fetch_add_explicit(&dl->failures, 1, memory_order_relaxed);
            if (e > 0)
                hs__log_rated(&dl->errors, HS__LOG_ERROR,
                              "dead letter: cannot write to %s: %s; the record goes to stderr",
                              dl->path, strerror(e));
            hs__outfile_write_line(STDERR_FILENO, line, len);
        }
    } else if ((e = hs__outfile_write_line(STDERR_FILENO, line, len)) == 0) {
        atomic_fetch_add_explicit(&dl->count, 1, memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(&dl->failures, 1, memory_order_relaxed);
        hs__log_rated(&dl->errors, HS__LOG_ERROR, "dead letter: cannot write to stderr: %s",
                      strerror(e));
    }
    pthread_mutex_unlock(&dl->lock);
    hs__jsonline_free(&j);
}
