/* cli_http.c - an HTTP GET through libcurl (cli_http.h). */
#include "cli_http.h"

#include "webauth.h"

#include "hashspace/error.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hs_cli_target_parse(const char *text, hs_cli_target *t, char *err, size_t errlen)
{
    const char *p = text;
    if (strncmp(p, "http://", 7) == 0) {
        p += 7;
    } else if (strstr(p, "://") != NULL) {
        snprintf(err, errlen, "'%s': only http:// URLs are supported", text);
        return -1;
    }
    const char *slash = strchr(p, '/');
    size_t hostport_len = slash ? (size_t)(slash - p) : strlen(p);
    snprintf(t->path, sizeof t->path, "%s", slash && slash[1] ? slash : "");
    char hostport[300];
    if (hostport_len == 0 || hostport_len >= sizeof hostport)
        goto bad;
    memcpy(hostport, p, hostport_len);
    hostport[hostport_len] = '\0';
    const char *host = hostport, *port = NULL;
    char *colon;
    if (hostport[0] == '[' && (colon = strstr(hostport, "]:")) != NULL) { /* [::1]:9941 */
        *colon = '\0';
        host = hostport + 1;
        port = colon + 2;
    } else if ((colon = strrchr(hostport, ':')) != NULL) {
        *colon = '\0';
        port = colon + 1;
    }
    char *end;
    long portnum = port ? strtol(port, &end, 10) : 0;
    if (port == NULL || *port == '\0' || *end != '\0' || portnum < 1 || portnum > 65535 ||
        *host == '\0')
        goto bad;
    snprintf(t->label, sizeof t->label, "%.*s", (int)hostport_len, p);
    return 0;
bad:
    snprintf(err, errlen, "'%s': expected HOST:PORT (e.g. 127.0.0.1:9941)", text);
    return -1;
}

int hs_cli_auth_parse(const char *spec, hs_cli_auth *auth, char *err, size_t errlen)
{
    return hs__webauth_credentials(spec, &auth->basic, auth->secret, sizeof auth->secret, err,
                                   errlen) == HS_OK
               ? 0
               : -1;
}

void hs_cli_auth_clear(hs_cli_auth *auth)
{
    explicit_bzero(auth->secret, sizeof auth->secret);
}

static void http_cleanup(void)
{
    curl_global_cleanup();
}

int hs_cli_http_init(void)
{
    static bool done;
    if (done)
        return 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    done = true;
    atexit(http_cleanup);
    return 0;
}

typedef struct body {
    char *text;
    size_t len, max;
} body;

static size_t take(char *data, size_t size, size_t n, void *arg)
{
    body *b = arg;
    size_t more = size * n;
    if (b->len + more > b->max)
        return 0; /* libcurl then fails with CURLE_WRITE_ERROR */
    char *bigger = realloc(b->text, b->len + more + 1);
    if (bigger == NULL)
        return 0;
    memcpy(bigger + b->len, data, more);
    b->text = bigger;
    b->len += more;
    b->text[b->len] = '\0';
    return more;
}

char *hs_cli_http_get(const hs_cli_target *t, const char *path, const hs_cli_auth *auth,
                      double timeout_s, size_t max, size_t *len, char *err, size_t errlen)
{
    char url[1100];
    if (snprintf(url, sizeof url, "http://%s%s", t->label, path) >= (int)sizeof url) {
        snprintf(err, errlen, "path too long");
        return NULL;
    }
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    body b = {NULL, 0, max};
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000) + 1);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "hashspace");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, take);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
    bool with_auth = auth != NULL && auth->secret[0] != '\0';
    if (with_auth && auth->basic) {
        curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(curl, CURLOPT_USERPWD, auth->secret);
    } else if (with_auth) {
        curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
        curl_easy_setopt(curl, CURLOPT_XOAUTH2_BEARER, auth->secret);
    }
    CURLcode rc = curl_easy_perform(curl);
    long code = 0, os_errno = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
    curl_easy_cleanup(curl);
    if (rc == CURLE_COULDNT_CONNECT && os_errno != 0)
        snprintf(err, errlen, "%s", strerror((int)os_errno));
    else if (rc == CURLE_WRITE_ERROR)
        snprintf(err, errlen, "answer larger than %zu bytes, or out of memory", max);
    else if (rc == CURLE_OPERATION_TIMEDOUT)
        snprintf(err, errlen, "timed out");
    else if (rc != CURLE_OK)
        snprintf(err, errlen, "%s", curl_err[0] != '\0' ? curl_err : curl_easy_strerror(rc));
    else if (code == 401)
        snprintf(err, errlen, "GET %s: HTTP status 401: %s", path,
                 with_auth
                     ? "the credentials of --auth were not accepted"
                     : "the hub wants credentials (its --metrics-auth): give them with --auth");
    else if (code != 200)
        snprintf(err, errlen, "GET %s: HTTP status %ld", path, code);
    else if (b.text == NULL && (b.text = calloc(1, 1)) == NULL)
        snprintf(err, errlen, "out of memory");
    else {
        *len = b.len;
        return b.text;
    }
    free(b.text);
    return NULL;
}
