"""test_membership_two_join.py - two hubs join a running pair at the same
moment, mid-stream: one view or two in a row, never two views of one epoch;
every msg_id processed exactly once, in per-key order."""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clustertest  # noqa: E402
import hubtest  # noqa: E402
from hubtest import Publisher  # noqa: E402


def main():
    clustertest.require_redis()
    work = tempfile.mkdtemp(prefix="hs-two-join-")
    redis = clustertest.Redis(work)
    pub = Publisher()
    cluster = clustertest.Cluster(work, redis, pub)
    try:
        for name in ("hub-a", "hub-b"):
            cluster.hub(name, "--join-wait", "0")
        cluster.wait_view(["hub-a", "hub-b"])
        hubtest.wait_subscribed(pub, list(cluster.hubs.values()))
        stream = clustertest.CountingPublisher(pub, users=300, rate=1500)
        stream.start()
        time.sleep(1.5)
        t0 = time.monotonic()
        cluster.hub("hub-c")
        cluster.hub("hub-d")
        names = ["hub-a", "hub-b", "hub-c", "hub-d"]
        cluster.wait_view(names)
        took = time.monotonic() - t0
        time.sleep(1.5)
        stream.stop()
        r = clustertest.wait_processed(cluster.out, stream.sent)
        epochs = {h.name: h.metric("hashspace_view_epoch") for h in cluster.hubs.values()}
        held = cluster.metric_sum("hashspace_held_total")
        statuses = cluster.stop_all()
        clustertest.report("two join at once", r, "; in force on all after %.2f s, epochs %s, "
                           "held %d" % (took, epochs, held))
        assert all(s == 0 for s in statuses.values()), statuses
        assert len(set(epochs.values())) == 1 and 2 <= min(epochs.values()) <= 3, epochs
        assert r["lost"] == 0 and r["duplicated"] == 0 and r["unknown"] == 0, r
        assert r["reordered"] == 0, r
    finally:
        for h in cluster.hubs.values():
            h.kill()
        redis.stop()
        pub.close()
        hubtest.cleanup()


if __name__ == "__main__":
    main()
