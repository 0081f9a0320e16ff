/* sink.h - consumer kinds: what a consumer worker does with a claimed message.
 *
 * A consumer spec on the command line is [GLOB=]KIND:ARG; KIND names one of
 * the sinks of HS_SINK_MAP below. Each consumer worker thread
 * opens its own instance with open(), calls consume() for every message it
 * takes from its queue, and close() at shutdown. An instance is used by one
 * thread only. Retries and dead-lettering are the worker's job: consume just
 * says whether this attempt succeeded. The registry (sink.c) is constant:
 * its functions are safe from any thread.
 */
#ifndef HS_HUB_SINK_H
#define HS_HUB_SINK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "hashspace/consumer.h"
#include "hashspace/error.h"

typedef struct hs__sink_env {
    const char *consumer;           /* the consumer's name, for log lines */
    double timeout_s;               /* per-message timeout (exec); 0 = none */
    atomic_uint_fast64_t *restarts; /* bumped when a child process is restarted */
    unsigned worker;                /* worker index within the consumer */
    /* exec: the process group of the current child (its pid), 0 when none.
     * Set before a child runs and cleared before it is reaped, so that the
     * main thread can stop the child of a worker stuck at shutdown. May be
     * NULL. */
    atomic_int *child_pgid;
    /* push: messages handed to libzmq for a peer that then disconnected,
     * and so possibly never delivered (an upper estimate). May be NULL. */
    atomic_uint_fast64_t *possibly_lost;
    unsigned file_mode; /* mode of files the sink creates (file:); 0 = 0640 */
} hs__sink_env;

typedef struct hs__sink_ops {
    const char *kind;
    /* Open one instance. arg is the text after "KIND:". On failure return an
     * hs_err and write a sentence for a person into err. */
    int (*open)(void **state, const char *arg, const hs__sink_env *env, char *err, size_t errlen);
    /* One attempt at one message: HS_OK, or an hs_err with err filled in. */
    int (*consume)(void *state, const hs_message *msg, char *err, size_t errlen);
    /* Accepts NULL. Waits for in-flight work (a child's last answer) briefly. */
    void (*close)(void *state);
} hs__sink_ops;

/* X(kind, usage): one line per consumer kind, in the order --help and the
 * errors list them; sink_<kind>.c defines hs__sink_<kind> (its ops, with
 * .kind = "<kind>"). usage is the spec's KIND:ARG as a person writes it.
 * Adding a kind: its file and one line here (docs/design.md). */
#define HS_SINK_MAP(X)                                                                             \
    X(exec, "exec:COMMAND ARGS...")                                                                \
    X(plugin, "plugin:PATH.so[,ARG]")                                                              \
    X(file, "file:PATH")                                                                           \
    X(push, "push:ENDPOINT")

#define HS__SINK_DECL(kind, usage) extern const hs__sink_ops hs__sink_##kind;
HS_SINK_MAP(HS__SINK_DECL)
#undef HS__SINK_DECL

enum {
#define HS__SINK_ENUM(kind, usage) HS__SINK_##kind,
    HS_SINK_MAP(HS__SINK_ENUM)
#undef HS__SINK_ENUM
        HS__SINKS /* how many kinds there are */
};

/* The sink for a kind name; NULL if unknown. */
const hs__sink_ops *hs__sink_find(const char *kind);
/* The kind's position in HS_SINK_MAP (0 .. HS__SINKS - 1), or -1. */
int hs__sink_index(const char *kind);
/* The sink at that position. */
const hs__sink_ops *hs__sink_at(int index);
/* "exec, plugin, file, push": for errors that list the kinds. */
const char *hs__sink_kinds(void);
/* Each kind's usage, one a line, indented by two spaces: for --help. */
const char *hs__sink_usages(void);

/* The exec sink's reading of one answer line from its child (a C string,
 * trimmed in place): HS_OK for "ok" or {"ok": true}, HS_EIO with the reason
 * in err for "fail [REASON]" or {"ok": false, "error": ...}, HS_EPARSE for
 * anything else. Pure; exposed for the fuzz target. */
int hs__exec_parse_answer(char *line, char *err, size_t errlen);

#endif
