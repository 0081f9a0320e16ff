/* notify.c - systemd's service notifications: one datagram per state change
 * to the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or "@name" for the
 * abstract namespace), as sd_notify(3) documents the protocol. Writing these
 * twenty lines spares the hub a dependency on libsystemd.
 */
#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static struct sockaddr_un notify_addr;
static socklen_t notify_addr_len; /* 0: not under systemd */
static uint64_t watchdog_ns;

void hs__notify_init(void)
{
    const char *path = getenv("NOTIFY_SOCKET");
    size_t len = path != NULL ? strlen(path) : 0;
    if (len > 1 && len < sizeof notify_addr.sun_path && (path[0] == '/' || path[0] == '@')) {
        notify_addr.sun_family = AF_UNIX;
        memcpy(notify_addr.sun_path, path, len);
        if (path[0] == '@')
            notify_addr.sun_path[0] = '\0';
        notify_addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    }
    const char *usec = getenv("WATCHDOG_USEC");
    const char *pid = getenv("WATCHDOG_PID");
    if (notify_addr_len > 0 && usec != NULL &&
        (pid == NULL || strtol(pid, NULL, 10) == (long)getpid()))
        watchdog_ns = strtoull(usec, NULL, 10) * 1000u;
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
}

int hs__notify(const char *state)
{
    if (notify_addr_len == 0)
        return 0;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    ssize_t sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
                          (const struct sockaddr *)&notify_addr, notify_addr_len);
    int err = sent < 0 ? -errno : 0;
    close(fd);
    return err;
}

uint64_t hs__notify_watchdog_ns(void)
{
    return watchdog_ns;
}
