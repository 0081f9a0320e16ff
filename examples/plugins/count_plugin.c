/* count_plugin.c - an example C consumer plugin: counts the messages it is
 * given and, when the consumer spec names a file (plugin:count_plugin.so,FILE),
 * appends one line per message to it: TOPIC<TAB>BODY_LENGTH<TAB>ATTEMPT.
 *
 * DESIGN: the hub calls init once per worker thread and consume / fini on
 * that thread only, so the per-worker state (a file descriptor) needs no
 * lock. The message counter is shared by all workers: a C11 atomic. Lines
 * are written with one write() on an O_APPEND descriptor, so lines from
 * several workers never interleave.
 *
 * Build: cc -shared -fPIC -I include -o count_plugin.so count_plugin.c
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hashspace/consumer.h"

/* Read by the tests through dlsym; a real plugin would keep it static. */
_Atomic uint64_t hs_count_plugin_total;

typedef struct count_state {
    int fd; /* -1 when no file was named */
} count_state;

static int count_init(void **state, const char *arg)
{
    count_state *s = malloc(sizeof *s);
    if (s == NULL)
        return ENOMEM;
    s->fd = -1;
    if (arg != NULL && *arg != '\0') {
        s->fd = open(arg, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (s->fd < 0) {
            int e = errno;
            free(s);
            return e;
        }
    }
    *state = s;
    return 0;
}

static int count_consume(void *state, const hs_message *msg)
{
    count_state *s = state;
    if (s->fd >= 0) {
        char line[512];
        int n = snprintf(line, sizeof line, "%.*s\t%zu\t%u\n",
                         (int)(msg->topic_len > 400 ? 400 : msg->topic_len), msg->topic,
                         msg->body_len, (unsigned)msg->attempt);
        if (n < 0 || write(s->fd, line, (size_t)n) != (ssize_t)n)
            return 1; /* the hub retries, then dead-letters the message */
    }
    atomic_fetch_add_explicit(&hs_count_plugin_total, 1, memory_order_relaxed);
    return 0;
}

static void count_fini(void *state)
{
    count_state *s = state;
    if (s->fd >= 0)
        close(s->fd);
    free(s);
}

static const hs_consumer_plugin count_plugin = {
    .abi_version = HS_CONSUMER_ABI_VERSION,
    .name = "count",
    .init = count_init,
    .consume = count_consume,
    .fini = count_fini,
};

const hs_consumer_plugin *hs_consumer_plugin_v1(void)
{
    return &count_plugin;
}
