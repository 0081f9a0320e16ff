/* sink_file.c - `file:PATH`: append each message as one JSON line
 * {"topic": ..., "body": ...} (the body as it came when it is JSON, else a
 * string or base64: the rule of jsonline.h). Each worker opens the file with O_APPEND and
 * writes a line whole or not at all (outfile.c), so the lines of several
 * workers (or hubs) sharing a file do not interleave, and a full disk fails
 * the attempt instead of leaving half a line. After SIGHUP the file is
 * reopened by path before the next write (log rotation).
 */
#include "sink.h"

#include "jsonline.h"
#include "log.h"
#include "outfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct file_sink {
    int fd;
    unsigned generation; /* the reopen generation fd was opened in */
    unsigned mode;
    const char *consumer;
    hs__jsonline line; /* reused for every message */
    char path[];
} file_sink;

static int file_open(void **state, const char *arg, const hs__sink_env *env, char *err,
                     size_t errlen)
{
    if (arg == NULL || arg[0] == '\0') {
        snprintf(err, errlen, "file: wants a path (file:PATH)");
        return HS_EINVAL;
    }
    size_t len = strlen(arg);
    file_sink *s = malloc(sizeof *s + len + 1);
    if (s == NULL)
        return HS_ENOMEM;
    memcpy(s->path, arg, len + 1);
    s->mode = env->file_mode != 0 ? env->file_mode : HS__DEFAULT_FILE_MODE;
    s->line = (hs__jsonline)HS__JSONLINE_INIT;
    s->consumer = env->consumer;
    s->generation = hs__outfile_generation();
    char why[600];
    s->fd = hs__outfile_open(s->path, s->mode, why, sizeof why);
    if (s->fd < 0) {
        snprintf(err, errlen, "file: %s", why);
        free(s);
        return HS_EIO;
    }
    *state = s;
    return HS_OK;
}

/* SIGHUP came: open the file at the path again (a rotated one has moved
 * away). If that fails, keep writing to the file open before: nothing is
 * lost, and the next SIGHUP tries again. */
static void reopen(file_sink *s, unsigned generation)
{
    s->generation = generation;
    char why[600];
    int fd = hs__outfile_open(s->path, s->mode, why, sizeof why);
    if (fd < 0) {
        hs__error("consumer %s: file: cannot reopen after SIGHUP: %s; still writing to the file "
                  "open before",
                  s->consumer != NULL ? s->consumer : "?", why);
        return;
    }
    close(s->fd);
    s->fd = fd;
}

static int file_consume(void *state, const hs_message *msg, char *err, size_t errlen)
{
    file_sink *s = state;
    unsigned generation = hs__outfile_generation();
    if (generation != s->generation)
        reopen(s, generation);
    const char *line;
    size_t len;
    hs__jsonline_start(&s->line);
    hs__jsonline_message(&s->line, msg->topic, msg->topic_len, msg->body, msg->body_len, true);
    if (hs__jsonline_end(&s->line, &line, &len) != 0) {
        snprintf(err, errlen, "file: out of memory");
        return HS_ENOMEM;
    }
    int e = hs__outfile_write_line(s->fd, line, len);
    if (e != 0) {
        snprintf(err, errlen, "file: cannot write to %s: %s (the line was not written)", s->path,
                 strerror(e));
        return HS_EIO;
    }
    return HS_OK;
}

static void file_close(void *state)
{
    file_sink *s = state;
    if (s == NULL)
        return;
    close(s->fd);
    hs__jsonline_free(&s->line);
    free(s);
}

const hs__sink_ops hs__sink_file = {"file", file_open, file_consume, file_close};
