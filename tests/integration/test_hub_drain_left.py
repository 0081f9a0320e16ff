"""test_hub_drain_left.py - what a bounded drain gives up on is not lost.

slow: a consumer far behind and a 1 s --drain-timeout: every message the hub
took is in the consumer's output or in the dead-letter file (reason "left"),
exactly once, and the summary counts the left ones.

hung: an exec child that hangs forever on one message, with no timeout
set: after SIGTERM the hub stops the child (SIGTERM to its process group
once the worker is 2 s past the drain deadline), the child is gone, the
hung message is dead-lettered as failed and the ones behind it as left."""
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import Hub, Publisher, fedmsg_body, log, read_jsonl, wait_until  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("HS_SOURCE_DIR") or os.path.join(HERE, "..", "..")
SLOW = os.path.join(SOURCE, "examples", "consumers", "slow_consumer.py")
CRASHY = os.path.join(HERE, "crashy_consumer.py")


def pid_alive(pid):
    """Running or a zombie: /proc/PID exists."""
    return os.path.exists("/proc/%d" % pid)


def publish_all(pub, hub, consumer, n):
    """Send n messages and wait until the hub took them all (routed to the
    consumer): from then on each must end processed or dead-lettered."""
    sent = []
    for i in range(1, n + 1):
        body = fedmsg_body("org.drain", {"user": "u%d" % (i % 50)}, i=i)
        sent.append(body.split(b'"msg_id":"')[1].split(b'"')[0].decode())
        pub.send("org.drain", body)

    def routed():
        for c in hub.status()["consumers"]:
            if c["name"] == consumer:
                return c["routed"] >= n
        return False
    wait_until(routed, 20, "the hub to take all %d messages" % n)
    return sent


def account(sent, handled, dead):
    """Every sent msg_id exactly once in handled + dead."""
    both = handled + [r["body"]["msg_id"] for r in dead]
    assert len(both) == len(set(both)), "%d messages handled or dead-lettered twice" % (
        len(both) - len(set(both)))
    missing = set(sent) - set(both)
    assert not missing, "%d of %d messages neither handled nor dead-lettered, e.g. %s" % (
        len(missing), len(sent), sorted(missing)[:3])
    assert set(both) == set(sent), "unknown msg_ids"


def summary_left(text, consumer):
    m = re.search(r"consumer %s: ok (\d+), failed (\d+), dropped (\d+), left (\d+)" % consumer,
                  text)
    assert m, "no summary in the log:\n" + text[-2000:]
    return tuple(map(int, m.groups()))


def slow(work):
    n = 1500
    pub = Publisher()
    out = os.path.join(work, "slow.jsonl")
    dead = os.path.join(work, "slow-dead.jsonl")
    hub = Hub(["--connect", pub.endpoint, "--self", "a", "--members", "a",
               "--key", "json:/msg/user", "--drain-timeout", "1", "--dead-letter", "file:" + dead,
               "--consumer", "slow@org.*=exec:/usr/bin/python3 %s --sleep 0.05 --out %s"
               % (SLOW, out)], "slow", work)
    try:
        hubtest.wait_subscribed(pub, [hub])
        sent = publish_all(pub, hub, "slow", n)
        t0 = time.monotonic()
        rc = hub.stop(timeout=30)
        took = time.monotonic() - t0
        ok, failed, dropped, left = summary_left(hub.log(), "slow")
        handled = [r["msg_id"] for r in read_jsonl(out)]
        records = read_jsonl(dead)
        log("slow: %d sent; ok %d, failed %d, left %d; %d lines written, %d dead-lettered; "
            "exit %d after %.2f s" % (n, ok, failed, left, len(handled), len(records), rc, took))
        assert rc == 0, hub.log()[-2000:]
        assert left > n // 2, "expected most messages left by a 1 s drain: %d" % left
        assert ok + failed + left == n, (ok, failed, left)
        assert sum(1 for r in records if r["reason"] == "left") == left
        assert all(r["consumer"] == "slow" for r in records)
        assert 'dead-lettered with reason "left"' in hub.log()
        assert took < hubtest.scaled(1 + 5), "the drain took %.1f s" % took
        account(sent, handled, records)
    finally:
        hub.kill()
        pub.close()


def hung(work):
    n = 300
    pub = Publisher()
    out = os.path.join(work, "hung.jsonl")
    dead = os.path.join(work, "hung-dead.jsonl")
    state = os.path.join(work, "hung-state")
    os.mkdir(state)
    hub = Hub(["--connect", pub.endpoint, "--self", "a", "--members", "a",
               "--key", "json:/msg/user", "--drain-timeout", "1", "--dead-letter", "file:" + dead,
               "--consumer", "hung@org.*=exec:/usr/bin/python3 %s --out %s --state %s "
               "--hang-on 3" % (CRASHY, out, state)], "hung", work)
    try:
        hubtest.wait_subscribed(pub, [hub])
        sent = publish_all(pub, hub, "hung", n)
        wait_until(lambda: "hanging on i=3" in hub.log(), 10, "the child to hang")
        pids = sorted(int(f[4:]) for f in os.listdir(state) if f.startswith("pid-"))
        assert len(pids) == 1, pids
        t0 = time.monotonic()
        rc = hub.stop(timeout=30)
        took = time.monotonic() - t0
        gone = wait_until(lambda: not pid_alive(pids[0]), 5,
                          "the hung child %d to be gone after the hub exited" % pids[0])
        ok, failed, dropped, left = summary_left(hub.log(), "hung")
        handled = [r["msg_id"] for r in read_jsonl(out)]
        records = read_jsonl(dead)
        log("hung: hub exited %d after %.2f s, child %d gone: %s; ok %d, failed %d, left %d, "
            "%d dead-lettered" % (rc, took, pids[0], gone, ok, failed, left, len(records)))
        assert rc == 0, hub.log()[-2000:]
        assert took < hubtest.scaled(1 + 2 + 1 + 5), "the hub took %.1f s to exit" % took
        assert "sending SIGTERM to its child process" in hub.log()
        assert ok == 2 and failed == 1 and left == n - 3, (ok, failed, left)
        reasons = sorted(r["reason"] for r in records)
        assert reasons == ["failed"] + ["left"] * (n - 3), reasons[:3]
        account(sent, handled, records)
    finally:
        hub.kill()
        pub.close()


def main():
    work = tempfile.mkdtemp(prefix="hs-drain-left-")
    try:
        slow(work)
        hung(work)
    finally:
        hubtest.cleanup()


if __name__ == "__main__":
    main()
