"""test_membership_times.py - messages whose time cannot decide them: stamped
a day in the past or in the future (beyond --time-skew), or without a
timestamp at all, sent among ordinary ones to two dynamic hubs. Each hub
decides them by their time of receipt and counts them
(hashspace_messages_skewed_total, ..._untimed_total); every msg_id is
processed exactly once."""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clustertest  # noqa: E402
import hubtest  # noqa: E402
from hubtest import Publisher, wait_until  # noqa: E402

DAY = 86400.0


def main():
    clustertest.require_redis()
    work = tempfile.mkdtemp(prefix="hs-times-")
    redis = clustertest.Redis(work)
    pub = Publisher()
    cluster = clustertest.Cluster(work, redis, pub)
    try:
        for name in ("hub-a", "hub-b"):
            cluster.hub(name, "--join-wait", "0")
        cluster.wait_view(["hub-a", "hub-b"])
        hubs = list(cluster.hubs.values())
        hubtest.wait_subscribed(pub, hubs)
        stream = clustertest.CountingPublisher(pub, users=50)
        skewed = untimed = 0
        for k in range(600):
            if k % 10 == 3:
                stream.send_one(timestamp=time.time() - DAY)
                skewed += 1
            elif k % 10 == 6:
                stream.send_one(timestamp=time.time() + DAY)
                skewed += 1
            elif k % 10 == 9:
                stream.send_one(timestamp="not a number")
                untimed += 1
            else:
                stream.send_one()
            time.sleep(0.002)
        r = clustertest.wait_processed(cluster.out, stream.sent)
        wait_until(lambda: all(h.metric("hashspace_messages_skewed_total") == skewed
                               for h in hubs), 10, "every hub to count %d skewed" % skewed)
        counts = {h.name: (h.metric("hashspace_messages_skewed_total"),
                           h.metric("hashspace_messages_untimed_total")) for h in hubs}
        statuses = cluster.stop_all()
        clustertest.report("times far off", r, "; skewed %d, untimed %d sent; counted per hub "
                           "(skewed, untimed) %s" % (skewed, untimed, counts))
        assert all(s == 0 for s in statuses.values()), statuses
        for name, (s, u) in counts.items():
            assert s == skewed, (name, s, skewed)
            assert u == untimed, (name, u, untimed)
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
