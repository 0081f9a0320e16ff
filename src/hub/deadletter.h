/* deadletter.h - where messages go that the hub accepted but cannot deliver:
 * malformed input (no key, bad frames, oversize, ...) and messages a consumer
 * failed max_tries times. Nothing accepted is dropped silently: each one is
 * counted, logged (rate-limited) and, unless the sink is `none`, written.
 *
 * Sinks: `file:PATH` appends one JSON line per message (format in
 * docs/protocol.md), `stderr` writes the same lines to stderr, `none` only
 * counts and logs. The file is opened at the first record (outfile.h: no
 * symbolic link, the operator's mode); when it cannot be opened it is tried
 * again after a back-off (0.1 s doubling to 10 s), and after SIGHUP it is
 * reopened by path. A record is counted once: in count when it was written
 * whole (or, with `none`, only counted), else in failures (the file could
 * not be opened or written: a copy then goes to stderr as a last resort).
 *
 * Threads: hs__deadletter_write may be called from any thread (ingress and
 * workers); a mutex serialises the writes.
 */
#ifndef HS_HUB_DEADLETTER_H
#define HS_HUB_DEADLETTER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hs__deadletter hs__deadletter;

/* Bodies of oversize messages are cut to this many bytes in the record. */
#define HS__DEADLETTER_MAX_BODY 4096

/* Check the spec; the file is created at the first dead letter only. */
int hs__deadletter_new(hs__deadletter **out, const char *spec, char *err, size_t errlen);
void hs__deadletter_free(hs__deadletter *dl);

typedef struct hs__deadletter_rec {
    const char *reason;   /* "frames", "oversize", ..., or "failed" */
    const char *consumer; /* NULL for ingress */
    const char *error;    /* a sentence, or NULL */
    const char *topic;
    size_t topic_len;
    const char *body;
    size_t body_len;   /* bytes given (may be cut) */
    size_t body_total; /* bytes received */
    uint64_t received_ns;
    unsigned frames; /* frames of the message; 0 = 2 */
    unsigned attempts;
} hs__deadletter_rec;

/* Mode of the file when the hub creates it (default 0640); call before the
 * first record. */
void hs__deadletter_set_file_mode(hs__deadletter *dl, unsigned mode);

void hs__deadletter_write(hs__deadletter *dl, const hs__deadletter_rec *rec);
/* Records written (with `none`: recorded), and records that could not be. */
uint64_t hs__deadletter_count(const hs__deadletter *dl);
uint64_t hs__deadletter_failures(const hs__deadletter *dl);
/* Where the records go, for the startup log line and --check-config. */
const char *hs__deadletter_describe(const hs__deadletter *dl);

#endif
