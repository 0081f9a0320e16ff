"""test_membership_fence.py - a hub cut off from Redis (through a TCP proxy
the test controls) for longer than its registration lives fences itself
(hashspace_fenced 1, it claims nothing), the others make a view without it
and take its share over from its watermark; when the proxy lets it through
again it claims again and rejoins by a planned join. Every msg_id is
counted: 0 lost, duplicates within what was reported as possible, per-key
order kept apart from those."""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clustertest  # noqa: E402
import hubtest  # noqa: E402
from hubtest import Publisher, log, wait_until  # noqa: E402

RATE = 1500
NAMES = ["hub-a", "hub-b", "hub-c"]


def main():
    clustertest.require_redis()
    work = tempfile.mkdtemp(prefix="hs-fence-")
    redis = clustertest.Redis(work)
    proxy = clustertest.TcpProxy(redis.port)
    pub = Publisher()
    cluster = clustertest.Cluster(work, redis, pub)
    try:
        cluster.hub("hub-a", "--join-wait", "0")
        cluster.hub("hub-b", "--join-wait", "0")
        c = cluster.hub("hub-c", "--join-wait", "0",
                        coordinator="redis://127.0.0.1:%d" % proxy.port)
        cluster.wait_view(NAMES)
        hubtest.wait_subscribed(pub, list(cluster.hubs.values()))
        stream = clustertest.CountingPublisher(pub, users=300, rate=RATE)
        stream.start()
        time.sleep(1.5)

        others = [cluster.hubs["hub-a"], cluster.hubs["hub-b"]]
        t0 = time.monotonic()
        proxy.cut()
        wait_until(lambda: c.metric("hashspace_fenced") == 1, 10, "hub-c to fence itself")
        fenced_s = time.monotonic() - t0
        wait_until(lambda: all(h.metric("hashspace_crashes_total") >= 1 for h in others), 10,
                   "hub-a and hub-b to take hub-c's share over")
        cluster.wait_view(["hub-a", "hub-b"], others)
        time.sleep(1.0)
        not_claimed = c.metric("hashspace_fenced_messages_total")

        t1 = time.monotonic()
        proxy.restore()
        wait_until(lambda: c.metric("hashspace_fenced") == 0, 15, "hub-c to claim again")
        cluster.wait_view(NAMES)
        rejoin_s = time.monotonic() - t1
        time.sleep(1.5)
        stream.stop()

        r = clustertest.wait_processed(cluster.out, stream.sent)
        stats = {h.name: h.scrape() for h in cluster.hubs.values()}

        def total(name):
            return sum(m.get((name, ()), 0) for m in stats.values())
        possible = total("hashspace_possible_duplicates_total")
        statuses = cluster.stop_all()
        clustertest.report("hub cut off from Redis", r,
                           "; fenced %.2f s after the cut, %d messages not claimed while "
                           "fenced, replayed %d, taken over %d, possible duplicates %d, "
                           "rejoined %.2f s after the proxy came back"
                           % (fenced_s, not_claimed, total("hashspace_replayed_total"),
                              total("hashspace_taken_over_total"), possible, rejoin_s))
        assert all(s == 0 for s in statuses.values()), statuses
        assert not_claimed > 0, "hub-c claimed through its fence"
        assert r["unknown"] == 0, r
        assert total("hashspace_ring_misses_total") == 0
        assert r["lost"] == 0, r
        assert r["duplicated"] <= possible, (r, possible)
        assert r["reordered"] <= r["duplicated"], r
        assert "fenced" in c.log(), c.log()[-2000:]
    finally:
        for h in cluster.hubs.values():
            h.kill()
        proxy.close()
        redis.stop()
        pub.close()
        hubtest.cleanup()


if __name__ == "__main__":
    main()
