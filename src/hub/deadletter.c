/* deadletter.c - JSON-line records of undeliverable messages.
 *
 * DESIGN: written from the ingress thread and every worker; lock guards the
 * file (opened lazily, so a hub that never dead-letters leaves no file) and
 * makes each record one write. count is atomic for the metrics thread.
 */
#include "deadletter.h"

#include "jsonline.h"
#include "log.h"

#include "hashspace/error.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct hs__deadletter {
    pthread_mutex_t lock;
    int fd; /* -1 until opened; STDERR_FILENO for stderr */
    bool to_file, to_stderr, open_failed;
    char *path;
    char *describe;
    atomic_uint_fast64_t count;
};

int hs__deadletter_new(hs__deadletter **out, const char *spec, char *err, size_t errlen)
{
    hs__deadletter *dl = calloc(1, sizeof *dl);
    if (dl == NULL)
        return HS_ENOMEM;
    dl->fd = -1;
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
    pthread_mutex_init(&dl->lock, NULL);
    atomic_init(&dl->count, 0);
    *out = dl;
    return HS_OK;
}

void hs__deadletter_free(hs__deadletter *dl)
{
    if (dl == NULL)
        return;
    if (dl->to_file && dl->fd >= 0)
        close(dl->fd);
    pthread_mutex_destroy(&dl->lock);
    free(dl->path);
    free(dl->describe);
    free(dl);
}

uint64_t hs__deadletter_count(const hs__deadletter *dl)
{
    return atomic_load_explicit(&dl->count, memory_order_relaxed);
}

const char *hs__deadletter_describe(const hs__deadletter *dl)
{
    return dl->describe;
}

static char *format_record(const hs__deadletter_rec *rec, size_t *len)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    char when[32];
    time_t secs = (time_t)(rec->received_ns / 1000000000u);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    char stamp[48];
    snprintf(stamp, sizeof stamp, "%s.%06luZ", when,
             (unsigned long)(rec->received_ns % 1000000000u / 1000u));
    bool cut = rec->body_len < rec->body_total;
    int bad = json_object_set_new(o, "reason", json_string(rec->reason));
    bad |= json_object_set_new(o, "received", json_string(stamp));
    if (rec->consumer != NULL)
        bad |= json_object_set_new(o, "consumer", json_string(rec->consumer));
    if (rec->error != NULL)
        bad |= json_object_set_new(o, "error", json_string(rec->error));
    if (rec->attempts > 0)
        bad |= json_object_set_new(o, "attempts", json_integer(rec->attempts));
    if (rec->frames > 0)
        bad |= json_object_set_new(o, "frames", json_integer(rec->frames));
    bad |= hs__json_add_message(o, rec->topic, rec->topic_len, rec->body, rec->body_len, !cut);
    bad |= json_object_set_new(o, "body_len", json_integer((json_int_t)rec->body_total));
    if (cut)
        bad |= json_object_set_new(o, "truncated", json_true());
    char *line = bad == 0 ? hs__json_line(o, len) : NULL;
    json_decref(o);
    return line;
}

void hs__deadletter_write(hs__deadletter *dl, const hs__deadletter_rec *rec)
{
    atomic_fetch_add_explicit(&dl->count, 1, memory_order_relaxed);
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
    if (!dl->to_file && !dl->to_stderr)
        return;
    size_t len;
    char *line = format_record(rec, &len);
    if (line == NULL) {
        hs__error("dead letter: out of memory formatting a record (reason %s)", rec->reason);
        return;
    }
    pthread_mutex_lock(&dl->lock);
    if (dl->to_file && dl->fd < 0 && !dl->open_failed) {
        dl->fd = open(dl->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (dl->fd < 0) {
            dl->open_failed = true;
            hs__error("dead letter: cannot open %s: %s; records go to stderr", dl->path,
                      strerror(errno));
        }
    }
    int fd = dl->fd >= 0 ? dl->fd : STDERR_FILENO;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, line + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            hs__error("dead letter: write failed: %s", strerror(errno));
            break;
        }
        done += (size_t)n;
    }
    pthread_mutex_unlock(&dl->lock);
    free(line);
}
