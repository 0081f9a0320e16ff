"""test_hub_drain.py - SIGTERM in the middle of a stream: the hub stops
receiving, finishes every message it accepted, reports, and exits 0; with a
short --drain-timeout it gives up in time and reports what was left, and
every claimed message is either processed or reported left."""
import json
import os
import re
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import Hub, Publisher, fedmsg_body, log, read_jsonl, wait_until  # noqa: E402

SOURCE = os.environ.get("HS_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
SLOW = os.path.join(SOURCE, "examples", "consumers", "slow_consumer.py")


def publish(pub, count, rate, stop):
    for i in range(count):
        if stop.is_set():
            break
        pub.send("org.drain", fedmsg_body("org.drain", {"user": "u%d" % (i % 50)}, i=i + 1))
        time.sleep(1.0 / rate)


def summary(text):
    hub = re.search(r"claimed (\d+), skipped (\d+), malformed (\d+), unmatched (\d+)", text)
    cons = re.search(r"consumer slow: ok (\d+), failed (\d+), dropped (\d+), left (\d+)", text)
    assert hub and cons, "no summary in the log:\n" + text[-2000:]
    claimed, _, _, unmatched = map(int, hub.groups())
    ok, failed, dropped, left = map(int, cons.groups())
    return claimed - unmatched, ok, failed, dropped, left


def run(work, tag, sleep, drain_timeout, count, rate, stop_after):
    pub = Publisher()
    out = os.path.join(work, "%s.jsonl" % tag)
    hub = Hub(["--connect", pub.endpoint, "--self", "a", "--members", "a",
               "--key", "json:/msg/user", "--drain-timeout", str(drain_timeout),
               "--consumer", "slow@org.*=exec:/usr/bin/python3 %s --sleep %s --out %s"
               % (SLOW, sleep, out)], tag, work)
    stop = threading.Event()
    try:
        hubtest.wait_subscribed(pub, [hub])
        t = threading.Thread(target=publish, args=(pub, count, rate, stop))
        t.start()
        time.sleep(stop_after)
        backlog = hub.metric("hashspace_consumer_backlog", consumer="slow")
        t0 = time.monotonic()
        rc = hub.stop(timeout=drain_timeout + 20)
        took = time.monotonic() - t0
        stop.set()
        t.join()
        accepted, ok, failed, dropped, left = summary(hub.log())
        written = read_jsonl(out)
        ids = [r.get("msg_id") for r in written]
        log("%s: backlog %d at SIGTERM; accepted %d, ok %d, failed %d, left %d; exit %d "
            "after %.2f s; %d lines written" % (tag, backlog, accepted, ok, failed, left, rc,
                                                took, len(written)))
        assert rc == 0, hub.log()[-2000:]
        assert backlog > 0, "the consumer was not behind at SIGTERM: nothing to drain"
        assert failed == 0 and dropped == 0
        assert len(set(ids)) == len(ids), "a message was processed twice"
        return accepted, ok, left, took, len(written)
    finally:
        stop.set()
        hub.kill()
        pub.close()


def main():
    work = tempfile.mkdtemp(prefix="hs-drain-")
    try:
        # Everything accepted is processed: 5 ms a message, ~1.5 s of backlog.
        accepted, ok, left, took, written = run(work, "full", 0.005, 30, 3000, 1000, 1.0)
        assert accepted > 0 and ok == accepted and left == 0, (accepted, ok, left)
        assert written == accepted, (written, accepted)

        # A drain bounded to 1 s: the hub gives up in time and says what was left.
        accepted, ok, left, took, written = run(work, "bounded", 0.05, 1, 3000, 1000, 1.0)
        assert left > 0, "expected a left-over with a 1 s drain of a 50 ms consumer"
        assert ok + left == accepted, (ok, left, accepted)
        assert took < 1 + 5, "the drain took %.1f s" % took
        # The consumer may have written the line of the message in hand before
        # the hub gave up on its answer.
        assert ok <= written <= ok + 1, (ok, written)
    finally:
        hubtest.cleanup()


if __name__ == "__main__":
    main()
