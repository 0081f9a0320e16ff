"""test_hub_globs.py - topic globs match the whole topic and nothing after
it. A ZeroMQ frame is not NUL-terminated; a glob that does not end in '*'
once depended on the bytes that followed the topic in memory (the exact glob
`org.a` got 0 of 1000 messages, `*.award` with 319-byte bodies 0 of 1000).

One hub, no catch-all consumer, consumers with an exact, a suffix and a
middle glob; ~300-byte bodies on topics that each glob should and should not
take. Every msg_id is counted at every consumer, and the messages no glob
matches are counted in hashspace_messages_unmatched_total (with the
warm-ups, whose topic no glob matches either)."""
import fnmatch
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import Hub, Publisher, fedmsg_body, log, read_jsonl, wait_until  # noqa: E402

PER_TOPIC = 300
BODY_SIZE = 310
GLOBS = {"exact": "org.a", "suffix": "*.award", "middle": "org.*.award"}
TOPICS = ["org.a", "org.ab", "org.x.award", "org.y.z.award", "com.x.award", "org.a.awardx",
          "org.award"]


def body_of(topic, n):
    body = fedmsg_body(topic, {"user": "user-%d" % (n % 11), "pad": ""}, i=n)
    pad = max(0, BODY_SIZE - len(body))
    return fedmsg_body(topic, {"user": "user-%d" % (n % 11), "pad": "p" * pad}, i=n)


def main():
    work = tempfile.mkdtemp(prefix="hs-globs-")
    pub = Publisher()
    try:
        args = ["--connect", pub.endpoint, "--self", "a", "--members", "a",
                "--key", "json:/msg/user", "--dead-letter", "file:dead.jsonl"]
        for name, glob in GLOBS.items():
            args += ["--consumer", "%s@%s=file:%s.jsonl" % (name, glob, name)]
        hub = Hub(args, "globs", work)
        hubtest.wait_subscribed(pub, [hub])
        warmups = hub.metric("hashspace_messages_received_total")

        expected = {name: set() for name in GLOBS}
        unmatched = 0
        sizes = []
        n = 0
        for k in range(PER_TOPIC):
            for topic in TOPICS:
                n += 1
                body = body_of(topic, n)
                sizes.append(len(body))
                msg_id = json.loads(body)["msg_id"]
                hits = [name for name, glob in GLOBS.items()
                        if fnmatch.fnmatchcase(topic, glob)]
                for name in hits:
                    expected[name].add(msg_id)
                unmatched += not hits
                pub.send(topic, body)
        wait_until(lambda: hub.metric("hashspace_messages_received_total") >= warmups + n, 30,
                   "the hub to receive %d messages" % n)
        m = hub.scrape()
        received = m[("hashspace_messages_received_total", ())]
        got_unmatched = m[("hashspace_messages_unmatched_total", ())]
        rc = hub.stop()
        assert rc == 0, hub.log()[-2000:]

        log("bodies %d-%d bytes; %d messages on %d topics" % (min(sizes), max(sizes), n,
                                                              len(TOPICS)))
        for name, glob in GLOBS.items():
            ids = [r["body"]["msg_id"] for r in read_jsonl(os.path.join(work, name + ".jsonl"))]
            log("%s (%s): %d of %d expected, %d lines" % (name, glob, len(set(ids) &
                                                                         expected[name]),
                                                          len(expected[name]), len(ids)))
            assert len(ids) == len(set(ids)), "%s: a message was written twice" % name
            assert set(ids) == expected[name], (
                "%s (%s): %d missing, %d unexpected" % (name, glob, len(expected[name] - set(ids)),
                                                        len(set(ids) - expected[name])))
        # Every warm-up the hub received is unmatched too (no glob takes it).
        log("unmatched: %d (%d warm-ups + %d expected)" % (got_unmatched, received - n,
                                                           unmatched))
        assert got_unmatched == (received - n) + unmatched, (got_unmatched, received, n,
                                                             unmatched)
        assert not os.path.exists(os.path.join(work, "dead.jsonl"))
    finally:
        hubtest.cleanup()
        pub.close()


if __name__ == "__main__":
    main()
