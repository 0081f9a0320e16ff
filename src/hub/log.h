/* log.h - the hub's one logging module: levels, one line per event on stderr.
 *
 * Lines look like "2026-11-22T02:52:12.123Z hub-a warn: message", or, when
 * stderr is systemd's journal ($JOURNAL_STREAM), "<4>hub-a warn: message":
 * the journal keeps the priority and adds the time itself. Lines about
 * bad input go through hs__log_bad(), which is rate-limited (a token bucket of
 * HS__LOG_BAD_BURST lines, refilled at HS__LOG_BAD_PER_SEC lines a second) so
 * a flood of malformed messages cannot fill a disk; suppressed lines are
 * counted and reported in the next line that gets through.
 *
 * Threads: every function may be called from any thread; a line is written
 * with one fprintf, so lines never interleave.
 */
#ifndef HS_HUB_LOG_H
#define HS_HUB_LOG_H

#include <pthread.h>

typedef enum hs__log_level {
    HS__LOG_DEBUG,
    HS__LOG_INFO,
    HS__LOG_WARN,
    HS__LOG_ERROR,
} hs__log_level;

#define HS__LOG_BAD_BURST 20
#define HS__LOG_BAD_PER_SEC 5

/* Set the minimum level and the tag put on each line (e.g. the hub's --self
 * name; copied, NULL for none), and look whether stderr is the journal. Call
 * before starting threads. */
void hs__log_setup(hs__log_level min, const char *tag);
/* Parse "debug", "info", "warn" or "error"; -1 if none. */
int hs__log_level_parse(const char *name, hs__log_level *out);

void hs__log(hs__log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A warning about bad input, rate-limited. */
void hs__log_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A token bucket of its own for one kind of repeated line (the dead-letter
 * sink's errors): HS__LOG_BAD_BURST lines, then HS__LOG_BAD_PER_SEC a
 * second, the suppressed ones counted in the next line that gets through.
 * Initialise with HS__LOG_RATE_INIT or hs__log_rate_init. */
typedef struct hs__log_rate {
    pthread_mutex_t lock;
    double tokens, refilled_s;
    unsigned long long suppressed;
} hs__log_rate;
#define HS__LOG_RATE_INIT                                                                          \
    {                                                                                              \
        PTHREAD_MUTEX_INITIALIZER, HS__LOG_BAD_BURST, 0, 0                                         \
    }
void hs__log_rate_init(hs__log_rate *rate);
void hs__log_rate_destroy(hs__log_rate *rate);
void hs__log_rated(hs__log_rate *rate, hs__log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define hs__debug(...) hs__log(HS__LOG_DEBUG, __VA_ARGS__)
#define hs__info(...) hs__log(HS__LOG_INFO, __VA_ARGS__)
#define hs__warn(...) hs__log(HS__LOG_WARN, __VA_ARGS__)
#define hs__error(...) hs__log(HS__LOG_ERROR, __VA_ARGS__)

#endif
