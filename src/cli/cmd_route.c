/* cmd_route.c - `hashspace route`: the owner of each key, from the arguments
 * or one per line on stdin; with --self, whether this member takes it. */
#include "cli_util.h"
#include "commands.h"

#include "hashspace/error.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void route_usage(FILE *out)
{
    fprintf(out,
            "usage: hashspace route [--hash H] [--placement P] --members LIST [--self NAME] "
            "[KEY...]\n\n"
            "Print the owner of each key: one line per key, KEY<TAB>OWNER, and with --self a\n"
            "third column yes/no (does NAME take this message?). Keys come from the\n"
            "arguments, or one per line on stdin when none are given.\n\n"
            "  --members LIST   comma-separated name[=weight], e.g. hub-a,hub-b,hub-c=2\n"
            "  --self NAME      add the yes/no column for member NAME\n"
            "  --hash H         %s\n"
            "                   (default: xxh3, or the placement's own for ketama-style ones)\n"
            "  --placement P    %s (default: jump)\n"
            "  --hash-key HEX   siphash secret, 32 hex digits\n"
            "  -h, --help       this text\n\n"
            "Example:\n"
            "  hashspace route --members a,b,c --self b user-1 user-2\n",
            hs_hash_names(), hs_place_method_names());
}

typedef struct route_ctx {
    const hs_view *view;
    long self; /* position of --self, or -1 */
    unsigned long long line;
} route_ctx;

static int route_one(route_ctx *c, const char *key, size_t len)
{
    size_t owner;
    int rc = hs_view_owner(c->view, key, len, &owner);
    if (rc == HS_EKEY) {
        hs_cli_error("key '%.*s'%s: not valid for hash '%s' (it wants a decimal unsigned "
                     "64-bit integer)",
                     (int)(len > 64 ? 64 : len), key, len > 64 ? "..." : "",
                     hs_hash_name(hs_view_hasher(c->view)->id));
        return -1;
    }
    if (rc != HS_OK) {
        hs_cli_error("key '%.*s': %s", (int)(len > 64 ? 64 : len), key, hs_strerror(rc));
        return -1;
    }
    fwrite(key, 1, len, stdout);
    putchar('\t');
    fputs(hs_view_member_name(c->view, owner), stdout);
    if (c->self >= 0)
        fputs((long)owner == c->self ? "\tyes" : "\tno", stdout);
    putchar('\n');
    return 0;
}

int hs_cmd_route(int argc, char **argv)
{
    static const struct option options[] = {
        {"hash", required_argument, NULL, 'H'},
        {"placement", required_argument, NULL, 'P'},
        {"members", required_argument, NULL, 'm'},
        {"self", required_argument, NULL, 's'},
        {"hash-key", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *hash = NULL, *placement = NULL, *members = NULL, *self = NULL, *secret = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'H':
            hash = optarg;
            break;
        case 'P':
            placement = optarg;
            break;
        case 'm':
            members = optarg;
            break;
        case 's':
            self = optarg;
            break;
        case 'k':
            secret = optarg;
            break;
        case 'h':
            route_usage(stdout);
            return 0;
        default:
            route_usage(stderr);
            return 2;
        }
    }
    hs_view *view;
    if (hs_cli_view(&view, members, hash, placement, secret, 1) != 0)
        return 2;
    route_ctx c = {.view = view, .self = -1};
    if (self != NULL) {
        size_t pos;
        if (hs_view_index(view, self, &pos) != HS_OK) {
            hs_cli_error("--self '%s' is not one of the members", self);
            hs_view_release(view);
            return 2;
        }
        c.self = (long)pos;
    }
    static char outbuf[1 << 16];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    int status = 0;
    if (optind < argc) {
        for (int i = optind; i < argc && status == 0; i++)
            if (route_one(&c, argv[i], strlen(argv[i])) != 0)
                status = 1;
    } else {
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        while (status == 0 && (len = getline(&line, &cap, stdin)) >= 0) {
            c.line++;
            if (len > 0 && line[len - 1] == '\n')
                len--;
            if (len > 0 && line[len - 1] == '\r')
                len--;
            if (route_one(&c, line, (size_t)len) != 0) {
                hs_cli_error("stdin line %llu", c.line);
                status = 1;
            }
        }
        free(line);
    }
    if (fflush(stdout) != 0) {
        hs_cli_error("writing output failed");
        status = 1;
    }
    hs_view_release(view);
    return status;
}
