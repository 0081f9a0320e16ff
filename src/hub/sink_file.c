/* sink_file.c - `file:PATH`: append each message as one JSON line
 * {"topic": ..., "body": ...} (the body as JSON when it parses, else a
 * string; see jsonline.h). Each worker opens the file with O_APPEND and
 * writes a line with one write(), so the lines of several workers (or hubs)
 * sharing a file do not interleave.
 */
#include "sink.h"

#include "jsonline.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct file_sink {
    int fd;
} file_sink;

static int file_open(void **state, const char *arg, const hs__sink_env *env, char *err,
                     size_t errlen)
{
    (void)env;
    if (arg == NULL || arg[0] == '\0') {
        snprintf(err, errlen, "file: wants a path (file:PATH)");
        return HS_EINVAL;
    }
    file_sink *s = malloc(sizeof *s);
    if (s == NULL)
        return HS_ENOMEM;
    s->fd = open(arg, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        snprintf(err, errlen, "file: cannot open %s: %s", arg, strerror(errno));
        free(s);
        return HS_EIO;
    }
    *state = s;
    return HS_OK;
}

static int file_consume(void *state, const hs_message *msg, char *err, size_t errlen)
{
    file_sink *s = state;
    json_t *o = json_object();
    size_t len = 0;
    char *line = NULL;
    if (o != NULL &&
        hs__json_add_message(o, msg->topic, msg->topic_len, msg->body, msg->body_len, true) == 0)
        line = hs__json_line(o, &len);
    json_decref(o);
    if (line == NULL) {
        snprintf(err, errlen, "file: out of memory");
        return HS_ENOMEM;
    }
    ssize_t n;
    do
        n = write(s->fd, line, len);
    while (n < 0 && errno == EINTR);
    int rc = HS_OK;
    if (n != (ssize_t)len) {
        snprintf(err, errlen, "file: write failed: %s", n < 0 ? strerror(errno) : "short write");
        rc = HS_EIO;
    }
    free(line);
    return rc;
}

static void file_close(void *state)
{
    file_sink *s = state;
    if (s == NULL)
        return;
    close(s->fd);
    free(s);
}

const hs__sink_ops hs__sink_file = {"file", file_open, file_consume, file_close};
