/* redis_server.h - a real redis-server for the tests in tests/redis/: started
 * on a free loopback port without persistence (--save '' --appendonly no),
 * killed by its PID, restartable on the same port with an empty database.
 *
 * When redis-server is not installed a test program calls
 * redis_server_skip(), which exits 77 (ctest reports the test skipped) with
 * a message saying how to install it, unless HS_REQUIRE_REDIS=1 (CI), where
 * a missing server is a failure. */
#ifndef HS_TEST_REDIS_SERVER_H
#define HS_TEST_REDIS_SERVER_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct redis_server {
    pid_t pid;
    int port;
    char url[64];
} redis_server;

static inline const char *redis_server_path(void)
{
    static char found[512];
    const char *env = getenv("HS_REDIS_SERVER");
    if (env != NULL && env[0] != '\0')
        return access(env, X_OK) == 0 ? env : NULL;
    const char *path = getenv("PATH");
    char dirs[2048];
    snprintf(dirs, sizeof dirs, "%s:/usr/bin:/usr/sbin", path ? path : "");
    for (char *save, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(found, sizeof found, "%s/redis-server", d);
        if (access(found, X_OK) == 0)
            return found;
    }
    return NULL;
}

/* Exit 77 (skipped) when redis-server is missing; fail under HS_REQUIRE_REDIS. */
static inline void redis_server_skip_if_missing(const char *test)
{
    if (redis_server_path() != NULL)
        return;
    const char *req = getenv("HS_REQUIRE_REDIS");
    fprintf(stderr,
            "%s: SKIPPED: redis-server not found (install it: scripts/deps.sh, or apt-get install "
            "redis-server; HS_REDIS_SERVER=PATH names another)\n",
            test);
    exit(req != NULL && strcmp(req, "1") == 0 ? 1 : 77);
}

static inline int redis_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("free port");
        exit(1);
    }
    close(fd);
    return ntohs(a.sin_port);
}

static inline bool redis_ping(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = false;
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
        char buf[64];
        if (write(fd, "PING\r\n", 6) == 6) {
            struct timeval tv = {.tv_sec = 1};
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            ssize_t n = read(fd, buf, sizeof buf - 1);
            ok = n >= 5 && strncmp(buf, "+PONG", 5) == 0;
        }
    }
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Start on `port` (0: a free one); waits until it answers PING (5 s). */
static inline int redis_server_start(redis_server *s, int port)
{
    s->port = port ? port : redis_free_port();
    snprintf(s->url, sizeof s->url, "redis://127.0.0.1:%d", s->port);
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", s->port);
    const char *bin = redis_server_path();
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        /* A test that crashes or is killed takes its server with it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 1);
        execl(bin, bin, "--port", portstr, "--bind", "127.0.0.1", "--save", "", "--appendonly",
              "no", "--dir", "/tmp", "--loglevel", "warning", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) {
        if (redis_ping(s->port))
            return 0;
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            fprintf(stderr, "redis-server on port %d exited at start\n", s->port);
            s->pid = 0;
            return -1;
        }
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* Kill by PID (SIGKILL: a crash; SIGTERM: a clean stop) and reap. */
static inline void redis_server_stop(redis_server *s, int sig)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, sig);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

#endif
