"""test_readyz.py - /readyz on the metrics port: 200 "ready" while the hub
knows its view and every consumer runs, 503 and the reason otherwise (an
exec consumer's child down, the hub draining), while /healthz (alive) stays
200. Every message sent is accounted for by msg_id.
"""
import json
import os
import shutil
import signal
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import Hub, Publisher, fedmsg_body, scaled, wait_until  # noqa: E402

CRASHY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "crashy_consumer.py")


def get(hub, path):
    url = hub.metrics_url.replace("/metrics", path)
    try:
        with urllib.request.urlopen(url, timeout=scaled(5)) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Readyz(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hs-readyz-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.pub = Publisher()
        self.addCleanup(self.pub.close)

    def hub(self, consumer, *extra):
        hub = Hub(["--connect", self.pub.endpoint, "--self", "a", "--members", "a",
                   "--dead-letter", "file:dead.jsonl", "--consumer", consumer] + list(extra),
                  "a", self.tmp)
        hubtest.wait_subscribed(self.pub, [hub], scaled(10))
        return hub

    def send(self, i):
        body = fedmsg_body("org.test", {"user": "u%d" % i}, i=i)
        self.pub.send("org.test", body)
        return json.loads(body)["msg_id"]

    def test_a_crashed_exec_child_makes_the_hub_unready_until_it_restarts(self):
        state = os.path.join(self.tmp, "state")
        os.mkdir(state)
        out = os.path.join(self.tmp, "out.jsonl")
        hub = self.hub("crashy,max_tries=1@org.*=exec:/usr/bin/python3 %s --out %s --state %s "
                       "--crash-on 1" % (CRASHY, out, state))
        self.assertEqual(get(hub, "/readyz"), (200, "ready\n"))
        crashed = self.send(1)
        wait_until(lambda: hub.metric("hashspace_messages_dead_lettered_total") >= 1, 10,
                   "the crash to dead-letter message 1")
        # The child died and is started again only at the next message.
        status, text = get(hub, "/readyz")
        self.assertEqual(status, 503)
        self.assertEqual(text, "consumer crashy: worker 0: its child process is not running "
                         "(it is started again at the next message)\n")
        self.assertEqual(get(hub, "/healthz"), (200, "ok\n"))
        handled = self.send(2)
        wait_until(lambda: hub.metric("hashspace_consumer_processed_total", consumer="crashy",
                                      result="ok") >= 1, 10, "message 2")
        self.assertEqual(get(hub, "/readyz"), (200, "ready\n"))
        self.assertEqual(hub.stop(), 0)
        with open(out) as f:
            got = [json.loads(line)["msg_id"] for line in f]
        self.assertEqual(got, [handled])
        with open(os.path.join(self.tmp, "dead.jsonl")) as f:
            dead = [json.loads(line) for line in f]
        self.assertEqual([d["body"]["msg_id"] for d in dead], [crashed])

    def test_draining_hub_is_alive_but_not_ready(self):
        slow = ("slow@org.*=exec:/usr/bin/python3 -c \"import json, sys, time; "
                "f = open('slow.txt', 'a'); "
                "[(time.sleep(1.5), f.write(json.loads(l)['body']['msg_id'] + '\\n'), f.flush(), "
                "print('ok', flush=True)) for l in sys.stdin]\"")
        hub = self.hub(slow, "--drain-timeout", "30")
        self.assertEqual(get(hub, "/readyz"), (200, "ready\n"))
        ids = [self.send(i) for i in range(1, 4)]
        wait_until(lambda: hub.metric("hashspace_consumer_backlog", consumer="slow") >= 2, 10,
                   "the backlog")
        hub.proc.send_signal(signal.SIGTERM)

        def unready():
            r = get(hub, "/readyz")
            return r if r[0] == 503 else None
        status, text = wait_until(unready, 5, "/readyz to say 503 while draining")
        self.assertIn(text, ("stopping\n", "consumer slow: draining\n"))
        self.assertEqual(get(hub, "/healthz"), (200, "ok\n"))
        self.assertEqual(hub.stop(), 0)
        # Drained: every message processed once, none dead-lettered.
        with open(os.path.join(self.tmp, "slow.txt")) as f:
            self.assertEqual(f.read().split(), ids)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "dead.jsonl")))


if __name__ == "__main__":
    unittest.main()
