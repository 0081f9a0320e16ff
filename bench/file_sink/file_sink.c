/* file_sink.c - CPU per message of the file: sink (hs__sink_file's consume:
 * encode the message as a JSON line and append it), on a ~300-byte fedmsg
 * body and a ~2 KiB one, each as it arrives (one line of JSON) and
 * pretty-printed (several lines). Only the sink's ops are used, so the same
 * file builds against an older tree to compare.
 *
 * The lines go to a file in $TMPDIR (default /tmp), truncated between runs.
 * Times are the thread's CPU time (bench_now_ns), the median of --repeat
 * runs: the write(2) is in them, the disk is not.
 */
#include "bench.h"
#include "sink.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A body of about size bytes: the fedmsg fields, then comments. */
static char *big_body(size_t size)
{
    char *b = malloc(size + 256);
    if (b == NULL)
        return NULL;
    size_t n = (size_t)sprintf(b, "{\"i\":7,\"msg\":{\"user\":\"user-4711\",\"comments\":[");
    for (int k = 0; n < size - 80; k++)
        n += (size_t)sprintf(b + n,
                             "%s{\"id\":%d,\"text\":\"looks \\\"good\\\" to me, caf\\u00e9\","
                             "\"ok\":true}",
                             k > 0 ? "," : "", k);
    sprintf(b + n, "]},\"msg_id\":\"2024-abc\",\"timestamp\":1700000000.25}");
    return b;
}

/* The same JSON spread over lines: a newline and two spaces after each ',',
 * '{' and '[' outside strings. */
static char *pretty(const char *json)
{
    size_t len = strlen(json);
    char *out = malloc(len * 4 + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = json[i];
        out[o++] = c;
        if (in_string) {
            if (c == '\\')
                out[o++] = json[++i];
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == ',' || c == '{' || c == '[') {
            memcpy(out + o, "\n  ", 3);
            o += 3;
        }
    }
    out[o] = '\0';
    return out;
}

/* ns of CPU per message over count messages; -1 when the sink fails. */
static double run(const char *path, const char *body, size_t count)
{
    hs__sink_env env = {.consumer = "bench"};
    void *sink;
    char err[512];
    if (truncate(path, 0) != 0 && unlink(path) != 0) {
        /* a first run: no file yet */
    }
    if (hs__sink_file.open(&sink, path, &env, err, sizeof err) != HS_OK) {
        fprintf(stderr, "file_sink: %s\n", err);
        return -1;
    }
    hs_message m = {"org.fedoraproject.prod.fas.user.update", 38, body, strlen(body), 0, 1};
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < count; i++)
        if (hs__sink_file.consume(sink, &m, err, sizeof err) != HS_OK) {
            fprintf(stderr, "file_sink: %s\n", err);
            hs__sink_file.close(sink);
            return -1;
        }
    double ns = (double)(bench_now_ns() - t0) / (double)count;
    hs__sink_file.close(sink);
    return ns;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"quick", no_argument, NULL, 'q'},
        {"count", required_argument, NULL, 'n'},
        {"repeat", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    size_t count = 200000, repeat = 5;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (opt == 'q')
            count = 2000, repeat = 1;
        else if (opt == 'n')
            count = strtoul(optarg, NULL, 10);
        else if (opt == 'r')
            repeat = strtoul(optarg, NULL, 10);
        else {
            printf("usage: file_sink [--quick] [--count N] [--repeat N]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    if (count == 0 || repeat == 0 || repeat > 99)
        return 2;
    const char *tmp = getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
    char path[512];
    snprintf(path, sizeof path, "%s/hs-bench-file-sink-%ld.jsonl", tmp, (long)getpid());
    char *big = big_body(2048);
    const char *names[4] = {"300 B, one line", "300 B, pretty", "2 KiB, one line", "2 KiB, pretty"};
    char *bodies[4] = {(char *)bench_fedmsg_body, pretty(bench_fedmsg_body), big, NULL};
    bodies[3] = big != NULL ? pretty(big) : NULL;
    int status = 0;
    printf("file: sink, CPU per message (median of %zu runs of %zu)\n", repeat, count);
    for (int b = 0; b < 4 && status == 0; b++) {
        if (bodies[b] == NULL) {
            status = 1;
            break;
        }
        double ns[99];
        for (size_t r = 0; r < repeat && status == 0; r++)
            if ((ns[r] = run(path, bodies[b], count)) < 0)
                status = 1;
        if (status != 0)
            break;
        printf("  %-16s %5zu bytes  %8.0f ns\n", names[b], strlen(bodies[b]),
               bench_median(ns, repeat));
    }
    unlink(path);
    free(bodies[1]);
    free(bodies[3]);
    free(big);
    return status;
}
