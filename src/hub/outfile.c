/* outfile.c - append-only JSON-line files: open without following links and
 * with the operator's mode, write whole lines, reopen after SIGHUP. See
 * outfile.h.
 *
 * DESIGN: the only shared state is the reopen generation, an atomic bumped
 * by the main thread and read by every owner of a file before a write.
 */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static atomic_uint reopen_generation;

unsigned hs__outfile_generation(void)
{
    return atomic_load_explicit(&reopen_generation, memory_order_relaxed);
}

void hs__outfile_reopen_all(void)
{
    atomic_fetch_add_explicit(&reopen_generation, 1, memory_order_relaxed);
}

static int open_error(const char *path, char *err, size_t errlen)
{
    int e = errno;
    struct stat st;
    if (e == ELOOP && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
        snprintf(err, errlen,
                 "%s is a symbolic link; the hub does not follow links to the files it writes "
                 "(give the real path)",
                 path);
    else
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
    errno = e;
    return -1;
}

int hs__outfile_open(const char *path, unsigned mode, char *err, size_t errlen)
{
    const int flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
    /* Open an existing file as it is; create a missing one exclusively, so
     * that the mode set below is the one asked for, not mode & ~umask. */
    for (int tries = 0; tries < 10; tries++) {
        int fd = open(path, flags);
        if (fd >= 0 || errno != ENOENT)
            return fd >= 0 ? fd : open_error(path, err, errlen);
        fd = open(path, flags | O_CREAT | O_EXCL, (mode_t)mode);
        if (fd >= 0) {
            if (fchmod(fd, (mode_t)mode) != 0) {
                int e = errno;
                close(fd);
                errno = e;
                return open_error(path, err, errlen);
            }
            return fd;
        }
        if (errno != EEXIST)
            return open_error(path, err, errlen);
        /* Created by someone else in between: open that one. */
    }
    errno = EAGAIN;
    return open_error(path, err, errlen);
}

/* A line was cut short after `done` bytes: take them back. With O_APPEND
 * the offset is the end of what this descriptor wrote last; when the file
 * ends there, nobody wrote after the fragment and it can go. */
static void cut_back(int fd, size_t done)
{
    off_t end = lseek(fd, 0, SEEK_CUR);
    struct stat st;
    if (end >= (off_t)done && fstat(fd, &st) == 0 && st.st_size == end &&
        ftruncate(fd, end - (off_t)done) == 0)
        return;
    ssize_t n;
    do
        n = write(fd, "\n", 1);
    while (n < 0 && errno == EINTR);
}

int hs__outfile_write_line(int fd, const char *line, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, line + done, len - done);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        int e = n < 0 ? errno : EIO;
        if (done > 0)
            cut_back(fd, done);
        return e;
    }
    return 0;
}

int hs__outfile_parse_mode(const char *text, unsigned *mode)
{
    char *end;
    errno = 0;
    if (text[0] < '0' || text[0] > '7')
        return -1;
    unsigned long v = strtoul(text, &end, 8);
    if (*end != '\0' || errno != 0 || v > 0777 || (v & 0600) != 0600)
        return -1;
    *mode = (unsigned)v;
    return 0;
}
