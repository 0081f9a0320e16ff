/* notify.h - tell systemd how the hub is doing (Type=notify): the service
 * notification protocol of sd_notify(3), spoken without libsystemd.
 *
 * hs__notify_init() takes $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID
 * out of the environment (so that consumer children do not inherit them);
 * call it once, before any thread starts. hs__notify() may then be called
 * from any thread. Outside systemd (no NOTIFY_SOCKET) both do nothing.
 */
#ifndef HS_HUB_NOTIFY_H
#define HS_HUB_NOTIFY_H

#include <stdint.h>

void hs__notify_init(void);
/* Send one notification, e.g. "READY=1\nSTATUS=claiming". 0 when sent or
 * when not under systemd; otherwise a negative errno value. */
int hs__notify(const char *state);
/* The watchdog interval systemd expects pings ("WATCHDOG=1") within, in ns;
 * 0 when the unit has no WatchdogSec= (or it was meant for another process). */
uint64_t hs__notify_watchdog_ns(void);

#endif
