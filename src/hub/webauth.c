/* webauth.c - a bearer token or basic authentication for the hub's HTTP
 * endpoint (webauth.h). */
#include "webauth.h"

#include "hashspace/error.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WEBAUTH_REALM "hashspace"
#define WEBAUTH_SECRET_MAX 1024

struct hs__webauth {
    bool basic;
    char secret[WEBAUTH_SECRET_MAX]; /* the token, or USER:PASSWORD */
    size_t user_len;                 /* basic: the length of USER */
};

/* The first line of a private file. */
static int read_secret(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return HS_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
        snprintf(err, errlen,
                 "%s: must be a regular file readable by its owner only (mode %04o; chmod 600 "
                 "%s)",
                 path, (unsigned)(st.st_mode & 07777), path);
        close(fd);
        return HS_EINVAL;
    }
    ssize_t n = read(fd, out, outlen - 1);
    close(fd);
    if (n < 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return HS_EIO;
    }
    out[n] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    if (out[0] == '\0') {
        snprintf(err, errlen, "%s: empty (the first line is the secret)", path);
        return HS_EINVAL;
    }
    return HS_OK;
}

int hs__webauth_credentials(const char *spec, bool *basic, char *out, size_t outlen, char *err,
                            size_t errlen)
{
    *basic = strncmp(spec, "basic:", 6) == 0;
    if (!*basic && strncmp(spec, "bearer:", 7) != 0) {
        snprintf(err, errlen, "'%s' is not bearer:FILE or basic:FILE", spec);
        return HS_EINVAL;
    }
    const char *path = spec + (*basic ? 6 : 7);
    int rc = read_secret(path, out, outlen, err, errlen);
    if (rc == HS_OK && *basic) {
        const char *colon = strchr(out, ':');
        if (colon == NULL || colon == out) {
            snprintf(err, errlen, "%s: the first line must be USER:PASSWORD", path);
            rc = HS_EINVAL;
        }
    }
    if (rc != HS_OK)
        explicit_bzero(out, outlen);
    return rc;
}

int hs__webauth_new(hs__webauth **out, const char *spec, char *err, size_t errlen)
{
    *out = NULL;
    if (spec == NULL || strcmp(spec, "none") == 0)
        return HS_OK;
    if (strncmp(spec, "basic:", 6) != 0 && strncmp(spec, "bearer:", 7) != 0) {
        snprintf(err, errlen, "'%s' is not none, bearer:FILE or basic:FILE", spec);
        return HS_EINVAL;
    }
    hs__webauth *a = calloc(1, sizeof *a);
    if (a == NULL)
        return HS_ENOMEM;
    int rc = hs__webauth_credentials(spec, &a->basic, a->secret, sizeof a->secret, err, errlen);
    if (rc != HS_OK) {
        hs__webauth_free(a);
        return rc;
    }
    if (a->basic)
        a->user_len = (size_t)(strchr(a->secret, ':') - a->secret);
    *out = a;
    return HS_OK;
}

void hs__webauth_free(hs__webauth *auth)
{
    if (auth == NULL)
        return;
    explicit_bzero(auth->secret, sizeof auth->secret);
    free(auth);
}

/* Equal, in a time that depends on the lengths only. */
static bool same_secret(const char *a, size_t alen, const char *b, size_t blen)
{
    unsigned char diff = alen != blen;
    size_t n = alen < blen ? alen : blen;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

bool hs__webauth_allows(const hs__webauth *auth, struct MHD_Connection *conn)
{
    if (auth == NULL)
        return true;
    if (!auth->basic) {
        const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
        if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
            return false;
        h += 7;
        return same_secret(h, strlen(h), auth->secret, strlen(auth->secret));
    }
    char *password = NULL;
    char *user = MHD_basic_auth_get_username_password(conn, &password);
    bool ok = false;
    if (user != NULL && password != NULL) {
        const char *pw = auth->secret + auth->user_len + 1;
        bool user_ok = same_secret(user, strlen(user), auth->secret, auth->user_len);
        bool pw_ok = same_secret(password, strlen(password), pw, strlen(pw));
        ok = user_ok && pw_ok;
    }
    if (user != NULL)
        MHD_free(user);
    if (password != NULL) {
        explicit_bzero(password, strlen(password));
        MHD_free(password);
    }
    return ok;
}

int hs__webauth_refuse(const hs__webauth *auth, struct MHD_Connection *conn)
{
    static const char body[] = "hashspace hub: authentication required\n";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
    enum MHD_Result rc;
    if (auth->basic) {
        rc = MHD_queue_basic_auth_fail_response(conn, WEBAUTH_REALM, resp);
    } else {
        MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"" WEBAUTH_REALM "\"");
        rc = MHD_queue_response(conn, MHD_HTTP_UNAUTHORIZED, resp);
    }
    MHD_destroy_response(resp);
    return rc;
}
