"""test_hub_malformed.py - malformed input (one frame, three frames, invalid
JSON with a JSON key, a missing key, a 16 MiB body, a 1 MiB topic (over
--max-topic, 64 KiB by default), a topic that is not UTF-8) is counted by reason, written to the dead-letter file, and the hub
keeps processing good messages. A second hub keyed on the whole body takes
the non-JSON body as an ordinary message; a third, with --key-fallback topic,
places the no-key and non-JSON messages by their topic and counts them."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import Hub, Publisher, fedmsg_body, log, read_jsonl, wait_until  # noqa: E402

GOOD_BETWEEN = 5  # good messages after each bad one
GOOD_AFTER = 200


def main():
    work = tempfile.mkdtemp(prefix="hs-malformed-")
    pub = Publisher()
    hubs = []
    try:
        json_hub = Hub(["--connect", pub.endpoint, "--self", "a", "--members", "a",
                        "--key", "json:/msg/user", "--consumer", "org.*=file:json-out.jsonl",
                        "--dead-letter", "file:json-dead.jsonl"], "json-key", work)
        body_hub = Hub(["--connect", pub.endpoint, "--self", "b", "--members", "b",
                        "--consumer", "org.*=file:body-out.jsonl",
                        "--dead-letter", "file:body-dead.jsonl"], "body-key", work)
        fallback_hub = Hub(["--connect", pub.endpoint, "--self", "c", "--members", "c",
                            "--key", "json:/msg/user", "--key-fallback", "topic",
                            "--consumer", "org.*=file:fallback-out.jsonl",
                            "--dead-letter", "file:fallback-dead.jsonl"], "fallback", work)
        hubs = [json_hub, body_hub, fallback_hub]
        hubtest.wait_subscribed(pub, hubs)

        good = []
        n = [0]

        def send_good(count):
            for _ in range(count):
                n[0] += 1
                body = fedmsg_body("org.good", {"user": "user-%d" % (n[0] % 7)}, i=n[0])
                good.append(json.loads(body)["msg_id"])
                pub.send("org.good", body)

        big = b'{"msg":{"user":"big"},"pad":"' + b"x" * (16 << 20) + b'"}'
        long_topic = b"org.long." + b"t" * (1 << 20)
        bad = [
            ("frames", [b"org.one-frame-only"]),
            ("frames", [b"org.three", b"{}", b"third"]),
            ("json", [b"org.not-json", b"this is { not json"]),
            ("no_key", [b"org.no-key", fedmsg_body("org.no-key", {"other": 1})]),
            ("oversize", [b"org.big", big]),
            ("oversize", [long_topic, fedmsg_body("org.long", {"user": "u"})]),
            ("topic_utf8", [b"org.\xff\xfe", fedmsg_body("org.x", {"user": "u"})]),
        ]
        for reason, frames in bad:
            pub.send_frames(frames)
            send_good(GOOD_BETWEEN)
        send_good(GOOD_AFTER)
        total_good = len(good)

        def processed(h):
            return h.metric("hashspace_consumer_processed_total", consumer="file-1",
                            result="ok")
        wait_until(lambda: processed(json_hub) >= total_good, 30,
                   "the json-key hub to process the good messages")
        # The body-key hub also takes the non-JSON and the missing-key messages.
        wait_until(lambda: processed(body_hub) >= total_good + 2, 30,
                   "the body-key hub to process the good messages")
        wait_until(lambda: processed(fallback_hub) >= total_good + 2, 30,
                   "the fallback hub to process the good messages")

        m = json_hub.scrape()

        def malformed(metrics, reason):
            return metrics.get(("hashspace_messages_malformed_total", (("reason", reason),)), 0)
        expect = {"frames": 2, "json": 1, "no_key": 1, "oversize": 2, "topic_utf8": 1,
                  "key_hash": 0}
        got = {r: malformed(m, r) for r in expect}
        log("json-key hub malformed:", got)
        assert got == expect, got
        assert m[("hashspace_messages_dead_lettered_total", ())] == len(bad)
        dead = read_jsonl(os.path.join(work, "json-dead.jsonl"))
        reasons = sorted(r["reason"] for r in dead)
        assert reasons == sorted(r for r, _ in bad), reasons
        oversize = [r for r in dead if r["reason"] == "oversize" and r["topic"] == "org.big"][0]
        assert oversize["body_len"] == len(big) and oversize["truncated"] is True
        assert len(oversize["body"]) <= 4096
        topic_cut = [r for r in dead if r["reason"] == "oversize" and r is not oversize][0]
        assert "over max-topic (65536)" in topic_cut["error"], topic_cut
        assert topic_cut["topic"].startswith("org.long.ttt") and len(topic_cut["topic"]) <= 4096
        utf8 = [r for r in dead if r["reason"] == "topic_utf8"][0]
        assert utf8["topic_base64"] == "b3JnLv/+", utf8
        three = [r for r in dead if r["reason"] == "frames" and r.get("frames") == 3]
        assert len(three) == 1 and three[0]["topic"] == "org.three"
        not_json = [r for r in dead if r["reason"] == "json"][0]
        assert not_json["body"] == "this is { not json"

        out = read_jsonl(os.path.join(work, "json-out.jsonl"))
        ids = [r["body"]["msg_id"] for r in out]
        assert sorted(ids) == sorted(good), "json-key hub: %d good, %d written" % (
            len(good), len(ids))

        mb = body_hub.scrape()
        got_b = {r: malformed(mb, r) for r in expect}
        log("body-key hub malformed:", got_b)
        assert got_b == {"frames": 2, "json": 0, "no_key": 0, "oversize": 2,
                         "topic_utf8": 1, "key_hash": 0}, got_b
        body_out = read_jsonl(os.path.join(work, "body-out.jsonl"))
        assert any(r["topic"] == "org.not-json" and r["body"] == "this is { not json"
                   for r in body_out)
        assert len(body_out) == total_good + 2, len(body_out)

        mf = fallback_hub.scrape()
        got_f = {r: malformed(mf, r) for r in expect}
        log("fallback hub malformed:", got_f)
        assert got_f == {"frames": 2, "json": 0, "no_key": 0, "oversize": 2,
                         "topic_utf8": 1, "key_hash": 0}, got_f
        assert mf[("hashspace_messages_key_fallback_total", ())] == 2
        assert len(read_jsonl(os.path.join(work, "fallback-out.jsonl"))) == total_good + 2

        hubtest.stop_all(hubs)
        log("ok: %d malformed messages counted and dead-lettered, %d good processed"
            % (len(bad), total_good))
    finally:
        for h in hubs:
            h.kill()
        pub.close()
        hubtest.cleanup()


if __name__ == "__main__":
    main()
