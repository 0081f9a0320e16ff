/* cli_http.c - a plain HTTP/1.0 GET over a POSIX socket (cli_http.h). */
#include "cli_http.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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
    snprintf(t->host, sizeof t->host, "%s", host);
    snprintf(t->port, sizeof t->port, "%ld", portnum);
    snprintf(t->label, sizeof t->label, "%.*s", (int)hostport_len, p);
    return 0;
bad:
    snprintf(err, errlen, "'%s': expected HOST:PORT (e.g. 127.0.0.1:9941)", text);
    return -1;
}

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int wait_fd(int fd, short events, double deadline)
{
    for (;;) {
        double left = deadline - now_mono();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)(left * 1000) + 1);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

static int connect_to(const hs_cli_target *t, double deadline, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *list;
    int rc = getaddrinfo(t->host, t->port, &hints, &list);
    if (rc != 0) {
        snprintf(err, errlen, "%s", gai_strerror(rc));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *a = list; a != NULL && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            int soerr = errno;
            socklen_t len = sizeof soerr;
            if (soerr == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) == 0)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
            else if (soerr == EINPROGRESS)
                soerr = errno;
            if (soerr != 0 && soerr != EINPROGRESS) {
                saved = soerr;
                close(fd);
                fd = -1;
            }
        }
    }
    freeaddrinfo(list);
    if (fd < 0)
        snprintf(err, errlen, "%s", strerror(saved ? saved : ECONNREFUSED));
    return fd;
}

/* Undo Transfer-Encoding: chunked in place; the new length, or -1. */
static long dechunk(char *body, size_t len)
{
    size_t in = 0, out = 0;
    for (;;) {
        char *end;
        if (in >= len)
            return -1;
        unsigned long size = strtoul(body + in, &end, 16);
        char *eol = memchr(body + in, '\n', len - in);
        if (eol == NULL || end == body + in)
            return -1;
        in = (size_t)(eol - body) + 1;
        if (size == 0)
            return (long)out;
        if (size > len - in)
            return -1;
        memmove(body + out, body + in, size);
        out += size;
        in += size;
        if (in < len && body[in] == '\r')
            in++;
        if (in < len && body[in] == '\n')
            in++;
    }
}

char *hs_cli_http_get(const hs_cli_target *t, const char *path, double timeout_s, size_t max,
                      size_t *out_len, char *err, size_t errlen)
{
    double deadline = now_mono() + timeout_s;
    int fd = connect_to(t, deadline, err, errlen);
    if (fd < 0)
        return NULL;
    char req[1024];
    int reqlen = snprintf(req, sizeof req,
                          "GET %s HTTP/1.0\r\nHost: %s:%s\r\nUser-Agent: hashspace\r\n"
                          "Connection: close\r\n\r\n",
                          path, t->host, t->port);
    size_t sent = 0, len = 0, cap = 16384;
    char *buf = malloc(cap);
    if (buf == NULL || reqlen < 0 || (size_t)reqlen >= sizeof req) {
        snprintf(err, errlen, buf == NULL ? "out of memory" : "path too long");
        goto fail;
    }
    while (sent < (size_t)reqlen) {
        ssize_t n = send(fd, req + sent, (size_t)reqlen - sent, MSG_NOSIGNAL);
        if (n > 0)
            sent += (size_t)n;
        else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(fd, POLLOUT, deadline) != 0)
                goto fail_errno;
        } else
            goto fail_errno;
    }
    for (;;) {
        if (len + 1 >= cap) {
            if (cap >= max + 4096) {
                snprintf(err, errlen, "answer larger than %zu bytes", max);
                goto fail;
            }
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
        if (n > 0)
            len += (size_t)n;
        else if (n == 0)
            break;
        else if (errno == EAGAIN || errno == EINTR) {
            if (wait_fd(fd, POLLIN, deadline) != 0)
                goto fail_errno;
        } else
            goto fail_errno;
    }
    close(fd);
    fd = -1;
    buf[len] = '\0';
    int code = 0;
    if (sscanf(buf, "HTTP/%*d.%*d %d", &code) != 1) {
        snprintf(err, errlen, "not an HTTP answer");
        goto fail;
    }
    char *body = strstr(buf, "\r\n\r\n");
    size_t skip = 4;
    if (body == NULL) {
        body = strstr(buf, "\n\n");
        skip = 2;
    }
    if (body == NULL) {
        snprintf(err, errlen, "truncated HTTP answer");
        goto fail;
    }
    *body = '\0';
    if (code != 200) {
        char *eol = strpbrk(buf, "\r\n");
        snprintf(err, errlen, "GET %s: %.*s", path, eol ? (int)(eol - buf) : 80, buf);
        goto fail;
    }
    bool chunked = strcasestr(buf, "\ntransfer-encoding: chunked") != NULL;
    body += skip;
    size_t body_len = len - (size_t)(body - buf);
    memmove(buf, body, body_len);
    if (chunked) {
        long n = dechunk(buf, body_len);
        if (n < 0) {
            snprintf(err, errlen, "bad chunked encoding");
            goto fail;
        }
        body_len = (size_t)n;
    }
    buf[body_len] = '\0';
    *out_len = body_len;
    return buf;
fail_errno:
    snprintf(err, errlen, "%s", errno == ETIMEDOUT ? "timed out" : strerror(errno));
fail:
    if (fd >= 0)
        close(fd);
    free(buf);
    return NULL;
}
