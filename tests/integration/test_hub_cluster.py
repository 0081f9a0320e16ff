"""test_hub_cluster.py - four hubs with static membership share one bus:
every message is processed exactly once across the cluster (counted by
msg_id), and every key always lands on the same hub, the one that
`hashspace route` names. With --curve, the same over CURVE: the publisher
is a CURVE server that lets in only the four hubs' keys (an allowlist
directory), each hub its client with its own key pair."""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import HS_BIN, Hub, Publisher, fedmsg_body, log, wait_until  # noqa: E402

MESSAGES = 20000
USERS = 997
MEMBERS = ["hub-a", "hub-b", "hub-c", "hub-d"]


def main():
    curve = "--curve" in sys.argv[1:]
    work = tempfile.mkdtemp(prefix="hs-cluster-")
    curve_args = {}
    if curve:
        allow = os.path.join(work, "allow")
        os.mkdir(allow)
        pub_public, pub_secret = hubtest.keygen(work, "publisher.key")
        for name in MEMBERS:
            public, secret = hubtest.keygen(work, "%s.key" % name)
            os.rename(public, os.path.join(allow, "%s.key" % name))
            curve_args[name] = ["--curve-secret-key", secret, "--curve-server-key", pub_public]
        pub = Publisher(curve_secret=pub_secret, curve_allow=allow)
        log("CURVE on: the publisher lets in the %d hubs' keys" % len(MEMBERS))
    else:
        pub = Publisher()
    hubs = []
    try:
        for name in MEMBERS:
            hubs.append(Hub(curve_args.get(name, []) + ["--connect", pub.endpoint, "--self", name,
                             "--members", ",".join(MEMBERS), "--key", "json:/msg/user",
                             "--consumer", "org.*=file:out-%s.jsonl" % name,
                             "--dead-letter", "file:dead-%s.jsonl" % name]
                            # Two hubs run several workers: same result expected.
                            + (["--workers", "3"] if name in ("hub-c", "hub-d") else []),
                            name, work))
        hubtest.wait_subscribed(pub, hubs)
        # Each hub is subscribed; count this test's messages from where the
        # warm-ups left each hub's counter (a late hub saw fewer of them).
        before = hubtest.settled(hubs)

        sent = {}
        t0 = time.monotonic()
        for i in range(MESSAGES):
            user = "user-%d" % (i % USERS)
            body = fedmsg_body("org.hashspace.test", {"user": user, "n": i}, i=i + 1)
            msg_id = body.split(b'"msg_id":"')[1].split(b'"')[0].decode()
            sent[msg_id] = user
            pub.send("org.hashspace.test", body)
        log("published %d messages in %.2f s" % (MESSAGES, time.monotonic() - t0))

        def all_done():
            got = [h.scrape() for h in hubs]
            received = [m.get(("hashspace_messages_received_total", ()), 0) for m in got]
            ok = sum(m.get(("hashspace_consumer_processed_total",
                            (("consumer", "file-1"), ("result", "ok"))), 0) for m in got)
            return all(received[k] - before[h.name] >= MESSAGES
                       for k, h in enumerate(hubs)) and ok >= MESSAGES
        wait_until(all_done, 40, "every hub to receive and the cluster to process %d"
                   % MESSAGES, interval=0.2)
        time.sleep(0.3)  # a duplicate would have time to show up
        stats = {h.name: h.scrape() for h in hubs}
        hubtest.stop_all(hubs)

        seen = {}
        hub_of_user = {}
        for h in hubs:
            for rec in hubtest.read_jsonl(os.path.join(work, "out-%s.jsonl" % h.name)):
                msg_id = rec["body"]["msg_id"]
                seen[msg_id] = seen.get(msg_id, 0) + 1
                hub_of_user.setdefault(rec["body"]["msg"]["user"], set()).add(h.name)
        duplicates = sum(c - 1 for c in seen.values() if c > 1)
        lost = [m for m in sent if m not in seen]
        unknown = [m for m in seen if m not in sent]
        per_hub = {h: int(stats[h][("hashspace_messages_claimed_total", ())]) for h in stats}
        log("sent %d, processed %d distinct, duplicates %d, lost %d, unknown %d; claimed per "
            "hub %s" % (len(sent), len(seen), duplicates, len(lost), len(unknown), per_hub))
        assert duplicates == 0, "duplicates: %d" % duplicates
        assert not lost, "lost %d, e.g. %s" % (len(lost), lost[:5])
        assert not unknown, "unknown msg_ids: %s" % unknown[:5]
        for name, m in stats.items():
            received = m[("hashspace_messages_received_total", ())]
            claimed = m[("hashspace_messages_claimed_total", ())]
            skipped = m[("hashspace_messages_skipped_total", ())]
            malformed = sum(v for (n, _), v in m.items()
                            if n == "hashspace_messages_malformed_total")
            assert claimed + skipped + malformed == received, (name, claimed, skipped, received)
            assert malformed == 0, (name, malformed)
            assert claimed > MESSAGES / 8, "hub %s took only %d" % (name, claimed)

        split = [u for u, owners in hub_of_user.items() if len(owners) != 1]
        assert not split, "keys seen on several hubs: %s" % split[:5]
        users = sorted(hub_of_user)
        route = subprocess.run([HS_BIN, "route", "--members", ",".join(MEMBERS)] + users,
                               capture_output=True, text=True, check=True).stdout
        predicted = dict(line.split("\t") for line in route.splitlines())
        wrong = [u for u in users if {predicted[u]} != hub_of_user[u]]
        assert not wrong, "hub differs from `hashspace route` for %s" % wrong[:5]
        log("ok: %d keys, each on one hub, the one `hashspace route` names" % len(users))
    finally:
        for h in hubs:
            h.kill()
        pub.close()
        hubtest.cleanup()


if __name__ == "__main__":
    main()
