"""test_hub_slow_fast.py - a slow consumer does not slow a fast one on the
same hub: the fast consumer's time to finish a burst is measured alone and
next to a slow consumer (an exec child taking 20 ms a message), with the
slow one's queue blocking (large enough to hold the burst) and dropping
(small, drops counted)."""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import Hub, Publisher, fedmsg_body, log, wait_until  # noqa: E402

SOURCE = os.environ.get("HS_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
SLOW = os.path.join(SOURCE, "examples", "consumers", "slow_consumer.py")
BURST = 5000


def measure(work, tag, extra):
    pub = Publisher()
    hub = Hub(["--connect", pub.endpoint, "--self", "a", "--members", "a",
               "--key", "json:/msg/user", "--drain-timeout", "1",
               "--consumer", "fast@org.*=file:%s-fast.jsonl" % tag] + extra, tag, work)
    try:
        hubtest.wait_subscribed(pub, [hub])
        bodies = [fedmsg_body("org.burst", {"user": "u%d" % (i % 100)}, i=i + 1)
                  for i in range(BURST)]
        t0 = time.monotonic()
        for b in bodies:
            pub.send("org.burst", b)
        wait_until(lambda: hub.metric("hashspace_consumer_processed_total", consumer="fast",
                                      result="ok") >= BURST, 30,
                   "the fast consumer to finish the burst (%s)" % tag, interval=0.01)
        took = time.monotonic() - t0
        m = hub.scrape()
        rc = hub.stop(timeout=20)
        assert rc == 0, hub.log()[-2000:]
        return took, m
    finally:
        hub.kill()
        pub.close()


def slow_spec(queue, on_full):
    return ["--consumer", "slow,queue=%d,on_full=%s@org.*=exec:/usr/bin/python3 %s --sleep 0.02"
            % (queue, on_full, SLOW)]


def main():
    work = tempfile.mkdtemp(prefix="hs-slowfast-")
    try:
        alone, _ = measure(work, "alone", [])
        blocking, m = measure(work, "with-slow", slow_spec(2 * BURST, "block"))
        slow_ok = m[("hashspace_consumer_processed_total",
                     (("consumer", "slow"), ("result", "ok")))]
        slow_backlog = m[("hashspace_consumer_backlog", (("consumer", "slow"),))]
        dropping, md = measure(work, "with-slow-drop", slow_spec(100, "drop"))
        dropped = md[("hashspace_consumer_dropped_total", (("consumer", "slow"),))]
        log("fast consumer, %d messages: alone %.3f s; next to a slow one %.3f s (slow: %d "
            "done, %d behind); next to a slow dropping one %.3f s (%d dropped)"
            % (BURST, alone, blocking, slow_ok, slow_backlog, dropping, dropped))
        # The slow consumer really was slow: most of the burst still waited for it.
        assert slow_backlog > BURST / 2, slow_backlog
        assert dropped > 0
        bound = max(3 * alone, alone + 2.0)
        assert blocking < bound, "fast consumer slowed: %.2f s vs %.2f s alone" % (
            blocking, alone)
        assert dropping < bound, "fast consumer slowed: %.2f s vs %.2f s alone" % (
            dropping, alone)
    finally:
        hubtest.cleanup()


if __name__ == "__main__":
    main()
