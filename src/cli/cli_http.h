/* cli_http.h - an HTTP GET through libcurl, for the commands that read
 * hubs' metrics ports (hashspace status, hashspace dashboard; hub addresses
 * are HOST:PORT or http://HOST:PORT[/PATH]), with the credentials of a hub
 * run with --metrics-auth. http:// only: hubs serve loopback or a trusted
 * network (docs/operations.md).
 *
 * Threads: hs_cli_http_init once from the main thread before any other
 * thread starts; then every function may run from any thread (each GET has
 * its own libcurl handle); nothing is shared. */
#ifndef HS_CLI_HTTP_H
#define HS_CLI_HTTP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct hs_cli_target {
    char path[512];  /* the URL's path, or "" */
    char label[512]; /* HOST:PORT as given (checked), the URL's authority */
} hs_cli_target;

/* What every request of a command carries: nothing (secret[0] == '\0'), a
 * bearer token or USER:PASSWORD for basic authentication. */
typedef struct hs_cli_auth {
    bool basic;
    char secret[1024];
} hs_cli_auth;

/* Parse "HOST:PORT", "[V6]:PORT" or "http://HOST:PORT[/PATH]". On error
 * writes a sentence into err and returns -1. */
int hs_cli_target_parse(const char *text, hs_cli_target *t, char *err, size_t errlen);

/* --auth bearer:FILE or basic:FILE (FILE as the hub's --metrics-auth reads
 * it, owner-only). -1 with a sentence in err. */
int hs_cli_auth_parse(const char *spec, hs_cli_auth *auth, char *err, size_t errlen);
void hs_cli_auth_clear(hs_cli_auth *auth);

/* libcurl's global set-up (and its clean-up at exit). -1 on failure. */
int hs_cli_http_init(void);

/* GET path from the target within timeout_s, with auth (NULL: none): a
 * malloc'd, NUL-terminated body of *len bytes, or NULL with a sentence in
 * err (refused, timed out, a status other than 200, larger than max). */
char *hs_cli_http_get(const hs_cli_target *t, const char *path, const hs_cli_auth *auth,
                      double timeout_s, size_t max, size_t *len, char *err, size_t errlen);

#endif
