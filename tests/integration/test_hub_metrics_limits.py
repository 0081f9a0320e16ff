"""test_hub_metrics_limits.py - idle connections cannot exhaust /metrics: the
hub holds at most 64 HTTP connections (16 from one address) and closes one
that stays idle for 10 s. Before, ~1,020 idle sockets locked out every scrape
and took the file descriptors that exec restarts and the dead-letter file
need.

200 idle sockets from 127.0.0.2: a scrape from 127.0.0.1 still answers at
once, the hub holds no more than 16 of them, and those are closed after the
idle timeout. Then 200 idle sockets from 13 addresses: the hub holds at most
64 descriptors for them, and a scrape answers within the idle timeout."""
import os
import socket
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import Hub, Publisher, log, wait_until  # noqa: E402

IDLE = 200
MAX_CONNECTIONS = 64
MAX_PER_IP = 16
IDLE_TIMEOUT_S = 10


def open_idle(port, sources):
    """IDLE connected sockets, round-robin over the source addresses."""
    socks = []
    for i in range(IDLE):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((sources[i % len(sources)], 0))
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
        socks.append(s)
    return socks


def tcp_fds(pid):
    """How many sockets the process holds."""
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:"):
                n += 1
        except OSError:
            pass
    return n


def scrape_time(url, limit):
    """Seconds until a scrape answers, retrying refused or reset tries."""
    t0 = time.monotonic()
    while True:
        try:
            with urllib.request.urlopen(url, timeout=limit) as r:
                assert r.status == 200 and b"hashspace_messages_received_total" in r.read()
                return time.monotonic() - t0
        except (OSError, urllib.error.URLError):
            if time.monotonic() - t0 > limit:
                raise
            time.sleep(0.2)


def closed_by_peer(s):
    """True when the hub closed this socket (EOF or reset)."""
    s.setblocking(False)
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def main():
    work = tempfile.mkdtemp(prefix="hs-metrics-limits-")
    pub = Publisher()
    hub = Hub(["--connect", pub.endpoint, "--self", "a", "--members", "a",
               "--consumer", "file:out.jsonl"], "hub", work)
    socks = []
    try:
        port = int(hub.metrics_url.rsplit(":", 1)[1].split("/")[0])
        base = tcp_fds(hub.proc.pid)

        # One address floods: it gets MAX_PER_IP, the scraper gets in.
        socks = open_idle(port, ["127.0.0.2"])
        time.sleep(0.5)
        took = scrape_time(hub.metrics_url, hubtest.scaled(5))
        held = tcp_fds(hub.proc.pid) - base
        log("one address, %d idle: scrape in %.3f s, hub holds %d of them" % (IDLE, took, held))
        assert took < hubtest.scaled(2), took
        assert held <= MAX_PER_IP + 1, held  # + the scrape's, perhaps not yet closed
        # The ones it refused were closed at once, the others after the idle timeout.
        t0 = time.monotonic()
        wait_until(lambda: all(closed_by_peer(s) for s in socks),
                   hubtest.scaled(IDLE_TIMEOUT_S + 10), "the idle connections to be closed")
        log("all %d closed after %.1f s" % (IDLE, time.monotonic() - t0))
        assert tcp_fds(hub.proc.pid) <= base + 1
        for s in socks:
            s.close()

        # Many addresses: the hub's descriptors stay bounded; a scrape gets in
        # once the idle ones time out.
        socks = open_idle(port, ["127.0.0.%d" % (2 + i) for i in range(13)])
        time.sleep(0.5)
        held = tcp_fds(hub.proc.pid) - base
        took = scrape_time(hub.metrics_url, hubtest.scaled(IDLE_TIMEOUT_S + 10))
        log("13 addresses, %d idle: hub holds %d; scrape in %.3f s" % (IDLE, held, took))
        assert held <= MAX_CONNECTIONS, held
        assert took < hubtest.scaled(IDLE_TIMEOUT_S + 5), took
        for s in socks:
            s.close()
        assert hub.stop() == 0
        log("ok: idle connections are bounded and timed out")
    finally:
        for s in socks:
            s.close()
        hub.kill()
        pub.close()
        hubtest.cleanup()


if __name__ == "__main__":
    main()
