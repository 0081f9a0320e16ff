/* probe_plugin.c - the consumer plugin hub_ingest loads into the hub it
 * measures: it counts messages, records when the last expected one was
 * processed, optionally the publish-to-consumer latency of each, and can
 * hold every message (to measure the memory of a full queue).
 *
 * Argument (after the plugin path): comma-separated, in any order,
 *   out=PATH    where the results go (required with count)
 *   count=N     when the N-th message is processed, write PATH: the line
 *               "done NS" (CLOCK_MONOTONIC), then with stamps one latency
 *               in ns per message, in arrival order (written to PATH.tmp
 *               and renamed, so a reader never sees half a file)
 *   stamps      the topic ends with the publish time, CLOCK_MONOTONIC ns
 *               in 19 digits: record now - stamp
 *   hold=PATH   consume waits until PATH exists (checked every 5 ms)
 *
 * DESIGN: the benchmark runs the hub with one worker, so one instance sees
 * every message; the state is that worker's and needs no lock.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hashspace/consumer.h"
#include "clock.h"

typedef struct probe {
    char *out, *hold;
    uint64_t want, got;
    uint64_t *latency_ns; /* want entries when stamps */
} probe;

static void probe_fini(void *state)
{
    probe *p = state;
    free(p->out);
    free(p->hold);
    free(p->latency_ns);
    free(p);
}

static int probe_init(void **state, const char *arg)
{
    probe *p = calloc(1, sizeof *p);
    char *copy = strdup(arg != NULL ? arg : "");
    if (p == NULL || copy == NULL) {
        free(p);
        free(copy);
        return ENOMEM;
    }
    bool stamps = false;
    int rc = 0;
    for (char *save, *tok = strtok_r(copy, ",", &save); tok != NULL && rc == 0;
         tok = strtok_r(NULL, ",", &save)) {
        if (strncmp(tok, "out=", 4) == 0)
            rc = (p->out = strdup(tok + 4)) == NULL ? ENOMEM : 0;
        else if (strncmp(tok, "hold=", 5) == 0)
            rc = (p->hold = strdup(tok + 5)) == NULL ? ENOMEM : 0;
        else if (strncmp(tok, "count=", 6) == 0)
            p->want = strtoull(tok + 6, NULL, 10);
        else if (strcmp(tok, "stamps") == 0)
            stamps = true;
        else
            rc = EINVAL;
    }
    free(copy);
    if (rc == 0 && p->want > 0 && p->out == NULL)
        rc = EINVAL;
    if (rc == 0 && stamps && p->want > 0 &&
        (p->latency_ns = calloc(p->want, sizeof *p->latency_ns)) == NULL)
        rc = ENOMEM;
    if (rc != 0) {
        probe_fini(p);
        return rc;
    }
    *state = p;
    return 0;
}

static uint64_t topic_stamp(const hs_message *msg)
{
    uint64_t stamp = 0;
    size_t len = msg->topic_len;
    for (size_t i = len >= 19 ? len - 19 : 0; i < len; i++)
        if (msg->topic[i] >= '0' && msg->topic[i] <= '9')
            stamp = stamp * 10 + (uint64_t)(msg->topic[i] - '0');
    return stamp;
}

static void write_results(const probe *p, uint64_t done_ns)
{
    size_t n = strlen(p->out) + 5;
    char *tmp = malloc(n);
    if (tmp == NULL)
        return;
    snprintf(tmp, n, "%s.tmp", p->out);
    FILE *f = fopen(tmp, "w");
    if (f != NULL) {
        fprintf(f, "done %llu\n", (unsigned long long)done_ns);
        for (uint64_t i = 0; p->latency_ns != NULL && i < p->want; i++)
            fprintf(f, "%llu\n", (unsigned long long)p->latency_ns[i]);
        if (fclose(f) == 0)
            rename(tmp, p->out);
    }
    free(tmp);
}

static int probe_consume(void *state, const hs_message *msg)
{
    probe *p = state;
    uint64_t now = hs__monotonic_ns();
    if (p->hold != NULL) {
        for (int i = 0; i < 12000 && access(p->hold, F_OK) != 0; i++) {
            struct timespec pause = {0, 5000000};
            nanosleep(&pause, NULL);
        }
    }
    if (p->got < p->want) {
        if (p->latency_ns != NULL) {
            uint64_t stamp = topic_stamp(msg);
            p->latency_ns[p->got] = now > stamp ? now - stamp : 0;
        }
        if (++p->got == p->want)
            write_results(p, now);
    }
    return 0;
}

static const hs_consumer_plugin probe_plugin = {
    .abi_version = HS_CONSUMER_ABI_VERSION,
    .name = "hub_ingest_probe",
    .init = probe_init,
    .consume = probe_consume,
    .fini = probe_fini,
};

const hs_consumer_plugin *hs_consumer_plugin_v1(void)
{
    return &probe_plugin;
}
