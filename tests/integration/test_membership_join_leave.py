"""test_membership_join_leave.py - dynamic membership through a real
redis-server, mid-stream: a fourth hub joins three (planned join), then one
leaves with SIGTERM (planned leave). Every msg_id is counted in the one
output file all hubs append to: 0 lost, 0 duplicated, and no user's
sequence number goes backwards (per-key order across both handovers)."""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clustertest  # noqa: E402
import hubtest  # noqa: E402
from hubtest import Publisher, log  # noqa: E402

RATE = 1500


def main():
    clustertest.require_redis()
    work = tempfile.mkdtemp(prefix="hs-join-")
    redis = clustertest.Redis(work)
    pub = Publisher()
    cluster = clustertest.Cluster(work, redis, pub)
    try:
        # A second consumer that does not need per-key order: it gets held
        # messages at once (nothing lost or doubled all the same).
        unordered = os.path.join(work, "unordered.jsonl")
        fast = ["--consumer", "fast,ordered=false@org.*=file:%s" % unordered]
        for name in ("hub-a", "hub-b", "hub-c"):
            cluster.hub(name, "--join-wait", "0", *fast)
        cluster.wait_view(["hub-a", "hub-b", "hub-c"])
        hubtest.wait_subscribed(pub, list(cluster.hubs.values()))
        stream = clustertest.CountingPublisher(pub, users=300, rate=RATE)
        stream.start()
        time.sleep(1.5)

        t0 = time.monotonic()
        d = cluster.hub("hub-d", *fast)
        cluster.wait_view(["hub-a", "hub-b", "hub-c", "hub-d"],
                          list(cluster.hubs.values()))
        join_s = time.monotonic() - t0
        time.sleep(1.5)
        held = d.metric("hashspace_held_total")
        hold_s = d.metric("hashspace_hold_seconds_total")
        claimed_d = d.metric("hashspace_messages_claimed_total")
        log("join: hub-d in force on every hub %.2f s after it started; it claimed %d, held %d "
            "(%.3f s in all)" % (join_s, claimed_d, held, hold_s))

        t0 = time.monotonic()
        b = cluster.hubs["hub-b"]
        rc = b.stop()
        leave_s = time.monotonic() - t0
        assert rc == 0, "hub-b exited %s after SIGTERM:\n%s" % (rc, b.log()[-3000:])
        rest = [cluster.hubs[n] for n in ("hub-a", "hub-c", "hub-d")]
        cluster.wait_view(["hub-a", "hub-c", "hub-d"], rest)
        time.sleep(1.5)
        stream.stop()
        log("leave: hub-b exited 0 %.2f s after SIGTERM" % leave_s)

        r = clustertest.wait_processed(cluster.out, stream.sent)
        stats = {h.name: h.scrape() for h in rest}
        statuses = cluster.stop_all()
        clustertest.report("join+leave", r)
        u = clustertest.analyze(unordered, stream.sent)
        clustertest.report("join+leave, ordered=false consumer", u)
        assert u["lost"] == 0 and u["duplicated"] == 0 and u["unknown"] == 0, u
        assert all(s == 0 for s in statuses.values()), statuses
        assert r["unknown"] == 0, r
        assert r["lost"] == 0, r
        assert r["duplicated"] == 0, r
        assert r["reordered"] == 0, r
        assert claimed_d > 0, "hub-d claimed nothing after joining"
        for name, m in stats.items():
            assert m.get(("hashspace_possible_duplicates_total", ()), 0) == 0, name
            assert m.get(("hashspace_crashes_total", ()), 0) == 0, name
        assert "membership: leaving" in b.log(), b.log()[-2000:]
    finally:
        for h in cluster.hubs.values():
            h.kill()
        redis.stop()
        pub.close()
        hubtest.cleanup()


if __name__ == "__main__":
    main()
