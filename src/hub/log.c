/* log.c - levelled, rate-limited log lines on stderr.
 *
 * DESIGN: the level and tag are set once before threads start and only read
 * afterwards. The bad-input token bucket is guarded by bucket_lock; it is
 * only taken on the bad-input path, never on the hot path of good messages.
 */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static hs__log_level min_level = HS__LOG_INFO;
static char log_tag[128];

static pthread_mutex_t bucket_lock = PTHREAD_MUTEX_INITIALIZER;
static double bucket_tokens = HS__LOG_BAD_BURST;
static double bucket_refilled_s;
static unsigned long long bucket_suppressed;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void hs__log_setup(hs__log_level min, const char *tag)
{
    min_level = min;
    snprintf(log_tag, sizeof log_tag, "%s%s", tag != NULL ? tag : "", tag != NULL ? " " : "");
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
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
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

void hs__log_bad(const char *fmt, ...)
{
    if (HS__LOG_WARN < min_level)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    unsigned long long suppressed = 0;
    int pass;
    pthread_mutex_lock(&bucket_lock);
    bucket_tokens += (now - bucket_refilled_s) * HS__LOG_BAD_PER_SEC;
    if (bucket_tokens > HS__LOG_BAD_BURST)
        bucket_tokens = HS__LOG_BAD_BURST;
    bucket_refilled_s = now;
    pass = bucket_tokens >= 1.0;
    if (pass) {
        bucket_tokens -= 1.0;
        suppressed = bucket_suppressed;
        bucket_suppressed = 0;
    } else {
        bucket_suppressed++;
    }
    pthread_mutex_unlock(&bucket_lock);
    if (!pass)
        return;
    char suffix[96] = "";
    if (suppressed > 0)
        snprintf(suffix, sizeof suffix, " (%llu similar lines suppressed)", suppressed);
    va_list ap;
    va_start(ap, fmt);
    vlog(HS__LOG_WARN, suffix, fmt, ap);
    va_end(ap);
}
