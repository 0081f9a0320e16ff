/* child.c - spawn, stop and reap the child processes of exec consumers; split
 * their command lines without a shell.
 *
 * posix_spawnp is used rather than fork: the hub is multithreaded, and
 * glibc's posix_spawn (clone + vfork semantics) reports exec failures such as
 * ENOENT to the caller instead of leaving a child that exits 127.
 */
#include "child.h"
#include "clock.h"
#include "hashspace/error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int hs__argv_split(const char *line, char ***argv_out, size_t *argc_out, char *err, size_t errlen)
{
    size_t len = strlen(line);
    /* A word takes at least one input byte plus a separator, except "" which
     * takes two; len + 2 pointers is always enough. Output bytes never
     * outnumber input bytes, plus one NUL per word. */
    size_t max_words = len + 2;
    char **argv = malloc(max_words * sizeof *argv + 2 * len + 2);
    if (argv == NULL)
        return HS_ENOMEM;
    char *out = (char *)(argv + max_words);
    size_t argc = 0;
    const char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (*p == '\0')
            break;
        argv[argc++] = out;
        while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            if (*p == '\'') {
                const char *q = strchr(p + 1, '\'');
                if (q == NULL) {
                    snprintf(err, errlen, "unterminated ' at offset %zu in \"%s\"",
                             (size_t)(p - line), line);
                    free(argv);
                    return HS_EPARSE;
                }
                memcpy(out, p + 1, (size_t)(q - p - 1));
                out += q - p - 1;
                p = q + 1;
            } else if (*p == '"') {
                const char *start = p++;
                while (*p != '"') {
                    if (*p == '\0') {
                        snprintf(err, errlen, "unterminated \" at offset %zu in \"%s\"",
                                 (size_t)(start - line), line);
                        free(argv);
                        return HS_EPARSE;
                    }
                    if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                        p++;
                    *out++ = *p++;
                }
                p++;
            } else if (*p == '\\') {
                if (p[1] == '\0') {
                    snprintf(err, errlen, "trailing backslash in \"%s\"", line);
                    free(argv);
                    return HS_EPARSE;
                }
                *out++ = p[1];
                p += 2;
            } else {
                *out++ = *p++;
            }
        }
        *out++ = '\0';
    }
    if (argc == 0) {
        snprintf(err, errlen, "empty command");
        free(argv);
        return HS_EINVAL;
    }
    argv[argc] = NULL;
    *argv_out = argv;
    if (argc_out != NULL)
        *argc_out = argc;
    return HS_OK;
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* Pipe ends must not be 0, 1 or 2 (the hub's own standard streams may be
 * closed): dup2 onto the same number would keep FD_CLOEXEC set. */
static int above_stdio(int *fd)
{
    if (*fd > 2)
        return 0;
    int moved = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
    if (moved < 0)
        return -1;
    close(*fd);
    *fd = moved;
    return 0;
}

int hs__child_spawn(hs__child *c, char *const argv[], char *const envp[], char *err, size_t errlen)
{
    int to_child[2] = {-1, -1}, from_child[2] = {-1, -1};
    if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0 ||
        above_stdio(&to_child[0]) != 0 || above_stdio(&to_child[1]) != 0 ||
        above_stdio(&from_child[0]) != 0 || above_stdio(&from_child[1]) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        for (int i = 0; i < 2; i++) {
            close_fd(&to_child[i]);
            close_fd(&from_child[i]);
        }
        return HS_ESYSTEM;
    }

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&fa, to_child[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, from_child[1], STDOUT_FILENO);
    /* The hub may block signals in worker threads and ignore SIGPIPE; a
     * child must start with neither, or SIGTERM would not stop it. Its own
     * process group keeps a terminal's Ctrl-C for the hub, which then stops
     * its children in order. */
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETPGROUP);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(to_child[0]);
    close(from_child[1]);
    if (rc != 0) {
        snprintf(err, errlen, "cannot run '%s': %s", argv[0], strerror(rc));
        close(to_child[1]);
        close(from_child[0]);
        return HS_ESYSTEM;
    }
    c->pid = pid;
    c->in_fd = to_child[1];
    c->out_fd = from_child[0];
    return HS_OK;
}

int hs__child_try_reap(hs__child *c, int *status)
{
    if (c->pid < 0)
        return 1;
    int st;
    pid_t r;
    do
        r = waitpid(c->pid, &st, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return 0;
    /* r < 0 is ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN). */
    if (status != NULL)
        *status = r > 0 ? st : -1;
    c->pid = -1;
    return 1;
}

/* Wait up to grace_s for the child to exit, discarding what it still writes
 * so that a chatty child cannot block on a full pipe. 1 when reaped. */
static int wait_exit(hs__child *c, double grace_s, int *status)
{
    double deadline = hs__monotonic_s() + grace_s;
    for (;;) {
        if (hs__child_try_reap(c, status))
            return 1;
        double left = deadline - hs__monotonic_s();
        if (left <= 0)
            return 0;
        int step_ms = left < 0.005 ? 1 : 5;
        if (c->out_fd >= 0) {
            struct pollfd pfd = {.fd = c->out_fd, .events = POLLIN};
            if (poll(&pfd, 1, step_ms) > 0) {
                char sink[4096];
                ssize_t n = read(c->out_fd, sink, sizeof sink);
                if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
                    close_fd(&c->out_fd);
            }
        } else {
            struct timespec ts = {0, (long)step_ms * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
}

void hs__child_stop(hs__child *c, double eof_grace_s, double term_grace_s, int *status)
{
    if (status != NULL)
        *status = -1;
    close_fd(&c->in_fd);
    if (c->pid >= 0 && !wait_exit(c, eof_grace_s, status)) {
        kill(c->pid, SIGTERM);
        if (!wait_exit(c, term_grace_s, status)) {
            kill(c->pid, SIGKILL);
            int st;
            pid_t r;
            do
                r = waitpid(c->pid, &st, 0);
            while (r < 0 && errno == EINTR);
            if (status != NULL)
                *status = r > 0 ? st : -1;
            c->pid = -1;
        }
    }
    close_fd(&c->out_fd);
}

void hs__child_describe(int status, char *buf, size_t len)
{
    if (status == -1)
        snprintf(buf, len, "exited (status unknown)");
    else if (WIFEXITED(status))
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "stopped (wait status 0x%x)", (unsigned)status);
}
