/* key_extract.c - how long finding a `json:/pointer` key takes: the scanner
 * the hub uses (hs__key_extract) against the jansson DOM path it replaced
 * (hs__key_extract_dom), side by side in one run, on a ~300-byte fedmsg body
 * and on a 4 KiB body whose key is near the end. Also the scanner on the body
 * cut right after the key's value: what a scanner that stopped at the key
 * would read, so the difference is the cost of validating the rest.
 *
 * Single-threaded; times are the thread's CPU time (bench_now_ns),
 * so other load on the machine inflates them less than wall time would.
 */
#include "bench.h"
#include "key.h"

#include "hashspace/error.h"

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The same fields as `hashspace pub` (and bench/peers_cluster) writes them,
 * fedmsg's unsigned order: the bus sequence last (300 bytes). */
static const char pub_body[] =
    "{\"topic\":\"org.fedoraproject.dev.hashspace.load\",\"msg\":{\"key\":\"key-4711\","
    "\"user\":\"user-4711\",\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxx\"},\"timestamp\":1796165896.3095126,\"msg_id\":\"2026-1f5bfaca-3ef8-400a-"
    "a5ea-853f3c19d7e7\",\"i\":1,\"username\":\"hashspace\"}";

/* bench/peers_cluster's body: pc_pub's fields and order, its send stamp
 * (19 digits, in a string) last, different in every body. */
static const char pc_body[] =
    "{\"topic\":\"org.fedoraproject.dev.hashspace.load\",\"msg\":{\"user\":\"user-4711\","
    "\"key\":\"key-4711\",\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"},"
    "\"timestamp\":1796165896.309512,\"msg_id\":\"2026-1f5bfaca-3ef8-400a-a5ea-853f3c19d7e7\","
    "\"i\":1,\"username\":\"hashspace\",\"sent\":\"0000001796165896309\"}";

/* A pull-request message of about `size` bytes, shaped like the bus's
 * (nested objects, lists of comments with escapes, numbers, booleans), with
 * msg.user the last member of msg and only a few short fields after msg. */
static char *big_body(size_t size, size_t *len)
{
    char *b = malloc(size + 1024);
    if (b == NULL)
        return NULL;
    size_t n = (size_t)sprintf(b, "{\"i\":7,\"msg\":{\"pullrequest\":{\"id\":1234,\"title\":"
                                  "\"Fix the \\\"frobnicator\\\" in caf\\u00e9 mode\","
                                  "\"status\":\"Open\",\"closed_at\":null,\"comments\":[");
    const char *tail = "],\"branch\":\"main\"},\"agent\":\"pingou\",\"user\":\"user-4711\"},"
                       "\"msg_id\":\"2024-5f1c2d3e-1a2b-4c5d-8e9f-0123456789ab\","
                       "\"timestamp\":1700000000.5,\"username\":\"pagure\"}";
    size_t tail_len = strlen(tail);
    for (int c = 0; n + tail_len + 220 < size; c++)
        n += (size_t)sprintf(b + n,
                             "%s{\"id\":%d,\"user\":{\"name\":\"reviewer%d\",\"fullname\":"
                             "\"R\\u00e9viewer %d\"},\"comment\":\"Looks good to me.\\nOne "
                             "nit: line %d says \\\"teh\\\".\",\"line\":%d,\"edited\":false,"
                             "\"date_created\":\"1700000%03d\",\"votes\":[1,0,-1]}",
                             c ? "," : "", 5000 + c, c, c, 10 + c, 10 + c, c);
    memcpy(b + n, tail, tail_len + 1);
    *len = n + tail_len;
    return b;
}

typedef struct workload {
    const char *name;
    const char *body;
    size_t len;
    size_t cut; /* the body up to the end of the key's value */
} workload;

/* ns per extraction over `iters` calls; dom selects the reference path. */
static double time_once(const hs__key_spec *spec, const char *body, size_t len, bool dom,
                        size_t iters, hs__key_buf *buf)
{
    const char *key;
    size_t klen, sum = 0;
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < iters; i++) {
        hs__key_result r =
            dom ? hs__key_extract_dom(spec, body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, buf, &key,
                                      &klen, NULL)
                : hs__key_extract(spec, "t", 1, body, len, buf, &key, &klen);
        sum += r == HS__KEY_OK ? klen : 0;
    }
    uint64_t t1 = bench_now_ns();
    if (sum == 0 && iters > 0)
        return -1;
    return (double)(t1 - t0) / (double)iters;
}

/* One publisher's stream: the body with its bus sequence i counting up. */
#define STREAM 64

typedef struct stream {
    char *body[STREAM];
    size_t len[STREAM];
} stream;

static int stream_build(stream *st, const char *body, size_t len)
{
    const char *i = strstr(body, "\"i\":");
    const char *end = i != NULL ? i + 4 + strspn(i + 4, "0123456789") : NULL;
    for (size_t k = 0; k < STREAM; k++) {
        if ((st->body[k] = malloc(len + 32)) == NULL)
            return -1;
        if (i == NULL) {
            memcpy(st->body[k], body, len);
            st->len[k] = len;
            continue;
        }
        size_t head = (size_t)(i - body);
        int n = sprintf(st->body[k], "%.*s\"i\":%zu", (int)head, body, 4711 + k * 37);
        memcpy(st->body[k] + n, end, len - (size_t)(end - body));
        st->len[k] = (size_t)n + len - (size_t)(end - body);
        st->body[k][st->len[k]] = '\0';
        char *sent = strstr(st->body[k], "\"sent\":\"");
        if (sent != NULL) { /* a send stamp: another in each body, as long */
            char digits[20];
            snprintf(digits, sizeof digits, "%019llu", 1796165896309000000ull + k * 7919);
            memcpy(sent + 8, digits, 19);
        }
    }
    return 0;
}

static void stream_free(stream *st)
{
    for (size_t k = 0; k < STREAM; k++)
        free(st->body[k]);
}

/* The hub's claim pass (ingress.c): the key stopping the pass, and the bus
 * sequence, where it did not meet it, read from the end, over a publisher's stream;
 * with memo, keeping a memo (head template, tail window) from body to body as the ingress does.
 * ns per pass. */
static double time_claim(const hs__key_spec *specs, const stream *st, size_t iters,
                         hs__key_buf *bufs, bool memo)
{
    size_t sum = 0;
    hs__key_memo *m = NULL;
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < iters; i++) {
        hs__key_target t[3] = {{.spec = &specs[0], .buf = &bufs[0], .stop = true},
                               {.spec = &specs[1], .buf = &bufs[1], .stop = true, .tail = true},
                               {.spec = &specs[2], .buf = &bufs[2], .stop = true, .tail = true}};
        size_t k = i % STREAM;
        hs__key_extract_many_memo(t, 3, "t", 1, st->body[k], st->len[k], memo ? &m : NULL);
        sum += t[0].result == HS__KEY_OK ? t[0].len : 0;
    }
    hs__key_memo_free(m);
    uint64_t t1 = bench_now_ns();
    if (sum == 0 && iters > 0)
        return -1;
    return (double)(t1 - t0) / (double)iters;
}

int main(int argc, char **argv)
{
    bool quick = false;
    int rounds = 9;
    static const struct option opts[] = {
        {"quick", no_argument, NULL, 'q'},
        {"rounds", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        if (c == 'q') {
            quick = true;
        } else if (c == 'r' && atoi(optarg) > 0) {
            rounds = atoi(optarg);
        } else {
            fprintf(c == 'h' ? stdout : stderr,
                    "usage: key_extract [--quick] [--rounds N]\n\n"
                    "Time json:/msg/user key extraction: the scanner (hs__key_extract) and\n"
                    "jansson's DOM (hs__key_extract_dom), alternating, in one run, on a\n"
                    "316-byte fedmsg body and a 4 KiB body with the key near the end;\n"
                    "medians of --rounds (9) rounds. Goal: the scanner >= 10x faster.\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (quick)
        rounds = 3;
    hs__key_spec spec, claim[3];
    char err[256];
    if (hs__key_spec_parse(&spec, "json:/msg/user", err, sizeof err) != HS_OK ||
        hs__key_spec_parse(&claim[0], "json:/msg/user", err, sizeof err) != HS_OK ||
        hs__key_spec_parse(&claim[1], "json:/i", err, sizeof err) != HS_OK ||
        hs__key_spec_parse(&claim[2], "json:/username", err, sizeof err) != HS_OK) {
        fprintf(stderr, "key_extract: %s\n", err);
        return 1;
    }
    hs__key_buf claim_bufs[3] = {{0}};
    size_t big_len;
    char *big = big_body(4096, &big_len);
    if (big == NULL) {
        fprintf(stderr, "key_extract: out of memory\n");
        return 1;
    }
    workload work[] = {
        {"fedmsg body, json:/msg/user", bench_fedmsg_body, strlen(bench_fedmsg_body), 0},
        {"hashspace pub body, same key", pub_body, sizeof pub_body - 1, 0},
        {"peers_cluster body, stamp last", pc_body, sizeof pc_body - 1, 0},
        {"4 KiB body, key near the end", big, big_len, 0},
    };
    hs__key_buf buf = {0};
    printf("%-30s %6s %10s %10s %9s %12s %10s %10s %10s\n", "body", "bytes", "DOM ns", "scanner ns",
           "speed-up", "to key ns", "rest ns", "claim ns", "memo ns");
    int status = 0;
    for (size_t w = 0; w < sizeof work / sizeof work[0]; w++) {
        workload *wl = &work[w];
        /* The prefix a scanner that stopped at the key would read. */
        const char *at = strstr(wl->body, "\"user\":\"user-4711\"");
        wl->cut = (size_t)(at - wl->body) + strlen("\"user\":\"user-4711\"");
        const char *key;
        size_t klen;
        if (hs__key_extract(&spec, "t", 1, wl->body, wl->len, &buf, &key, &klen) != HS__KEY_OK ||
            klen != 9 || memcmp(key, "user-4711", 9) != 0) {
            fprintf(stderr, "key_extract: the scanner did not find the key in '%s'\n", wl->name);
            return 1;
        }
        /* Calibrate: about 20 ms (2 ms quick) per timing of the DOM path. */
        size_t dom_iters = 64;
        double ns = time_once(&spec, wl->body, wl->len, true, dom_iters, &buf);
        dom_iters = (size_t)((quick ? 2e6 : 2e7) / (ns > 1 ? ns : 1)) + 1;
        size_t scan_iters = dom_iters * 10;
        stream st;
        if (stream_build(&st, wl->body, wl->len) != 0) {
            fprintf(stderr, "key_extract: out of memory\n");
            return 1;
        }
        double dom[64], scan[64], ratio[64], prefix[64], pass[64], memo[64];
        for (int r = 0; r < rounds && r < 64; r++) {
            bool dom_first = r % 2 == 0;
            if (dom_first)
                dom[r] = time_once(&spec, wl->body, wl->len, true, dom_iters, &buf);
            scan[r] = time_once(&spec, wl->body, wl->len, false, scan_iters, &buf);
            if (!dom_first)
                dom[r] = time_once(&spec, wl->body, wl->len, true, dom_iters, &buf);
            /* The cut body is not JSON: time the scan alone, result ignored. */
            uint64_t t0 = bench_now_ns();
            for (size_t i = 0; i < scan_iters; i++)
                hs__key_extract(&spec, "t", 1, wl->body, wl->cut, &buf, &key, &klen);
            prefix[r] = (double)(bench_now_ns() - t0) / (double)scan_iters;
            pass[r] = time_claim(claim, &st, scan_iters, claim_bufs, false);
            memo[r] = time_claim(claim, &st, scan_iters, claim_bufs, true);
            ratio[r] = dom[r] / scan[r];
        }
        int n = rounds < 64 ? rounds : 64;
        double d = bench_median(dom, (size_t)n), s = bench_median(scan, (size_t)n);
        double q = bench_median(ratio, (size_t)n), p = bench_median(prefix, (size_t)n);
        double c = bench_median(pass, (size_t)n), cm = bench_median(memo, (size_t)n);
        printf("%-30s %6zu %10.0f %10.0f %8.1fx %12.0f %10.0f %10.0f %10.0f\n", wl->name, wl->len,
               d, s, q, p, s - p, c, cm);
        stream_free(&st);
        if (!(d > 0 && s > 0))
            status = 1;
    }
    printf("speed-up: median of the per-round DOM / scanner ratios (goal >= 10x); to key: the\n"
           "scanner on the body cut after the key's value; rest: validating what follows;\n"
           "claim: the hub's claim pass (stopping at the key; json:/i and json:/username,\n"
           "where it did not meet them, read from the end) over 64 bodies whose i counts\n"
           "up; memo: the same with the memo (head template, tail window) kept from body\n"
           "to body, as the hub's ingress does.\n");
    hs__key_buf_free(&buf);
    hs__key_spec_clear(&spec);
    for (int i = 0; i < 3; i++) {
        hs__key_buf_free(&claim_bufs[i]);
        hs__key_spec_clear(&claim[i]);
    }
    free(big);
    return status;
}
