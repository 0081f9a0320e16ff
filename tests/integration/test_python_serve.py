"""test_python_serve.py - hashspace.serve(handler) as an exec consumer under a
real hub: every message reaches the handler (counted by msg_id), a handler
that returns answers ok, one that raises Fail or another exception answers
fail (the hub retries, then dead-letters with the reason), a body that is
not UTF-8 arrives as bytes, and print() inside the handler does not break
the protocol (no child restart, no protocol error).
"""
import base64
import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import Hub, Publisher, fedmsg_body, wait_until  # noqa: E402

SOURCE = os.environ.get("HS_SOURCE_DIR", ".")
CHILD = r'''
import base64, json, os, sys
import hashspace

out = open(sys.argv[1], "a", buffering=1)


def handle(topic, body, message):
    if isinstance(body, bytes):
        seen = {"raw": base64.b64encode(body).decode(), "topic": topic}
    else:
        seen = {"msg_id": body["msg_id"], "topic": topic}
    seen.update(attempt=message["attempt"], worker=os.environ["HASHSPACE_WORKER"])
    out.write(json.dumps(seen) + "\n")
    print("chatter on stdout, which must not be taken for an answer")
    if isinstance(body, bytes):
        return
    fail = body["msg"].get("fail")
    if fail == "always":
        raise hashspace.Fail("refused %s" % body["msg"]["user"])
    if fail == "once" and message["attempt"] == 1:
        raise ValueError("first try of %s" % body["msg"]["user"])


hashspace.serve(handle)
'''
N = 200


class Serve(unittest.TestCase):
    def setUp(self):
        if "thread" in os.environ.get("HS_SANITIZE", "") or \
                "address" in os.environ.get("HS_SANITIZE", ""):
            self.skipTest("the Python child loads libhashspace, which a sanitizer build cannot "
                          "give an uninstrumented interpreter; the plain build runs this test")
        self.tmp = tempfile.mkdtemp(prefix="hs-serve-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def test_every_message_is_answered_by_the_handler(self):
        child = os.path.join(self.tmp, "child.py")
        with open(child, "w") as f:
            f.write(CHILD)
        out = os.path.join(self.tmp, "seen.jsonl")
        env = dict(os.environ, PYTHONPATH=os.path.join(SOURCE, "python"))
        if os.environ.get("HS_LIB"):
            env["HASHSPACE_LIB"] = os.environ["HS_LIB"]
        pub = Publisher()
        self.addCleanup(pub.close)
        hub = Hub(["--connect", pub.endpoint, "--self", "a", "--members", "a",
                   "--key", "body", "--dead-letter", "file:dead.jsonl",
                   "--consumer", "py,workers=2,max_tries=3@org.*=exec:/usr/bin/python3 %s %s"
                   % (child, out)], "a", self.tmp, env=env)
        hubtest.wait_subscribed(pub, [hub])
        sent, always, once = {}, set(), set()
        for i in range(N):
            fail = "always" if i % 50 == 7 else "once" if i % 10 == 3 else None
            msg = {"user": "user-%d" % i}
            if fail:
                msg["fail"] = fail
            body = fedmsg_body("org.test.%d" % (i % 3), msg, i=i + 1)
            mid = json.loads(body)["msg_id"]
            sent[mid] = "org.test.%d" % (i % 3)
            (always if fail == "always" else once if fail == "once" else set()).add(mid)
            pub.send(sent[mid], body)
        raw = b"\xff\xfe not utf-8"
        pub.send("org.raw", raw)

        def done():
            ok = hub.metric("hashspace_consumer_processed_total", consumer="py", result="ok")
            failed = hub.metric("hashspace_consumer_processed_total", consumer="py",
                                result="failed")
            return ok + failed >= N + 1 and (ok, failed)
        ok, failed = wait_until(done, 60, "every message processed")
        self.assertEqual((ok, failed), (N + 1 - len(always), len(always)))
        self.assertEqual(hub.metric("hashspace_consumer_restarts_total", consumer="py"), 0)
        self.assertEqual(hub.stop(), 0)
        self.assertNotIn("protocol error", hub.log())

        with open(out) as f:
            seen = [json.loads(line) for line in f]
        attempts = {}
        for s in seen:
            if "raw" in s:
                self.assertEqual(base64.b64decode(s["raw"]), raw)
                self.assertEqual(s["topic"], "org.raw")
                continue
            self.assertEqual(s["topic"], sent[s["msg_id"]])
            attempts.setdefault(s["msg_id"], []).append(s["attempt"])
        self.assertEqual(len([s for s in seen if "raw" in s]), 1)
        # Every msg_id reached the handler: once, or as often as it failed.
        self.assertEqual(set(attempts), set(sent))
        for mid, tries in attempts.items():
            want = [1, 2, 3] if mid in always else [1, 2] if mid in once else [1]
            self.assertEqual(sorted(tries), want, mid)
        # The messages that failed every try are dead-lettered with the reason.
        with open(os.path.join(self.tmp, "dead.jsonl")) as f:
            dead = [json.loads(line) for line in f]
        self.assertEqual({d["body"]["msg_id"] for d in dead}, always)
        for d in dead:
            self.assertEqual(d["reason"], "failed")
            self.assertIn("refused %s" % d["body"]["msg"]["user"], d["error"])
        # An exception other than Fail: its traceback is in the hub's log
        # (the child's stderr), and the message succeeded on the retry.
        self.assertIn("ValueError: first try of user-3", hub.log())


if __name__ == "__main__":
    unittest.main()
