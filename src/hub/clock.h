/* clock.h - the one place that reads the clocks: nanoseconds of
 * CLOCK_MONOTONIC (durations, deadlines, ages) and of CLOCK_REALTIME
 * (timestamps a person or another host reads). Used by the hub, the CLI, the
 * load generator and the benchmarks. Pure reads: safe from any thread. */
#ifndef HS_HUB_CLOCK_H
#define HS_HUB_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t hs__realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t hs__monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CLOCK_MONOTONIC in seconds, for rates and timeouts given in seconds. */
static inline double hs__monotonic_s(void)
{
    return (double)hs__monotonic_ns() / 1e9;
}

/* A CLOCK_MONOTONIC or CLOCK_REALTIME time in ns as a struct timespec. */
static inline struct timespec hs__timespec(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    return ts;
}

#endif
