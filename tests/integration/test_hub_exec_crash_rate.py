"""test_hub_exec_crash_rate.py - an exec consumer that crashes on 1% of the
messages (the first time it sees each) still keeps up: a child that had
answered is replaced at once, so the restarts cost a process start each, not
a backoff growing to 5 s (about 30 msg/s before). Every message ends ok or
dead-lettered, exactly once, counted by msg_id."""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import Hub, Publisher, fedmsg_body, log, read_jsonl  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CRASHY = os.path.join(HERE, "crashy_consumer.py")
N = 1000
CRASH_ON = list(range(50, N + 1, 100))  # 1%
# A floor the old backoff cannot reach (about 37 msg/s here: 26 s of
# backoff for 10 crashes), with room for a loaded 2-core machine (a Python
# start can take 0.5 s there; 10 of them still leave 150+ msg/s).
FLOOR = 100.0 / hubtest.TIMEOUT_SCALE
LIMIT = 20.0


def main():
    work = tempfile.mkdtemp(prefix="hs-crashrate-")
    out = os.path.join(work, "handled.jsonl")
    state = os.path.join(work, "state")
    dead = os.path.join(work, "dead.jsonl")
    os.mkdir(state)
    pub = Publisher()
    spec = ("crashy,max_tries=3@org.*=exec:/usr/bin/python3 %s --out %s --state %s "
            "--crash-on %s" % (CRASHY, out, state, ",".join(map(str, CRASH_ON))))
    hub = Hub(["--connect", pub.endpoint, "--self", "a", "--members", "a",
               "--key", "json:/msg/user", "--consumer", spec, "--dead-letter", "file:" + dead,
               "--drain-timeout", "5"], "crashrate", work)
    try:
        hubtest.wait_subscribed(pub, [hub])
        sent = set()
        t0 = time.monotonic()
        for i in range(1, N + 1):
            body = fedmsg_body("org.exec.test", {"user": "user-%d" % (i % 13)}, i=i)
            sent.add(body.split(b'"msg_id":"')[1].split(b'"')[0].decode())
            pub.send("org.exec.test", body)

        def finished():
            m = hub.scrape()
            return sum(m.get(("hashspace_consumer_processed_total",
                              (("consumer", "crashy"), ("result", r))), 0)
                       for r in ("ok", "failed"))
        done = 0
        deadline = t0 + hubtest.scaled(LIMIT)
        while time.monotonic() < deadline:
            done = finished()
            if done >= N:
                break
            time.sleep(0.05)
        took = time.monotonic() - t0
        rate = done / took
        restarts = hub.metric("hashspace_consumer_restarts_total", consumer="crashy")
        log("%d of %d messages finished in %.2f s: %.0f msg/s, %d restarts (floor %.0f msg/s)"
            % (done, N, took, rate, restarts, FLOOR))
        assert done >= N, "only %d of %d finished within %.0f s (%.0f msg/s)" % (
            done, N, hubtest.scaled(LIMIT), rate)
        assert rate >= FLOOR, "%.0f msg/s, below the floor of %.0f" % (rate, FLOOR)
        assert restarts >= len(CRASH_ON), restarts
        assert hub.stop() == 0, hub.log()[-2000:]

        handled = [r["msg_id"] for r in read_jsonl(out)]
        dead_ids = [r["body"]["msg_id"] for r in read_jsonl(dead)]
        both = handled + dead_ids
        assert len(both) == len(set(both)), "a message was handled or dead-lettered twice"
        assert set(both) == sent, "lost %d, unknown %d" % (len(sent - set(both)),
                                                           len(set(both) - sent))
        log("ok: %d handled, %d dead-lettered, none lost or doubled" % (len(handled),
                                                                       len(dead_ids)))
    finally:
        hub.kill()
        pub.close()
        hubtest.cleanup()


if __name__ == "__main__":
    main()
