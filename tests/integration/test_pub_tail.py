"""test_pub_tail.py - `hashspace pub` into `hashspace tail` over loopback.

Every message sent is counted on the other side: msg_id unique, i running
1..N, valid fedmsg JSON, padding to --size, rate pacing roughly honoured,
plus a Python SUB socket as an independent receiver and tail's handling of
bodies that are not JSON and messages that are not two frames.
"""
import base64
import json
import os
import socket
import subprocess
import sys
import time
import unittest

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hubtest import scaled  # noqa: E402

HS_BIN = os.environ.get("HS_BIN", "build/hashspace")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A child process that is always killed at the end of the test."""

    def __init__(self, test, args, **kw):
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
        test.addCleanup(self.kill)

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.communicate()

    def wait(self, timeout):
        out, err = self.p.communicate(timeout=scaled(timeout))
        return self.p.returncode, out.decode(), err.decode()


class PubTail(unittest.TestCase):
    def run_pair(self, pub_args, tail_args=(), count=None, timeout=40):
        ep = "tcp://127.0.0.1:%d" % free_port()
        tail = Proc(self, [HS_BIN, "tail", "--connect", ep, "--idle-timeout", "20", *tail_args]
                    + (["--count", str(count)] if count else []))
        t0 = time.monotonic()
        rc, _, perr = Proc(self, [HS_BIN, "pub", "--bind", ep, "--wait-subscribers", "1",
                                  "--wait-timeout", "20", *pub_args]).wait(timeout)
        elapsed = time.monotonic() - t0
        self.assertEqual(rc, 0, perr)
        trc, out, terr = tail.wait(timeout)
        self.assertEqual(trc, 0, terr)
        return out.splitlines(), perr, elapsed

    def test_every_message_arrives_once_in_order(self):
        n = 5000
        lines, perr, _ = self.run_pair(["--count", str(n), "--size", "512", "--keys", "50",
                                        "--dist", "zipf", "--topic", "t.a,t.b"], ["--json"],
                                       count=n)
        self.assertEqual(len(lines), n)
        ids, seq, topics, keys = set(), [], set(), set()
        for line in lines:
            rec = json.loads(line)
            body = rec["body"]
            self.assertEqual(rec["topic"], body["topic"])
            for field in ("topic", "msg", "timestamp", "msg_id", "i", "username"):
                self.assertIn(field, body)
            self.assertIsInstance(body["timestamp"], float)
            self.assertLess(abs(body["timestamp"] - time.time()), 120)
            self.assertRegex(body["msg_id"],
                             r"^\d{4}-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                             r"[0-9a-f]{12}$")
            ids.add(body["msg_id"])
            seq.append(body["i"])
            topics.add(rec["topic"])
            keys.add(body["msg"]["key"])
            self.assertEqual(body["msg"]["user"], body["msg"]["key"].replace("key-", "user-"))
        self.assertEqual(len(ids), n, "msg_id not unique")
        self.assertEqual(seq, list(range(1, n + 1)))
        self.assertEqual(topics, {"t.a", "t.b"})
        self.assertLessEqual(len(keys), 50)
        self.assertIn("key-0", keys)  # the most frequent Zipf rank is certainly drawn
        self.assertIn("sent %d messages" % n, perr)

    def test_plain_output_is_topic_space_body(self):
        lines, _, _ = self.run_pair(["--count", "3", "--topic", "x.y", "--seed", "7"], count=3)
        self.assertEqual(len(lines), 3)
        for k, line in enumerate(lines, 1):
            topic, body = line.split(" ", 1)
            self.assertEqual(topic, "x.y")
            self.assertEqual(json.loads(body)["i"], k)

    def test_rate_is_paced(self):
        # 600 messages at 300/s: about 2 s, neither a burst nor a crawl.
        lines, perr, _ = self.run_pair(["--count", "600", "--rate", "300"], ["--json"],
                                       count=600)
        self.assertEqual(len(lines), 600)
        stamps = [json.loads(l)["body"]["timestamp"] for l in lines]
        span = stamps[-1] - stamps[0]
        self.assertGreater(span, 1.99 * 0.9, "sent faster than --rate")
        self.assertLess(span, 1.99 * 1.5, "sent much slower than --rate")
        # Pacing by the clock, not a burst then a wait: the first half of the
        # messages takes about half of the time.
        half = stamps[299] - stamps[0]
        self.assertGreater(half, 0.8)
        self.assertLess(half, 1.3)

    def test_bursts_are_separated_by_pauses(self):
        # 3 bursts of 100 at 1000/s (0.1 s each) with 0.7 s of silence between.
        lines, _, _ = self.run_pair(["--count", "300", "--rate", "1000", "--burst", "100",
                                     "--pause", "0.7"], ["--json"], count=300)
        stamps = [json.loads(l)["body"]["timestamp"] for l in lines]
        self.assertEqual(len(stamps), 300)
        gaps = [b - a for a, b in zip(stamps, stamps[1:])]
        long_gaps = [k for k, g in enumerate(gaps, 1) if g > 0.5]
        self.assertEqual(long_gaps, [100, 200])  # after message 100 and 200 only
        for k in long_gaps:
            self.assertLess(gaps[k - 1], 0.7 * 1.6)
        for start in (0, 100, 200):
            burst = stamps[start + 99] - stamps[start]
            self.assertGreater(burst, 0.099 * 0.8)
            self.assertLess(burst, 0.3)

    def test_python_subscriber_counts_everything_at_full_speed(self):
        n = 50000
        ep = "tcp://127.0.0.1:%d" % free_port()
        ctx = zmq.Context()
        self.addCleanup(ctx.term)
        sub = ctx.socket(zmq.SUB)
        self.addCleanup(sub.close, 0)
        sub.setsockopt(zmq.RCVHWM, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(ep)
        pub = Proc(self, [HS_BIN, "pub", "--bind", ep, "--count", str(n),
                          "--wait-subscribers", "1", "--wait-timeout", "20", "--size", "300"])
        seen = set()
        seq_sum = 0
        deadline = time.monotonic() + scaled(40)
        while len(seen) < n and time.monotonic() < deadline:
            if sub.poll(1000):
                frames = sub.recv_multipart()
                self.assertEqual(len(frames), 2)
                self.assertEqual(len(frames[1]), 300)  # padded to --size exactly
                body = json.loads(frames[1])
                seen.add(body["msg_id"])
                seq_sum += body["i"]
        rc, _, err = pub.wait(20)
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(seen), n)
        self.assertEqual(seq_sum, n * (n + 1) // 2)

    def test_tail_shows_odd_messages_readably(self):
        ep = "tcp://127.0.0.1:%d" % free_port()
        ctx = zmq.Context()
        self.addCleanup(ctx.term)
        pub = ctx.socket(zmq.XPUB)
        self.addCleanup(pub.close, 0)
        pub.setsockopt(zmq.XPUB_VERBOSE, 1)  # see both tails' identical subscriptions
        pub.bind(ep)
        tails = [Proc(self, [HS_BIN, "tail", "--connect", ep, "--count", "4",
                             "--idle-timeout", "20", *extra]) for extra in ([], ["--json"])]
        for _ in tails:
            self.assertTrue(pub.poll(20000), "tail did not subscribe")
            pub.recv()
        pub.send_multipart([b"t.text", b"not json\nsecond line \x01\xff"])
        pub.send_multipart([b"t.one"])
        pub.send_multipart([b"t.three", b"{}", b"extra"])
        pub.send_multipart([b"t.ok", b'{"a": [1, 2]}'])
        rc, out, err = tails[0].wait(20)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.splitlines(), [
            "t.text not json\\nsecond line \\x01\\xff",
            "[1 frame] t.one",
            "[3 frames] t.three {} extra",
            't.ok {"a":[1,2]}',
        ])
        rc, out, err = tails[1].wait(20)
        self.assertEqual(rc, 0, err)
        recs = [json.loads(l) for l in out.splitlines()]
        self.assertEqual(len(recs), 4)
        # The hub's one encoding (jsonline.h): bytes that are not UTF-8 in
        # base64, a JSON body as it came.
        self.assertEqual(recs[0], {"topic": "t.text", "body_base64": base64.b64encode(
            b"not json\nsecond line \x01\xff").decode()})
        self.assertEqual(recs[1], {"topic": "t.one", "frames": ["t.one"], "frame_count": 1})
        self.assertEqual(recs[2]["body"], {})
        self.assertEqual(recs[2]["frame_count"], 3)
        self.assertEqual(recs[2]["frames"], ["t.three", "{}", "extra"])
        self.assertEqual(recs[3], {"topic": "t.ok", "body": {"a": [1, 2]}})

    def test_bad_endpoint_is_one_clean_line(self):
        for ep in ("foo://bar", "tcp://127.0.0.1:notaport"):
            r = subprocess.run([HS_BIN, "pub", "--bind", ep, "--count", "1"],
                               capture_output=True, text=True, timeout=scaled(20))
            self.assertEqual(r.returncode, 1)
            self.assertRegex(r.stderr, r"^hashspace pub: cannot bind %s: .+\n$" % ep)

    def test_wait_subscribers_times_out_cleanly(self):
        ep = "tcp://127.0.0.1:%d" % free_port()
        r = subprocess.run([HS_BIN, "pub", "--bind", ep, "--wait-subscribers", "2",
                            "--wait-timeout", "0.5"], capture_output=True, text=True,
                           timeout=scaled(20))
        self.assertEqual(r.returncode, 1)
        self.assertIn("0 of 2 subscriptions", r.stderr)

    def test_bad_options_exit_2(self):
        for args in (["--count", "ten"], ["--dist", "gauss"], ["--rate", "-1"],
                     ["--bind", "tcp://127.0.0.1:1", "--connect", "tcp://127.0.0.1:2"],
                     ["--burst", "10"]):
            r = subprocess.run([HS_BIN, "pub", *args], capture_output=True, text=True,
                               timeout=scaled(20))
            self.assertEqual(r.returncode, 2, args)
            self.assertTrue(r.stderr.startswith("hashspace pub: "), r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
