/* cli_http.h - a plain HTTP/1.0 GET over a POSIX socket, for the commands
 * that read hubs' metrics ports (hashspace dashboard; hub addresses are
 * HOST:PORT or http://HOST:PORT[/PATH]). No TLS, no redirects: hubs serve
 * loopback or a trusted network.
 *
 * Threads: every function may run from any thread; nothing is shared. */
#ifndef HS_CLI_HTTP_H
#define HS_CLI_HTTP_H

#include <stddef.h>

typedef struct hs_cli_target {
    char host[300], port[16];
    char path[512];  /* the URL's path, or "" */
    char label[512]; /* HOST:PORT as given */
} hs_cli_target;

/* Parse "HOST:PORT", "[V6]:PORT" or "http://HOST:PORT[/PATH]". On error
 * writes a sentence into err and returns -1. */
int hs_cli_target_parse(const char *text, hs_cli_target *t, char *err, size_t errlen);

/* GET path from the target within timeout_s: a malloc'd, NUL-terminated
 * body of *len bytes (chunked encoding undone), or NULL with a sentence in
 * err (refused, timed out, a status other than 200, larger than max). */
char *hs_cli_http_get(const hs_cli_target *t, const char *path, double timeout_s, size_t max,
                      size_t *len, char *err, size_t errlen);

#endif
