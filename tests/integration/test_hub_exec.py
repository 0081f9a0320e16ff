"""test_hub_exec.py - an exec consumer that crashes or hangs on chosen
messages the first time it sees them, behind a real hub: the hub restarts it
(with backoff, and after a timeout for the hanging one), every message is
processed exactly once (counted by msg_id in the consumer's own record),
restarts show in /metrics, no dead letters, and no child is left behind,
not even as a zombie, while the hub runs or after it stops."""
import os
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import Hub, Publisher, fedmsg_body, log, read_jsonl, wait_until  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CRASHY = os.path.join(HERE, "crashy_consumer.py")
N = 80
CRASH_ON = [5, 17, 30]
HANG_ON = [44]
WORKERS = 2


def proc_state(pid):
    """The /proc state letter of pid ('R', 'S', 'Z', ...), None when gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return None


def started_pids(state_dir):
    return sorted(int(n[4:]) for n in os.listdir(state_dir) if n.startswith("pid-"))


def main():
    work = tempfile.mkdtemp(prefix="hs-exec-")
    out = os.path.join(work, "handled.jsonl")
    state = os.path.join(work, "state")
    dead = os.path.join(work, "dead.jsonl")
    os.mkdir(state)
    pub = Publisher()
    spec = ("crashy,workers=%d,timeout=2,max_tries=3@org.*=exec:/usr/bin/python3 %s "
            "--out %s --state %s --crash-on %s --hang-on %s"
            % (WORKERS, CRASHY, out, state, ",".join(map(str, CRASH_ON)),
               ",".join(map(str, HANG_ON))))
    hub = Hub(["--connect", pub.endpoint, "--self", "a", "--members", "a",
               "--key", "json:/msg/user", "--consumer", spec, "--dead-letter", "file:" + dead,
               "--log-level", "debug", "--drain-timeout", "5"], "exec", work)
    try:
        hubtest.wait_subscribed(pub, [hub])
        wait_until(lambda: len(started_pids(state)) == WORKERS, 10,
                   "the %d exec children to start" % WORKERS)
        t0 = time.monotonic()
        for i in range(1, N + 1):
            body = fedmsg_body("org.exec.test", {"user": "user-%d" % (i % 11)}, i=i)
            pub.send("org.exec.test", body)
        wait_until(lambda: hub.metric("hashspace_consumer_processed_total", consumer="crashy",
                                      result="ok") >= N, 40, "every message to be processed")
        took = time.monotonic() - t0
        m = hub.scrape()

        handled = read_jsonl(out)
        by_i = {}
        for rec in handled:
            by_i.setdefault(rec["i"], []).append(rec)
        missing = sorted(set(range(1, N + 1)) - set(by_i))
        dups = sorted(i for i, recs in by_i.items() if len(recs) > 1)
        assert not missing, "lost: %s" % missing
        assert not dups, "handled twice: %s" % dups
        assert len(handled) == N and len({r["msg_id"] for r in handled}) == N
        # The ones it crashed or hung on were handled on the second attempt,
        # by a new child; every other one on the first.
        for i, (rec,) in by_i.items():
            want = 2 if i in CRASH_ON + HANG_ON else 1
            assert rec["attempt"] == want, (i, rec)

        restarts = m[("hashspace_consumer_restarts_total", (("consumer", "crashy"),))]
        failed = m.get(("hashspace_consumer_processed_total",
                        (("consumer", "crashy"), ("result", "failed"))), 0.0)
        assert restarts == len(CRASH_ON) + len(HANG_ON), restarts
        assert failed == 0, failed
        assert not read_jsonl(dead), read_jsonl(dead)
        text = hub.log()
        assert "exited with status 7 before answering" in text, text[-3000:]
        assert "no answer within 2 s" in text, text[-3000:]

        # Every child but the current one of each worker is gone, not a zombie.
        pids = started_pids(state)
        assert len(pids) == WORKERS + len(CRASH_ON) + len(HANG_ON), pids
        states = {pid: proc_state(pid) for pid in pids}
        alive = [pid for pid, s in states.items() if s is not None]
        assert len(alive) == WORKERS, states
        assert all(states[pid] != "Z" for pid in alive), states

        rc = hub.stop(signal.SIGTERM, timeout=20)
        assert rc == 0, hub.log()[-3000:]
        gone = wait_until(lambda: all(proc_state(pid) is None for pid in pids), 5,
                          "the children to be gone after the hub stopped")
        assert gone
        log("exec consumer: %d messages, %d crashes + %d hang, %d restarts, all handled "
            "exactly once in %.2f s" % (N, len(CRASH_ON), len(HANG_ON), restarts, took))
    finally:
        hub.kill()
        pub.close()
        hubtest.cleanup()


if __name__ == "__main__":
    main()
