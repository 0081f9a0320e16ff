"""test_bus_losses.py - issue 11, bus losses made visible: PUB/SUB drops
silently, so a hub tracks each publisher's fedmsg sequence number `i` and
counts what never arrived.

A pyzmq publisher (a plain PUB socket, as fedmsg's own) skips numbers,
reorders two messages, repeats one and restarts from 1; the hub's
/metrics, /status, log and `hashspace status` say exactly that, and every
message that did arrive is still processed.
"""
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import HS_BIN, Hub, Publisher, fedmsg_body, read_jsonl  # noqa: E402

WHO = "pyzmq-test"


class BusLosses(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="hs-bus-")
        self.addCleanup(self.tmp.cleanup)
        self.addCleanup(hubtest.cleanup)

    def test_gaps_reordering_duplicates_and_restarts_are_counted(self):
        pub = Publisher()
        self.addCleanup(pub.close)
        out = os.path.join(self.tmp.name, "out.jsonl")
        hub = Hub(["--connect", pub.endpoint, "--self", "a", "--members", "a",
                   "--consumer", "org.*=file:" + out], "a", self.tmp.name)
        hubtest.wait_subscribed(pub, [hub])

        sent = []

        def send(i, **extra):
            body = json.loads(fedmsg_body("org.test", {"n": len(sent)}, i=i, username=WHO))
            body.update(extra)
            if i is None:
                del body["i"]
            sent.append(body["msg_id"])
            pub.send("org.test", json.dumps(body).encode())

        for i in range(1, 1001):
            if not 101 <= i <= 150:          # 50 never sent: one gap
                send(i)
        send(1001)
        send(1003)                           # 1002 late: a gap of one ...
        send(1002)                           # ... then filled
        send(1003)                           # a duplicate
        for i in range(1, 101):              # the publisher restarts
            send(i)
        send(None)                           # no sequence number at all

        hubtest.wait_until(lambda: len(read_jsonl(out)) >= len(sent), 30,
                           "every message sent to be processed")
        got = [m["body"]["msg_id"] if isinstance(m.get("body"), dict) else None
               for m in read_jsonl(out)]
        self.assertEqual(sorted(got), sorted(sent), "every message that arrived is processed")

        key = "127.0.0.1 " + WHO
        m = hub.scrape()

        def bus(name):
            return m.get(("hashspace_bus_%s_total" % name, (("publisher", key),)), None)

        self.assertEqual(bus("missing"), 51)
        self.assertEqual(bus("gaps"), 2)
        self.assertEqual(bus("late"), 1)
        self.assertEqual(bus("duplicates"), 1)
        self.assertEqual(bus("restarts"), 1)
        self.assertEqual(bus("received"), len(sent) - 1)
        self.assertGreaterEqual(m[("hashspace_bus_unsequenced_total", ())], 1)

        status = hub.status()
        rows = {p["publisher"]: p for p in status["bus"]}
        self.assertEqual(rows[key]["missing"], 51)
        self.assertEqual(rows[key]["last"], 100)

        text = subprocess.run([HS_BIN, "status", hub.metrics_url.split("/")[2]],
                              capture_output=True, text=True, timeout=hubtest.scaled(10))
        self.assertEqual(text.returncode, 0, text.stderr)
        self.assertRegex(text.stdout, r"bus:.*missing 51")

        self.assertEqual(hub.stop(), 0, hub.log())
        log = hub.log()
        self.assertIn("publisher '%s': 50 messages missing (i 100, then 151)" % key, log)
        self.assertIn("publisher '%s': 1 message missing (i 1001, then 1003)" % key, log)
        self.assertIn("publisher '%s' started again (i 1 after 1003)" % key, log)
        self.assertRegex(log, r"bus: 2 publishers, missing 51 \(late 1\)")

    def test_a_stopped_hub_knows_what_the_publisher_dropped(self):
        """A plain PUB with libzmq's default SNDHWM (1000) drops what a
        stopped subscriber cannot take; the hub counts every message it
        never got: received + missing = sent."""
        pub = Publisher(sndhwm=1000)  # libzmq's default high-water mark
        self.addCleanup(pub.close)
        out = os.path.join(self.tmp.name, "out.jsonl")
        hub = Hub(["--connect", pub.endpoint, "--self", "a", "--members", "a",
                   "--rcv-hwm", "1000", "--consumer", "org.*=file:" + out], "a", self.tmp.name)
        hubtest.wait_subscribed(pub, [hub])
        n = 20000
        pad = "x" * 4000  # 80 MB: more than the kernel's socket buffers hold
        hub.proc.send_signal(signal.SIGSTOP)
        try:
            for i in range(1, n + 1):
                pub.send("org.test", fedmsg_body("org.test", {"n": i, "pad": pad}, i=i,
                                                 username=WHO))
        finally:
            hub.proc.send_signal(signal.SIGCONT)
        time.sleep(0.5)
        pub.send("org.test", fedmsg_body("org.test", {"n": n + 1}, i=n + 1, username=WHO))
        key = "127.0.0.1 " + WHO

        def seen():
            m = hub.scrape()
            return (m.get(("hashspace_bus_received_total", (("publisher", key),)), 0),
                    m.get(("hashspace_bus_missing_total", (("publisher", key),)), 0))

        hubtest.wait_until(lambda: sum(seen()) >= n + 1, 30, "the last message")
        received, missing = seen()
        hubtest.log("stopped hub: sent %d, received %d, missing %d" % (n + 1, received, missing))
        self.assertGreater(missing, 0, "the publisher dropped nothing: the test proves nothing")
        self.assertEqual(received + missing, n + 1)
        hubtest.wait_until(lambda: len(read_jsonl(out)) >= received, 30, "processing")
        self.assertEqual(len(read_jsonl(out)), received)
        self.assertEqual(hub.stop(), 0, hub.log())

    def test_one_name_on_two_hosts_is_two_publishers(self):
        """Two publishers of one name, on 127.0.0.1 and 127.0.0.2, counting
        alike and interleaved in a random order (so that one's next number
        is often the other's too), then one of them alone: two
        streams, each in order, nothing missing, late or duplicated."""
        pubs = [Publisher(), Publisher(host="127.0.0.2")]
        for p in pubs:
            self.addCleanup(p.close)
        out = os.path.join(self.tmp.name, "out.jsonl")
        hub = Hub(["--connect", pubs[0].endpoint, "--connect", pubs[1].endpoint, "--self", "a",
                   "--members", "a", "--consumer", "org.*=file:" + out], "a", self.tmp.name)
        for p in pubs:
            hubtest.wait_subscribed(p, [hub])
        n, sent, nxt = 2000, 0, [1, 1]
        rng = random.Random(7)
        while min(nxt) <= n:  # in a random order: runs of one, and of several
            k = rng.randrange(2) if max(nxt) <= n else nxt.index(min(nxt))
            if nxt[k] > n:
                continue
            pubs[k].send("org.test", fedmsg_body("org.test", {"k": k}, i=nxt[k], username=WHO))
            nxt[k] += 1
            sent += 1
            if sent % 200 == 0:
                time.sleep(0.01)
        for i in range(n + 1, n + 501):  # the second one alone
            pubs[1].send("org.test", fedmsg_body("org.test", {"k": 1, "i": i}, i=i, username=WHO))
            sent += 1
        hubtest.wait_until(lambda: len(read_jsonl(out)) >= sent, 30, "every message")
        m = hub.scrape()

        def bus(host, name):
            return m.get(("hashspace_bus_%s_total" % name, (("publisher", host + " " + WHO),)))

        for host, last in (("127.0.0.1", n), ("127.0.0.2", n + 500)):
            self.assertEqual(bus(host, "received"), last, host)
            for counter in ("missing", "gaps", "late", "duplicates", "restarts"):
                self.assertEqual(bus(host, counter), 0, "%s %s" % (host, counter))
        rows = {p["publisher"]: p for p in hub.status()["bus"]}
        self.assertEqual(rows["127.0.0.1 " + WHO]["last"], n)
        self.assertEqual(rows["127.0.0.2 " + WHO]["last"], n + 500)
        self.assertEqual(len(read_jsonl(out)), sent)
        self.assertEqual(hub.stop(), 0, hub.log())

    def test_none_turns_tracking_off(self):
        pub = Publisher()
        self.addCleanup(pub.close)
        out = os.path.join(self.tmp.name, "out.jsonl")
        hub = Hub(["--connect", pub.endpoint, "--self", "a", "--members", "a", "--bus-seq", "none",
                   "--consumer", "org.*=file:" + out], "a", self.tmp.name)
        hubtest.wait_subscribed(pub, [hub])
        for i in (1, 5, 9):
            pub.send("org.test", fedmsg_body("org.test", {"n": i}, i=i, username=WHO))
        hubtest.wait_until(lambda: len(read_jsonl(out)) >= 3, 30, "3 messages")
        self.assertFalse(any(k[0].startswith("hashspace_bus_") for k in hub.scrape()))
        self.assertEqual(hub.stop(), 0, hub.log())
        self.assertNotIn("missing", hub.log())


if __name__ == "__main__":
    unittest.main()
