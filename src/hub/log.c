/* log.c - levelled, rate-limited log lines on stderr.
 *
 * DESIGN: the level and tag are set once before threads start and only read
 * afterwards. Each token bucket (the bad-input one here, others owned by
 * their callers) is guarded by its own lock, taken only on the path of the
 * lines it limits, never on the hot path of good messages.
 */
#include "log.h"

#include "clock.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static hs__log_level min_level = HS__LOG_INFO;
static char log_tag[128];
/* stderr is the journal: lines carry a syslog priority ("<3>") instead of a
 * timestamp, which journald records itself. */
static int to_journal;

static hs__log_rate bad_input = HS__LOG_RATE_INIT;

static const char *const level_names[] = {"debug", "info", "warn", "error"};
/* sd-daemon(3) priorities: LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR. */
static const int journal_priorities[] = {7, 6, 4, 3};

/* systemd sets JOURNAL_STREAM to "DEVICE:INODE" of the stream it connected
 * stderr to; a redirection since then (a shell's 2>file) makes them differ. */
static int stderr_is_journal(void)
{
    const char *stream = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (stream == NULL || sscanf(stream, "%llu:%llu", &dev, &ino) != 2 ||
        fstat(STDERR_FILENO, &st) != 0)
        return 0;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void hs__log_setup(hs__log_level min, const char *tag)
{
    min_level = min;
    snprintf(log_tag, sizeof log_tag, "%s%s", tag != NULL ? tag : "", tag != NULL ? " " : "");
    to_journal = stderr_is_journal();
}

int hs__log_level_parse(const char *name, hs__log_level *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, level_names[i]) == 0) {
            *out = (hs__log_level)i;
            return 0;
        }
    return -1;
}

static void vlog(hs__log_level level, const char *suffix, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (to_journal) {
        fprintf(stderr, "<%d>%s%s: %s%s\n", journal_priorities[level], log_tag, level_names[level],
                msg, suffix);
        return;
    }
    struct timespec ts = hs__timespec(hs__realtime_ns());
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ldZ %s%s: %s%s\n", when, ts.tv_nsec / 1000000, log_tag,
            level_names[level], msg, suffix);
}

void hs__log(hs__log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, "", fmt, ap);
    va_end(ap);
}

void hs__log_rate_init(hs__log_rate *rate)
{
    pthread_mutex_init(&rate->lock, NULL);
    rate->tokens = HS__LOG_BAD_BURST;
    rate->refilled_s = 0;
    rate->suppressed = 0;
}

void hs__log_rate_destroy(hs__log_rate *rate)
{
    pthread_mutex_destroy(&rate->lock);
}

static void vlog_rated(hs__log_rate *rate, hs__log_level level, const char *fmt, va_list ap)
{
    if (level < min_level)
        return;
    double now = hs__monotonic_s();
    unsigned long long suppressed = 0;
    int pass;
    pthread_mutex_lock(&rate->lock);
    rate->tokens += (now - rate->refilled_s) * HS__LOG_BAD_PER_SEC;
    if (rate->tokens > HS__LOG_BAD_BURST)
        rate->tokens = HS__LOG_BAD_BURST;
    rate->refilled_s = now;
    pass = rate->tokens >= 1.0;
    if (pass) {
        rate->tokens -= 1.0;
        suppressed = rate->suppressed;
        rate->suppressed = 0;
    } else {
        rate->suppressed++;
    }
    pthread_mutex_unlock(&rate->lock);
    if (!pass)
        return;
    char suffix[96] = "";
    if (suppressed > 0)
        snprintf(suffix, sizeof suffix, " (%llu similar lines suppressed)", suppressed);
    vlog(level, suffix, fmt, ap);
}

void hs__log_rated(hs__log_rate *rate, hs__log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog_rated(rate, level, fmt, ap);
    va_end(ap);
}

void hs__log_bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog_rated(&bad_input, HS__LOG_WARN, fmt, ap);
    va_end(ap);
}
