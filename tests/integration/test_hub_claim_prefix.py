"""test_hub_claim_prefix.py - the claim reads a body only as far as its key
(issue 13): two hubs of one cluster (members a,b, --key json:/msg/user),
fed fedmsg bodies whose bus sequence (i, username) comes before the key.

- Good messages: each msg_id processed exactly once by the two hubs.
- A body that is not JSON *after* the key: only the hub that owns the key
  reads that far, so exactly one hub refuses it (`json`) and dead-letters
  it; the other counts it skipped.
- A body that repeats the key's member with another value: the claim went
  by the first, the whole body says the last: exactly one hub refuses it
  (`repeated_key`).
- A body that is not JSON *before* the key: every hub sees it (as before).
- A second cluster (c,d) with --key-fallback topic processes each body that
  is not JSON after its key exactly once (by its key's owner), counted a
  fallback there.
Every hub: claimed + skipped + malformed == received."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import Hub, Publisher, fedmsg_body, log, read_jsonl, wait_until  # noqa: E402

GOOD = 400
EACH_BAD = 30


def main():
    work = tempfile.mkdtemp(prefix="hs-prefix-")
    pub = Publisher()
    hubs = []
    try:
        def hub(name, members, extra=()):
            return Hub(["--connect", pub.endpoint, "--self", name, "--members", members,
                        "--key", "json:/msg/user", "--consumer", "org.*=file:%s-out.jsonl" % name,
                        "--dead-letter", "file:%s-dead.jsonl" % name] + list(extra), name, work)
        a, b = hub("a", "a,b"), hub("b", "a,b")
        c = hub("c", "c,d", ["--key-fallback", "topic"])
        d = hub("d", "c,d", ["--key-fallback", "topic"])
        hubs = [a, b, c, d]
        hubtest.wait_subscribed(pub, hubs)
        before_run = hubtest.settled(hubs)  # warm-ups: not counted below

        seq = [0]

        def head():
            seq[0] += 1
            return '{"i":%d,"username":"prefix-test",' % seq[0]

        good = []
        sent = 0
        bad_tail, repeated, bad_before = [], [], []
        for k in range(GOOD):
            seq[0] += 1
            body = fedmsg_body("org.good", {"user": "user-%d" % k}, i=seq[0])
            good.append(json.loads(body)["msg_id"])
            pub.send("org.good", body)
            sent += 1
            if k % (GOOD // EACH_BAD) == 0 and len(bad_tail) < EACH_BAD:
                n = len(bad_tail)
                tail = (head() + '"msg":{"user":"tail-%d"},"id":"tail-%d","x":nonsense' % (n, n))
                pub.send("org.tail", tail.encode())
                bad_tail.append("tail-%d" % n)
                rep = (head() + '"msg":{"user":"rep-%d"},"id":"rep-%d","msg":{"user":"other-%d"}}'
                       % (n, n, n))
                pub.send("org.repeated", rep.encode())
                repeated.append("rep-%d" % n)
                before = head() + '"x":nonsense,"msg":{"user":"before-%d"},"id":"before-%d"}' % (n, n)
                pub.send("org.before", before.encode())
                bad_before.append("before-%d" % n)
                sent += 3
        log("sent %d: %d good, %d not JSON after the key, %d repeating it, %d not JSON before it"
            % (sent, len(good), len(bad_tail), len(repeated), len(bad_before)))

        for h in hubs:
            wait_until(lambda: h.metric("hashspace_messages_received_total")
                       >= before_run[h.name] + sent, 30, "%s to receive every message" % h.name)

        def processed(h):
            return h.metric("hashspace_consumer_processed_total", consumer="file-1", result="ok")
        wait_until(lambda: processed(a) + processed(b) >= len(good), 30, "a+b to process")
        wait_until(lambda: processed(c) + processed(d) >= len(good) + 2 * EACH_BAD, 30,
                   "c+d to process")

        def malformed(h, reason):
            return h.metric("hashspace_messages_malformed_total", reason=reason)

        for h in hubs:
            received = h.metric("hashspace_messages_received_total")
            claimed = h.metric("hashspace_messages_claimed_total")
            skipped = h.metric("hashspace_messages_skipped_total")
            bad = sum(v for (n, _), v in h.scrape().items()
                      if n == "hashspace_messages_malformed_total")
            log("%s: received %d claimed %d skipped %d malformed %d" % (
                h.name, received, claimed, skipped, bad))
            assert claimed + skipped + bad == received, h.name

        # Cluster a,b: good ones exactly once.
        ids = [r["body"]["msg_id"] for h in (a, b)
               for r in read_jsonl(os.path.join(work, "%s-out.jsonl" % h.name))]
        assert sorted(ids) == sorted(good), "a+b wrote %d of %d good, %d distinct" % (
            len(ids), len(good), len(set(ids)))

        def body_id(body):
            """The "id" of a record's body: JSON as received (parsed), or a string."""
            if isinstance(body, dict):
                return body["id"]
            return body.split('"id":"')[1].split('"')[0]

        def dead_ids(h, reason):
            path = os.path.join(work, "%s-dead.jsonl" % h.name)
            recs = read_jsonl(path) if os.path.exists(path) else []
            out = []
            for r in recs:
                if r["reason"] != reason:
                    continue
                out.append(body_id(r["body"]))
            return out

        tail_a, tail_b = dead_ids(a, "json"), dead_ids(b, "json")
        rep_a, rep_b = dead_ids(a, "repeated_key"), dead_ids(b, "repeated_key")
        log("not JSON after the key: a refused %d, b %d; repeated: a %d, b %d" % (
            sum(t.startswith("tail-") for t in tail_a), sum(t.startswith("tail-") for t in tail_b),
            len(rep_a), len(rep_b)))
        tails = [t for t in tail_a + tail_b if t.startswith("tail-")]
        assert sorted(tails) == sorted(bad_tail), "each refused by exactly one hub: %s" % tails
        assert sorted(rep_a + rep_b) == sorted(repeated), rep_a + rep_b
        # both hubs own some keys, so both refused some
        assert tails and len(tails) != len([t for t in tail_a if t.startswith("tail-")])
        for h in (a, b):
            befores = [t for t in dead_ids(h, "json") if t.startswith("before-")]
            assert sorted(befores) == sorted(bad_before), (h.name, befores)
        assert (malformed(a, "repeated_key") + malformed(b, "repeated_key")) == EACH_BAD
        assert malformed(a, "json") + malformed(b, "json") == EACH_BAD + 2 * EACH_BAD

        # Cluster c,d (fallback topic): the tails are processed once, by
        # their key's owner; the befores once, by their topic's.
        out_cd = [r for h in (c, d) for r in read_jsonl(os.path.join(work, "%s-out.jsonl" % h.name))]
        tail_seen = sorted(body_id(r["body"]) for r in out_cd if r["topic"] == "org.tail")
        before_seen = sorted(body_id(r["body"]) for r in out_cd if r["topic"] == "org.before")
        assert tail_seen == sorted(bad_tail), tail_seen
        assert before_seen == sorted(bad_before), before_seen
        assert malformed(c, "repeated_key") + malformed(d, "repeated_key") == EACH_BAD
        fallbacks = (c.metric("hashspace_messages_key_fallback_total")
                     + d.metric("hashspace_messages_key_fallback_total"))
        # the tails once each (their owner), the befores on both hubs
        assert fallbacks == EACH_BAD + 2 * EACH_BAD, fallbacks

        hubtest.stop_all(hubs)
        log("ok: %d good once each; %d bodies not JSON after the key and %d repeating it "
            "refused by one hub each; %d not JSON before it by both" % (
                len(good), len(bad_tail), len(repeated), len(bad_before)))
    finally:
        for h in hubs:
            h.kill()
        pub.close()
        hubtest.cleanup()


if __name__ == "__main__":
    main()
