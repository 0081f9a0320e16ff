/* child.h - child processes behind two pipes, for the exec sink: split a
 * command line into argv without a shell, spawn, stop, describe an exit.
 *
 * An hs__child is owned by one thread (the consumer worker that spawned it);
 * nothing here is shared, so nothing here locks. The functions never print.
 */
#ifndef HS_HUB_CHILD_H
#define HS_HUB_CHILD_H

#include <stddef.h>
#include <sys/types.h>

typedef struct hs__child {
    pid_t pid;  /* -1 when no child */
    int in_fd;  /* write end of the child's stdin, O_CLOEXEC; -1 when closed */
    int out_fd; /* read end of the child's stdout, O_CLOEXEC; -1 when closed */
} hs__child;

#define HS__CHILD_NONE                                                                             \
    {                                                                                              \
        -1, -1, -1                                                                                 \
    }

/* Split a command line into a NULL-terminated argv, without a shell:
 * whitespace separates words; '...' is literal; "..." is literal except that
 * \" and \\ stand for " and \; outside quotes a backslash makes the next
 * character literal; adjacent pieces join into one word (a"b c"d is `ab cd`).
 * No variables, globs, ~ or redirections. On success *argv_out is one
 * allocation (free it with free()) and *argc_out its word count (>= 1).
 * HS_EPARSE for an unterminated quote or a trailing backslash, HS_EINVAL for
 * an empty command; err then says which. */
int hs__argv_split(const char *line, char ***argv_out, size_t *argc_out, char *err, size_t errlen);

/* Spawn argv[0] (looked up in PATH when it has no slash) with environment
 * envp, its stdin and stdout connected to pipes and its stderr inherited,
 * in a process group of its own, with default signal dispositions and an
 * empty signal mask. Fails (HS_ESYSTEM, err filled) when the program cannot
 * be executed: the exec error is reported, not a child that exits 127. */
int hs__child_spawn(hs__child *c, char *const argv[], char *const envp[], char *err, size_t errlen);

/* Stop the child and reap it: close its stdin, give it eof_grace_s to exit
 * on its own, then SIGTERM and term_grace_s, then SIGKILL. Closes both pipes.
 * *status (may be NULL) gets the waitpid status, or -1 when it could not be
 * known (already reaped elsewhere). Accepts a child with pid -1. */
void hs__child_stop(hs__child *c, double eof_grace_s, double term_grace_s, int *status);

/* Reap the child if it has exited, without blocking: 1 and *status when it
 * had, 0 when it still runs. */
int hs__child_try_reap(hs__child *c, int *status);

/* "exited with status 3", "killed by signal 9 (Killed)", ... */
void hs__child_describe(int status, char *buf, size_t len);

#endif
