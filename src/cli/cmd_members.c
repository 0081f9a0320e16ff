/* cmd_members.c - `hashspace members`: what the coordinator of a cluster
 * holds: the view in force and the pending ones (epoch, effective_from,
 * members with weights), and every member's registration (weight, last
 * heartbeat, watermark), as a table or as JSON. Read-only: it asks for no
 * confirmation promise and registers nothing. */
#include "cli_util.h"
#include "commands.h"

#include "coord.h"

#include "hashspace/error.h"

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void members_usage(FILE *out)
{
    fprintf(out,
            "usage: hashspace members --coordinator URL --cluster NAME [--watch S] [--json]\n"
            "                         [--timeout S]\n\n"
            "Show what the coordinator holds for a cluster of hubs: the view in force now and\n"
            "the pending ones (epoch, effective_from, each member with its weight), then every\n"
            "member: weight, state (live, leaving, gone), age of its last heartbeat and its\n"
            "watermark (every message it owns older than that is finished). Times are the\n"
            "coordinator's clock.\n\n"
            "  --coordinator URL  redis://HOST[:PORT][/DB]\n"
            "  --cluster NAME     the hubs' --cluster\n"
            "  --watch S          show it again every S seconds until interrupted\n"
            "  --json             one JSON object (per refresh, one a line)\n"
            "  --timeout S        give up connecting or reading after S seconds (default 2)\n"
            "  -h, --help         this text\n\n"
            "Exit status: 0 when the coordinator answered, 1 when it did not, 2 on bad usage.\n\n"
            "Example:\n"
            "  hashspace members --coordinator redis://127.0.0.1:6379 --cluster demo --watch 1\n");
}

static void utc(uint64_t ns, char *buf, size_t len)
{
    time_t s = (time_t)(ns / 1000000000ull);
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03uZ", (unsigned)(ns / 1000000ull % 1000));
}

static double secs(uint64_t a, uint64_t b)
{
    return ((double)a - (double)b) / 1e9;
}

static json_t *view_json(const hs__coord_view *v)
{
    json_t *members = json_array();
    for (size_t i = 0; i < v->n; i++)
        json_array_append_new(members, json_pack("{s:s,s:f}", "name", v->members[i].name, "weight",
                                                 v->members[i].weight));
    json_t *out = json_pack("{s:I,s:I,s:I,s:o}", "epoch", (json_int_t)v->epoch, "effective_from",
                            (json_int_t)v->effective_from_ns, "created", (json_int_t)v->created_ns,
                            "members", members);
    if (v->ndeparted > 0) {
        json_t *departed = json_array();
        for (size_t i = 0; i < v->ndeparted; i++) {
            const hs__coord_departed *d = &v->departed[i];
            json_t *one = json_pack("{s:s,s:b}", "name", d->name, "leaving", d->leaving);
            if (d->has_watermark)
                json_object_set_new(one, "watermark", json_integer((json_int_t)d->watermark_ns));
            json_array_append_new(departed, one);
        }
        json_object_set_new(out, "departed", departed);
    }
    return out;
}

static void print_view(const char *what, const hs__coord_view *v, uint64_t now)
{
    char when[40];
    utc(v->effective_from_ns, when, sizeof when);
    if (v->effective_from_ns <= now)
        printf("view %-6" PRIu64 " %-8s since %s (%.1f s ago), %zu members:", v->epoch, what, when,
               secs(now, v->effective_from_ns), v->n);
    else
        printf("view %-6" PRIu64 " %-8s from  %s (in %.1f s), %zu members:", v->epoch, what, when,
               secs(v->effective_from_ns, now), v->n);
    for (size_t i = 0; i < v->n; i++)
        printf(" %s=%g", v->members[i].name, v->members[i].weight);
    for (size_t i = 0; i < v->ndeparted; i++) {
        const hs__coord_departed *d = &v->departed[i];
        char wm[40] = "none";
        if (d->has_watermark)
            utc(d->watermark_ns, wm, sizeof wm);
        printf("%s %s (%s, watermark %s)", i == 0 ? "; dropped" : ",", d->name,
               d->leaving ? "left" : "gone", wm);
    }
    printf("\n");
}

/* One look at the coordinator; 0, or 1 when it did not answer. */
static int show(hs__coord *c, unsigned timeout_ms, bool json, bool watching)
{
    if (hs__coord_connect(c, timeout_ms) != HS_OK) {
        hs_cli_error("%s", hs__coord_error(c));
        return 1;
    }
    hs__coord_member *m = NULL;
    size_t n = 0;
    uint64_t now = 0;
    hs__coord_fetch f;
    if (hs__coord_members(c, &m, &n, &now) != HS_OK ||
        hs__coord_fetch_since(c, 0, 0, 0, &f) != HS_OK) {
        hs_cli_error("%s", hs__coord_error(c));
        free(m);
        return 1;
    }
    now = f.now_ns > now ? f.now_ns : now;
    /* The view in force: the last one that took effect; the later ones pend. */
    size_t first_pending = 0;
    while (first_pending < f.n && f.views[first_pending].effective_from_ns <= now)
        first_pending++;
    const hs__coord_view *current = first_pending > 0 ? &f.views[first_pending - 1] : NULL;
    char url[HS__COORD_URL_MAX];
    hs__coord_url_format(&c->url, url, sizeof url);
    if (json) {
        json_t *pending = json_array(), *members = json_array();
        for (size_t i = first_pending; i < f.n; i++)
            json_array_append_new(pending, view_json(&f.views[i]));
        for (size_t i = 0; i < n; i++) {
            json_t *o = json_pack("{s:s,s:b,s:b}", "name", m[i].name, "live", m[i].live, "leaving",
                                  m[i].leaving);
            json_object_set_new(o, "weight", m[i].live ? json_real(m[i].weight) : json_null());
            json_object_set_new(o, "heartbeat",
                                m[i].live ? json_integer((json_int_t)m[i].heartbeat_ns)
                                          : json_null());
            json_object_set_new(o, "watermark",
                                m[i].has_watermark ? json_integer((json_int_t)m[i].watermark_ns)
                                                   : json_null());
            json_array_append_new(members, o);
        }
        json_t *root =
            json_pack("{s:s,s:s,s:I,s:o,s:o,s:o}", "cluster", c->cluster, "coordinator", url, "now",
                      (json_int_t)now, "current", current ? view_json(current) : json_null(),
                      "pending", pending, "members", members);
        char *text = json_dumps(root, watching ? JSON_COMPACT : JSON_INDENT(2));
        if (text != NULL)
            printf("%s\n", text);
        free(text);
        json_decref(root);
    } else {
        char when[40];
        utc(now, when, sizeof when);
        printf("cluster %s on %s at %s\n", c->cluster, url, when);
        if (current != NULL)
            print_view("current", current, now);
        else
            printf("no view in force yet\n");
        for (size_t i = first_pending; i < f.n; i++)
            print_view("pending", &f.views[i], now);
        printf("%-24s %8s  %-8s %-14s %s\n", "MEMBER", "WEIGHT", "STATE", "HEARTBEAT", "WATERMARK");
        for (size_t i = 0; i < n; i++) {
            char weight[32] = "-", hb[32] = "-", wm[64] = "-";
            if (m[i].live) {
                snprintf(weight, sizeof weight, "%g", m[i].weight);
                snprintf(hb, sizeof hb, "%.1f s ago", secs(now, m[i].heartbeat_ns));
            }
            if (m[i].has_watermark && m[i].watermark_ns > 0)
                snprintf(wm, sizeof wm, "%" PRIu64 " (%.1f s ago)", m[i].watermark_ns,
                         secs(now, m[i].watermark_ns));
            else if (m[i].has_watermark)
                snprintf(wm, sizeof wm, "0 (nothing finished yet)");
            printf("%-24s %8s  %-8s %-14s %s\n", m[i].name, weight,
                   !m[i].live     ? "gone"
                   : m[i].leaving ? "leaving"
                                  : "live",
                   hb, wm);
        }
    }
    fflush(stdout);
    free(m);
    hs__coord_fetch_free(&f);
    return 0;
}

int hs_cmd_members(int argc, char **argv)
{
    static const struct option options[] = {
        {"coordinator", required_argument, NULL, 'c'},
        {"cluster", required_argument, NULL, 'k'},
        {"watch", required_argument, NULL, 'w'},
        {"timeout", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *url = NULL, *cluster = NULL;
    double watch = 0, timeout = 2;
    bool json = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            url = optarg;
            break;
        case 'k':
            cluster = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'w':
        case 't': {
            char *end;
            double v = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || !(v > 0) || !isfinite(v) || v > 86400) {
                hs_cli_error("--%s: '%s' is not a positive number of seconds",
                             opt == 'w' ? "watch" : "timeout", optarg);
                return 2;
            }
            *(opt == 'w' ? &watch : &timeout) = v;
            break;
        }
        case 'h':
            members_usage(stdout);
            return 0;
        default:
            members_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        hs_cli_error("unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (url == NULL || cluster == NULL) {
        hs_cli_error("--coordinator URL and --cluster NAME are required (e.g. "
                     "--coordinator redis://127.0.0.1:6379 --cluster demo)");
        return 2;
    }
    hs__coord *c;
    char err[512];
    if (hs__coord_open(&c, url, cluster, err, sizeof err) != HS_OK) {
        hs_cli_error("%s", err);
        return 2;
    }
    unsigned timeout_ms = (unsigned)(timeout * 1000);
    int rc;
    for (;;) {
        rc = show(c, timeout_ms, json, watch > 0);
        if (watch == 0)
            break;
        if (!json)
            printf("\n");
        struct timespec ts = {(time_t)watch, (long)((watch - floor(watch)) * 1e9)};
        nanosleep(&ts, NULL);
    }
    hs__coord_close(c);
    return rc;
}
