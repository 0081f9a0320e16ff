"""test_hub_idle.py - an idle static hub sleeps: no thread of it wakes while
nothing arrives (each wake-up costs some 100 us of CPU on a virtual machine),
yet it takes the next message at once and stops at once on SIGTERM; with
CURVE (the hub a server with an allow-list), its ZAP handler sleeps too and
still refuses a key it does not know. An idle dynamic hub (a real
redis-server) heartbeats, and its ingress wakes only with the membership's
timelines, not ten times a second. A hub whose publisher is gone tries it
again ten times a second, or, with --reconnect-max, less and less often,
and takes its messages once it is back. Every message sent is counted by
msg_id at the consumer's file.
"""
import json
import os
import shutil
import sys
import tempfile
import time
import unittest

import zmq
import zmq.auth

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import Hub, Publisher, fedmsg_body, read_jsonl, scaled, wait_until  # noqa: E402

# The hub's own threads: main, ingress, workers, libzmq's, libmicrohttpd's
# (not a sanitizer's runtime thread).
OWN = ("hs-", "ZMQbg/", "MHD-")


def processed(path):
    """The records the file consumer has written whole so far (a line being
    written is not one yet)."""
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        data = f.read()
    return [json.loads(line) for line in data[:data.rfind(b"\n") + 1].splitlines()]


def switches(pid):
    """Context switches so far of the hub's own threads, by thread name."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                status = f.read()
        except OSError:
            continue  # the thread ended meanwhile
        name = status.split("\n", 1)[0].split(":", 1)[1].strip()
        if int(tid) != pid and not name.startswith(OWN):
            continue
        n = sum(int(line.split()[1]) for line in status.splitlines()
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")))
        out["%s/%s" % (name, tid)] = n
    return out


class Idle(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hs-idle-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.pub = Publisher()
        self.addCleanup(self.pub.close)

    def send(self, first, n, sock=None):
        ids = []
        for i in range(first, first + n):
            body = fedmsg_body("org.test", {"user": "u%d" % i}, i=i)
            if sock is None:
                self.pub.send("org.test", body)
            else:
                sock.send_multipart([b"org.test", body])
            ids.append(json.loads(body)["msg_id"])
        return ids

    def assert_sleeps(self, hub, seconds=3):
        time.sleep(0.5)  # the workers' and the ingress's last spins and lingers end
        before = switches(hub.proc.pid)
        time.sleep(seconds)
        after = switches(hub.proc.pid)
        woke = {t: after[t] - before.get(t, 0) for t in after if after[t] != before.get(t, 0)}
        hubtest.log("idle %d s: context switches by thread %s (before %s)"
                    % (seconds, woke, before))
        # Before: the ingress woke 10 times a second, the main thread 5, the
        # ZAP handler 10.
        self.assertLessEqual(sum(woke.values()), 2, "threads woke while idle: %s" % woke)

    def assert_all_once(self, out, sent):
        got = [r["body"]["msg_id"] for r in read_jsonl(out)]
        self.assertEqual(len(got), len(sent), "processed %d of %d" % (len(got), len(sent)))
        self.assertEqual(sorted(got), sorted(sent), "lost or duplicated messages")

    def test_an_idle_hub_does_not_wake_and_takes_the_next_message_at_once(self):
        out = os.path.join(self.tmp, "out.jsonl")
        hub = Hub(["--connect", self.pub.endpoint, "--self", "a", "--members", "a",
                   "--dead-letter", "none", "--consumer", "org.*=file:%s" % out],
                  "a", self.tmp)
        hubtest.wait_subscribed(self.pub, [hub], scaled(10))
        sent = self.send(1, 100)
        wait_until(lambda: len(processed(out)) >= 100, scaled(10), "the first 100 processed")
        self.assert_sleeps(hub)
        # The next message is taken at once, with no poll interval to wait out.
        t0 = time.monotonic()
        sent += self.send(101, 1)
        wait_until(lambda: len(processed(out)) >= 101, scaled(5), "message 101 processed")
        hubtest.log("message 101 processed %.1f ms after it was sent"
                    % ((time.monotonic() - t0) * 1000))
        sent += self.send(102, 99)
        wait_until(lambda: len(processed(out)) >= 200, scaled(10), "all 200 processed")
        # SIGTERM wakes the waiting ingress: the hub exits at once.
        time.sleep(0.5)
        t0 = time.monotonic()
        self.assertEqual(hub.stop(timeout=10), 0)
        stopped = time.monotonic() - t0
        hubtest.log("stopped %.2f s after SIGTERM" % stopped)
        self.assertLess(stopped, scaled(2))
        self.assert_all_once(out, sent)

    def test_an_idle_curve_hub_sleeps_and_still_refuses_an_unknown_key(self):
        allow = os.path.join(self.tmp, "allow")
        os.mkdir(allow)
        hub_public, hub_secret = hubtest.keygen(self.tmp, "hub.key")
        ok_public, ok_secret = hubtest.keygen(self.tmp, "ok.key")
        _, stranger_secret = hubtest.keygen(self.tmp, "stranger.key")
        shutil.copy(ok_public, allow)
        endpoint = "tcp://127.0.0.1:%d" % hubtest.free_port()
        out = os.path.join(self.tmp, "out.jsonl")
        hub = Hub(["--bind", endpoint, "--self", "a", "--members", "a", "--dead-letter", "none",
                   "--curve-secret-key", hub_secret, "--curve-allow", allow,
                   "--consumer", "org.*=file:%s" % out], "a", self.tmp)
        ctx = zmq.Context()
        self.addCleanup(ctx.term)
        socks = []

        def client(secret):
            s = ctx.socket(zmq.PUB)
            s.setsockopt(zmq.LINGER, 0)
            public, sec = zmq.auth.load_certificate(secret)
            server, _ = zmq.auth.load_certificate(hub_public)
            s.curve_publickey, s.curve_secretkey, s.curve_serverkey = public, sec, server
            s.connect(endpoint)
            socks.append(s)
            return s

        try:
            ok = client(ok_secret)
            warm, i = [], 0
            # Until the handshake is done, what is sent is dropped: the
            # warm-ups may or may not arrive; what is sent after one did must.
            while not processed(out):
                self.assertLess(i, 2000, "the allowed publisher got no message in")
                i += 1
                warm += self.send(i, 1, ok)
                time.sleep(0.02)
            first = len(processed(out))
            sent = self.send(i + 1, 50, ok)
            wait_until(lambda: len(processed(out)) >= first + 50, scaled(10), "50 processed")
            self.assert_sleeps(hub)
            # The sleeping ZAP handler answers a new handshake: refused, counted.
            client(stranger_secret)
            wait_until(lambda: hub.metric("hashspace_bus_auth_failures_total", reason="key") >= 1,
                       scaled(10), "the unknown key to be refused")
            self.assertEqual(hub.stop(timeout=10), 0)
            got = [r["body"]["msg_id"] for r in read_jsonl(out)]
            self.assertEqual(len(got), len(set(got)), "a message processed twice")
            self.assertEqual(set(sent) - set(got), set(), "messages lost")
            self.assertEqual(set(got) - set(sent) - set(warm), set(), "messages never sent")
        finally:
            for s in socks:
                s.close()


    def test_a_hub_whose_publisher_is_gone_backs_off_with_reconnect_max(self):
        outs, hubs = {}, {}
        for name, extra in (("plain", []), ("backoff", ["--reconnect-max", "1"])):
            outs[name] = os.path.join(self.tmp, name + ".jsonl")
            hubs[name] = Hub(["--connect", self.pub.endpoint, "--self", "a", "--members", "a",
                              "--dead-letter", "none", "--consumer", "org.*=file:%s" % outs[name]]
                             + extra, name, self.tmp)
        hubtest.wait_subscribed(self.pub, list(hubs.values()), scaled(10))
        sent = self.send(1, 50)
        for name in hubs:
            wait_until(lambda: len(processed(outs[name])) >= 50, scaled(10),
                       "%s: the first 50 processed" % name)
        port = self.pub.port
        self.pub.close()
        time.sleep(0.5)

        def io_switches(hub):
            return sum(n for t, n in switches(hub.proc.pid).items() if t.startswith("ZMQbg/IO"))

        before = {name: io_switches(h) for name, h in hubs.items()}
        time.sleep(3)
        woke = {name: io_switches(h) - before[name] for name, h in hubs.items()}
        hubtest.log("publisher gone, 3 s: the I/O thread's context switches %s" % woke)
        # libzmq tries again every 100 ms; doubling from 100 ms up to 1 s,
        # a few times in these 3 s.
        self.assertGreaterEqual(woke["plain"], 12, "the plain hub did not retry: %s" % woke)
        self.assertLessEqual(woke["backoff"] * 3, woke["plain"], "no backoff: %s" % woke)

        # The publisher is back on its port: each hub reconnects (the
        # backoff's within its 1 s) and takes every message sent after that.
        self.pub = Publisher(port=port)
        self.addCleanup(self.pub.close)
        got = {name: h.metric("hashspace_messages_received_total") for name, h in hubs.items()}
        t0 = time.monotonic()
        back = {}
        warmups = 0
        while len(back) < len(hubs):
            self.pub.send(hubtest.WARMUP_TOPIC, fedmsg_body(hubtest.WARMUP_TOPIC.decode(),
                                                            {"user": "w"}, i=warmups))
            warmups += 1
            time.sleep(0.02)
            for name, h in hubs.items():
                if name not in back and h.metric("hashspace_messages_received_total") > got[name]:
                    back[name] = time.monotonic() - t0
            self.assertLess(time.monotonic() - t0, scaled(10), "not back: %s" % back)
        hubtest.log("back after the publisher returned: %s s" % back)
        self.assertLess(back["backoff"], scaled(3))
        sent += self.send(51, 50)
        for name in hubs:
            wait_until(lambda: len(processed(outs[name])) >= 100, scaled(10),
                       "%s: all 100 processed" % name)
            self.assertEqual(hubs[name].stop(timeout=10), 0)
            self.assert_all_once(outs[name], sent)

    def test_an_idle_dynamic_hub_wakes_its_ingress_only_for_timelines(self):
        import clustertest
        if clustertest.find_redis() is None:
            self.assertNotEqual(os.environ.get("HS_REQUIRE_REDIS"), "1", "redis-server not found")
            self.skipTest("redis-server not found")
        redis = clustertest.Redis(self.tmp)
        self.addCleanup(redis.stop)
        out = os.path.join(self.tmp, "out.jsonl")
        # The default heartbeat (1 s); a ring that empties 1 s after the
        # last message (while it keeps messages, the ingress looks at it).
        hub = Hub(["--connect", self.pub.endpoint, "--coordinator", redis.url, "--cluster", "idle",
                   "--self", "a", "--ring-seconds", "1", "--dead-letter", "none",
                   "--consumer", "org.*=file:%s" % out], "a", self.tmp)
        hubtest.wait_subscribed(self.pub, [hub], scaled(10))
        wait_until(lambda: hub.metric("hashspace_view_members") == 1, scaled(15),
                   "the hub's view to be in force")
        sent = self.send(1, 50)
        wait_until(lambda: len(processed(out)) >= 50, scaled(10), "the 50 processed")
        wait_until(lambda: hub.metric("hashspace_ring_messages") == 0, scaled(10),
                   "the ring to empty")
        time.sleep(1)
        before = switches(hub.proc.pid)
        time.sleep(3)
        after = switches(hub.proc.pid)
        woke = {t: after[t] - before.get(t, 0) for t in after if after[t] != before.get(t, 0)}
        hubtest.log("idle dynamic hub, 3 s: context switches by thread %s" % woke)
        ingress = sum(n for t, n in woke.items() if t.startswith("hs-ingress/"))
        # Before: 10 a second, plus the timelines. Now about one per heartbeat.
        self.assertLessEqual(ingress, 12, "the ingress woke %d times in 3 s: %s" % (ingress, woke))
        self.assertTrue(any(t.startswith("hs-membership/") for t in woke),
                        "the membership thread did not heartbeat: %s" % woke)
        # Still takes the next message at once.
        sent += self.send(51, 1)
        wait_until(lambda: len(processed(out)) >= 51, scaled(5), "message 51 processed")
        self.assertEqual(hub.stop(timeout=20), 0)
        self.assert_all_once(out, sent)


if __name__ == "__main__":
    unittest.main()
