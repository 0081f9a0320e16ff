"""test_pyzmq_publisher.py - issue 3: a publisher written with Debian's
python3-zmq (a plain PUB socket, as fedmsg's own publishers are) is received
by real hubs like any other publisher.

Two hubs connect both to a pyzmq PUB socket and to `hashspace pub`; every
message of both is handled exactly once across the hubs, and by the member
that `hashspace route` names as the owner of its key.
"""
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import HS_BIN, Hub, Publisher, fedmsg_body, free_port, read_jsonl  # noqa: E402

MEMBERS = "hub-a,hub-b"


class PyzmqPublisher(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="hs-pyzmq-")
        self.addCleanup(self.tmp.cleanup)
        self.addCleanup(hubtest.cleanup)

    def test_pyzmq_and_hashspace_pub_are_split_alike(self):
        n_py, n_c = 3000, 3000
        pub = Publisher()
        self.addCleanup(pub.close)
        c_ep = "tcp://127.0.0.1:%d" % free_port()
        hubs = []
        for name in MEMBERS.split(","):
            out = os.path.join(self.tmp.name, name + ".jsonl")
            hubs.append(Hub(["--connect", pub.endpoint, "--connect", c_ep, "--self", name,
                             "--members", MEMBERS, "--key", "json:/msg/user",
                             "--consumer", "org.*=file:" + out], name, self.tmp.name))
        hubtest.wait_subscribed(pub, hubs)
        before = hubtest.settled(hubs)  # warm-ups: not a fixed number per hub

        # hashspace pub waits for both hubs' subscriptions, then sends.
        cpub = subprocess.Popen([HS_BIN, "pub", "--bind", c_ep, "--count", str(n_c),
                                 "--wait-subscribers", "2", "--wait-timeout", "20",
                                 "--topic", "org.c.test", "--keys", "300", "-q"],
                                stderr=subprocess.PIPE)
        self.addCleanup(lambda: cpub.poll() is None and cpub.kill())
        for i in range(1, n_py + 1):
            user = "user-%d" % (i % 300)
            pub.send("org.py.test", fedmsg_body("org.py.test", {"user": user, "n": i}, i=i))
        _, err = cpub.communicate(timeout=hubtest.scaled(40))
        self.assertEqual(cpub.returncode, 0, err)

        hubtest.wait_until(
            lambda: all(h.metric("hashspace_messages_received_total") - before[h.name]
                        >= n_py + n_c for h in hubs), 30, "every message at both hubs")
        hubtest.wait_until(
            lambda: all(h.metric("hashspace_consumer_backlog", consumer="file-1") == 0
                        for h in hubs), 30, "backlogs to drain")
        for h in hubs:
            self.assertEqual(h.stop(), 0, h.log())

        taken = {}  # (topic, i) -> hub
        users = set()
        for h in hubs:
            for rec in read_jsonl(os.path.join(self.tmp.name, h.name + ".jsonl")):
                key = (rec["topic"], rec["body"]["i"])
                self.assertNotIn(key, taken, "handled twice: %s" % (key,))
                taken[key] = (h.name, rec["body"]["msg"]["user"])
                users.add(rec["body"]["msg"]["user"])
        py = [k for k in taken if k[0] == "org.py.test"]
        c = [k for k in taken if k[0] == "org.c.test"]
        self.assertEqual(len(py), n_py, "pyzmq messages lost")
        self.assertEqual(len(c), n_c, "hashspace pub messages lost")
        self.assertEqual({k[1] for k in py}, set(range(1, n_py + 1)))

        # The owner of each message is the one `hashspace route` names.
        route = subprocess.run([HS_BIN, "route", "--members", MEMBERS], input="\n".join(
            sorted(users)) + "\n", capture_output=True, text=True, timeout=hubtest.scaled(20))
        self.assertEqual(route.returncode, 0, route.stderr)
        owner = dict(line.split("\t") for line in route.stdout.splitlines())
        for key, (hub, user) in taken.items():
            self.assertEqual(hub, owner[user], "message %s of %s" % (key, user))
        # Both hubs took a share of both publishers' traffic.
        for name in MEMBERS.split(","):
            self.assertTrue(any(taken[k][0] == name for k in py))
            self.assertTrue(any(taken[k][0] == name for k in c))


if __name__ == "__main__":
    unittest.main(verbosity=2)
