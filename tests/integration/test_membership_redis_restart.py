"""test_membership_redis_restart.py - Redis restarts with an empty database
in mid-stream (killed and started again on its port): the hubs re-register,
wait out the grace, epochs do not go back, and every msg_id is processed
exactly once, in per-key order."""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clustertest  # noqa: E402
import hubtest  # noqa: E402
from hubtest import Publisher, wait_until  # noqa: E402

NAMES = ["hub-a", "hub-b", "hub-c"]


def main():
    clustertest.require_redis()
    work = tempfile.mkdtemp(prefix="hs-redis-restart-")
    redis = clustertest.Redis(work)
    pub = Publisher()
    cluster = clustertest.Cluster(work, redis, pub)
    try:
        for name in NAMES:
            cluster.hub(name, "--join-wait", "0")
        cluster.wait_view(NAMES)
        hubs = list(cluster.hubs.values())
        hubtest.wait_subscribed(pub, hubs)
        stream = clustertest.CountingPublisher(pub, users=300, rate=1500)
        stream.start()
        time.sleep(1.5)
        epochs = {h.name: h.metric("hashspace_view_newest_epoch") for h in hubs}
        errors = cluster.metric_sum("hashspace_coordinator_errors_total")
        redis.restart()
        wait_until(lambda: cluster.metric_sum("hashspace_coordinator_errors_total") > errors, 10,
                   "the hubs to notice the restart")
        rounds = {h.name: h.metric("hashspace_coordinator_rounds_total") for h in hubs}
        wait_until(lambda: all(h.metric("hashspace_coordinator_rounds_total") > rounds[h.name] + 5
                               for h in hubs), 15, "every hub to run rounds again")
        time.sleep(2.0)
        stream.stop()
        r = clustertest.wait_processed(cluster.out, stream.sent)
        after = {h.name: h.metric("hashspace_view_newest_epoch") for h in hubs}
        members = {h.name: h.metric("hashspace_view_members") for h in hubs}
        crashes = cluster.metric_sum("hashspace_crashes_total")
        statuses = cluster.stop_all()
        clustertest.report("Redis restart", r, "; epochs before %s, after %s"
                           % (epochs, after))
        assert all(s == 0 for s in statuses.values()), statuses
        assert all(after[n] >= epochs[n] for n in epochs), (epochs, after)
        assert all(m == 3 for m in members.values()), members
        assert crashes == 0, crashes
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
