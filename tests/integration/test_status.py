"""test_status.py - `hashspace status` reads a hub's /status into a table.

A tiny HTTP server in this process serves a canned /status (the JSON a hub
serves: hub counters, malformed reasons, bus losses, consumers with their
duration histograms); the test checks that every figure shows up in the
right column or line, that --watch derives a rate from two samples, that
--json prints the answer as it is, and that an unreachable hub is one
readable error line. Then the same against a real hub fed by `hashspace pub`.
"""
import http.server
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402

HS_BIN = os.environ.get("HS_BIN", "build/hashspace")


def canned(requests):
    """The /status of a hub, the nth time it is asked: "badges" is slow and
    finishes 100 messages more each time, "archive" is fast."""
    return {
        "self": "hub-x", "members": "hub-w,hub-x,hub-y,hub-z", "epoch": 7, "view_members": 4,
        "received": 120000, "claimed": 30017, "skipped": 89983,
        "malformed": {"json": 3, "key": 0, 'no "key" field': 2},
        "unmatched": 0, "dead_lettered": 4, "dead_letter_failures": 1, "key_fallbacks": 0,
        "abandoned": 0,
        "consumers": [
            {"name": "badges", "glob": "*", "kind": "exec", "arg": "badges.py", "workers": 2,
             "backlog": 1234, "oldest_age_seconds": 2.5, "ok": 27000 + 100 * requests,
             "failed": 6,
             "duration_seconds": {"bounds": [0.001, 0.002, 0.004],
                                  "counts": [0, 100, 100 * requests, 0], "sum": 0.4},
             "dropped": 0, "left": 3, "restarts": 2, "possibly_lost": 0, "routed": 30017},
            {"name": "archive", "glob": "*", "kind": "file", "arg": "a.jsonl", "workers": 1,
             "backlog": 0, "oldest_age_seconds": 0, "ok": 30017, "failed": 0,
             "duration_seconds": {"bounds": [1e-05, 2e-05], "counts": [1000, 1000, 0],
                                  "sum": 0.03},
             "dropped": 0, "left": 0, "restarts": 0, "possibly_lost": 0, "routed": 30017},
        ],
        "bus": [
            {"publisher": "tcp://10.0.0.1:5000 org.a", "last": 900, "received": 890,
             "missing": 12, "gaps": 2, "late": 2, "duplicates": 1, "restarts": 0},
            {"publisher": "tcp://10.0.0.2:5000 org.b", "last": 50, "received": 50,
             "missing": 0, "gaps": 0, "late": 0, "duplicates": 0, "restarts": 1},
        ],
    }


def canned_dynamic(requests):
    """A hub of a dynamic cluster in the middle of a handover: a view pending,
    messages held, and a crash replayed."""
    s = canned(requests)
    s.update({"members": None, "coordinator": "redis://127.0.0.1:6379", "cluster": "demo",
              "pending_views": 1, "newest_epoch": 8,
              "pending_effective_seconds": time.time() + 30, "held": 120, "held_total": 900,
              "crashes": 1, "replayed": 2523, "taken_over": 17, "possible_duplicates": 2520,
              "fenced": 0, "fenced_messages": 0, "ring_misses": 0})
    return s


def canned_settled(requests):
    s = canned(requests)
    s.update({"members": None, "coordinator": "redis://127.0.0.1:6379", "cluster": "demo",
              "pending_views": 0, "newest_epoch": 7, "pending_effective_seconds": 0,
              "held": 0, "held_total": 0, "crashes": 0, "replayed": 0, "fenced": 0})
    return s


class Server:
    def __init__(self, test, answer=canned):
        self.requests = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/metrics":  # what status read before /status
                    body = b"hashspace_messages_received_total 1\n"
                elif self.path == "/status":
                    outer.requests += 1
                    body = json.dumps(answer(outer.requests)).encode()
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.addr = "127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        test.addCleanup(self.httpd.server_close)
        test.addCleanup(self.httpd.shutdown)


def row(out, consumer):
    for line in out.splitlines():
        cols = line.split()
        if cols and cols[0] == consumer:
            return cols
    raise AssertionError("no row for %s in:\n%s" % (consumer, out))


class Status(unittest.TestCase):
    def test_table_shows_the_figures(self):
        srv = Server(self)
        r = subprocess.run([HS_BIN, "status", srv.addr], capture_output=True, text=True,
                           timeout=hubtest.scaled(30))
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout
        self.assertIn("hub hub-x (%s): view epoch 7, 4 members" % srv.addr, out)
        # Counts that are 0 and shown only when not (unmatched) stay out.
        self.assertIn("\n  received 120000  claimed 30017  skipped 89983  malformed 5  "
                      "dead-lettered 4\n  dead letters not written 1\n", out)
        self.assertIn('malformed by reason: json 3, no "key" field 2', out)
        self.assertIn("  bus: missing 12 (late 2)  duplicates 1  publisher restarts 1\n", out)
        self.assertIn("    publisher tcp://10.0.0.1:5000 org.a: missing 12\n", out)
        self.assertNotIn("org.b: missing", out)
        header = row(out, "consumer")
        self.assertEqual(header[1:], ["backlog", "oldest", "ok", "failed", "rate/s", "p50",
                                      "p99", "dropped", "restarts"])
        # badges: p50 is the top of the first non-empty bucket (rank 100 of
        # 200 -> 2 ms), p99 interpolated in the (2 ms, 4 ms] bucket: 3.96 ms.
        self.assertEqual(row(out, "badges")[1:],
                         ["1234", "2.50s", "27100", "6", "-", "2.00ms", "3.96ms", "0", "2"])
        # archive: p50 at 10 us, p99 at 10 + 10 * 980/1000 = 19.8 us.
        self.assertEqual(row(out, "archive")[1:],
                         ["0", "0", "30017", "0", "-", "10us", "20us", "0", "0"])
        # Under the table, what a consumer counts outside its columns.
        self.assertIn("\n    badges: left 3\n", out)
        self.assertNotIn("archive:", out)
        self.assertNotIn("membership", out)  # a static hub
        for line in out.splitlines():
            self.assertLess(len(line), 80, line)

    def test_a_handover_in_progress_shows_on_the_membership_line(self):
        srv = Server(self, canned_dynamic)
        r = subprocess.run([HS_BIN, "status", srv.addr], capture_output=True, text=True,
                           timeout=hubtest.scaled(30))
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout
        self.assertIn("hub hub-x (%s): view epoch 7, 4 members\n" % srv.addr, out)
        # The membership block: its first line and the lines indented under it.
        block = re.search(r"\n  membership \(demo\): (.*(?:\n {20,}.*)*)\n", out)
        self.assertIsNotNone(block, out)
        text = " ".join(block.group(1).split())
        m = re.fullmatch(r"view 8 pending, in force in (\d+\.\d) s holding 120 messages of "
                         r"moved keys crashes seen 1 replayed 2523 taken over 17 possible "
                         r"duplicates 2520 held for a handover 900", text)
        self.assertIsNotNone(m, text)
        self.assertTrue(25 < float(m.group(1)) <= 30, m.group(1))
        # Not repeated on the counters line.
        self.assertIn("\n  received 120000  claimed 30017  skipped 89983  malformed 5  "
                      "dead-lettered 4\n  dead letters not written 1\n", out)
        self.assertEqual(out.count("replayed"), 1, out)
        for line in out.splitlines():
            self.assertLess(len(line), 80, line)

    def test_a_settled_dynamic_hub_says_so(self):
        srv = Server(self, canned_settled)
        r = subprocess.run([HS_BIN, "status", srv.addr], capture_output=True, text=True,
                           timeout=hubtest.scaled(30))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("\n  membership (demo): settled\n  received 120000", r.stdout)

    def test_json_prints_each_answer_as_it_is(self):
        srv = Server(self)
        r = subprocess.run([HS_BIN, "status", "--json", srv.addr, srv.addr],
                           capture_output=True, text=True, timeout=hubtest.scaled(30))
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual([json.loads(line) for line in lines], [canned(1), canned(2)])

    def test_watch_derives_a_rate_from_two_samples(self):
        srv = Server(self)
        p = subprocess.Popen([HS_BIN, "status", "--watch", "0.5", srv.addr],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        deadline = time.monotonic() + hubtest.scaled(20)
        while srv.requests < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.1)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=hubtest.scaled(20))
        self.assertEqual(p.returncode, 0, err)
        tables = [t for t in out.split("\n\n") if t.strip()]
        self.assertGreaterEqual(len(tables), 3)
        self.assertEqual(row(tables[0], "badges")[5], "-")
        # 100 more messages per 0.5 s sample: about 200/s.
        rate = int(row(tables[2], "badges")[5])
        self.assertGreater(rate, 120)
        self.assertLess(rate, 260)
        self.assertEqual(row(tables[2], "archive")[5], "0")

    def test_unreachable_hub_is_one_readable_line(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        r = subprocess.run([HS_BIN, "status", "127.0.0.1:%d" % port], capture_output=True,
                           text=True, timeout=hubtest.scaled(30))
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"^hashspace status: cannot read the status of "
                                   r"127\.0\.0\.1:%d: Connection refused.*\n$" % port)

    def test_wrong_path_reports_the_http_status(self):
        srv = Server(self)
        r = subprocess.run([HS_BIN, "status", "http://%s/nope" % srv.addr],
                           capture_output=True, text=True, timeout=hubtest.scaled(30))
        self.assertEqual(r.returncode, 1)
        self.assertIn("GET /nope: HTTP status 404", r.stderr)

    def test_an_answer_that_is_not_json_is_one_readable_line(self):
        srv = Server(self)
        r = subprocess.run([HS_BIN, "status", "http://%s/metrics" % srv.addr],
                           capture_output=True, text=True, timeout=hubtest.scaled(30))
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"^hashspace status: cannot read the status of .*: GET /metrics: "
                                   r"not the JSON of a hub's /status \(.*\)\n$")

    def test_bad_address_exits_2(self):
        for addr in ("nocolon", "host:0", "ftp://x:1", "h:99999"):
            r = subprocess.run([HS_BIN, "status", addr], capture_output=True, text=True,
                               timeout=hubtest.scaled(30))
            self.assertEqual(r.returncode, 2, addr)
            self.assertTrue(r.stderr.startswith("hashspace status: "), r.stderr)


class StatusOfARealHub(unittest.TestCase):
    def test_counts_match_what_was_published(self):
        tmp = tempfile.TemporaryDirectory(prefix="hs-status-")
        self.addCleanup(tmp.cleanup)
        self.addCleanup(hubtest.cleanup)
        ep = "tcp://127.0.0.1:%d" % hubtest.free_port()
        hub = hubtest.Hub(["--connect", ep, "--self", "hub-a", "--members", "hub-a,hub-b",
                           "--key", "json:/msg/user",
                           "--consumer", "archive@file:" + os.path.join(tmp.name, "out.jsonl")],
                          "hub-a", tmp.name)
        n = 2000
        r = subprocess.run([os.path.abspath(HS_BIN), "pub", "--bind", ep, "--count", str(n),
                            "--wait-subscribers", "1", "--wait-timeout", "20", "-q"],
                           capture_output=True, text=True, timeout=hubtest.scaled(40))
        self.assertEqual(r.returncode, 0, r.stderr)
        hubtest.wait_until(lambda: hub.metric("hashspace_messages_received_total") >= n
                           and hub.metric("hashspace_consumer_backlog", consumer="archive") == 0,
                           20, "the hub to take every message")
        claimed = int(hub.metric("hashspace_messages_claimed_total"))
        lines = len(hubtest.read_jsonl(os.path.join(tmp.name, "out.jsonl")))
        self.assertEqual(lines, claimed)
        self.assertGreater(claimed, n // 4)  # about half: two members
        self.assertLess(claimed, 3 * n // 4)
        addr = hub.metrics_url[len("http://"):-len("/metrics")]
        r = subprocess.run([HS_BIN, "status", addr], capture_output=True, text=True,
                           timeout=hubtest.scaled(30))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("hub hub-a (%s): view epoch" % addr, r.stdout)
        self.assertIn(", 2 members", r.stdout)
        self.assertIn("received %d  claimed %d  skipped %d  malformed 0  dead-lettered 0"
                      % (n, claimed, n - claimed), r.stdout)
        cols = row(r.stdout, "archive")
        self.assertEqual(cols[1], "0")            # backlog
        self.assertEqual(cols[3], str(claimed))   # processed ok
        self.assertEqual(cols[4], "0")            # failed
        self.assertNotEqual(cols[6], "-")         # p50 from the histogram
        r = subprocess.run([HS_BIN, "status", "--json", addr], capture_output=True, text=True,
                           timeout=hubtest.scaled(30))
        self.assertEqual(r.returncode, 0, r.stderr)
        status = json.loads(r.stdout)
        self.assertEqual(r.stdout.count("\n"), 1)
        self.assertEqual(status["self"], "hub-a")
        self.assertEqual(status["claimed"], claimed)
        self.assertEqual(hub.stop(), 0, hub.log())


class StatusOfADynamicHub(unittest.TestCase):
    """A real hub with a redis-server coordinator: while a second hub joins,
    `hashspace status` of the first shows the pending view and when it takes
    effect, then "settled" once it is in force."""

    def test_pending_view_then_settled(self):
        import shutil
        if not (os.environ.get("HS_REDIS_SERVER") or shutil.which("redis-server")):
            if os.environ.get("HS_REQUIRE_REDIS") == "1":
                self.fail("redis-server not found")
            self.skipTest("redis-server not found")
        import clustertest
        tmp = tempfile.TemporaryDirectory(prefix="hs-status-dyn-")
        self.addCleanup(tmp.cleanup)
        self.addCleanup(hubtest.cleanup)
        redis = clustertest.Redis(tmp.name)
        self.addCleanup(redis.stop)
        pub = hubtest.Publisher()
        self.addCleanup(pub.close)
        timing = ["--heartbeat", "0.2", "--expiry", "1", "--lead-time", "2", "--join-wait", "0"]
        cluster = clustertest.Cluster(tmp.name, redis, pub, name="st", timing=timing)
        a = cluster.hub("hub-a")
        cluster.wait_view(["hub-a"])
        addr = a.metrics_url[len("http://"):-len("/metrics")]

        def status():
            r = subprocess.run([HS_BIN, "status", addr], capture_output=True, text=True,
                               timeout=hubtest.scaled(30))
            self.assertEqual(r.returncode, 0, r.stderr)
            for line in r.stdout.splitlines():
                self.assertLess(len(line), 80, line)
            return r.stdout

        self.assertIn("\n  membership (st): settled\n", status())
        epoch = int(a.metric("hashspace_view_epoch"))
        cluster.hub("hub-b")
        seen = []

        def pending():
            seen.append(status())
            return re.search(r"membership \(st\): view %d pending, in force in \d+\.\d s"
                             % (epoch + 1), seen[-1])
        hubtest.wait_until(pending, 10, "status to show the join's view pending", interval=0.1)
        js = json.loads(subprocess.run([HS_BIN, "status", "--json", addr], capture_output=True,
                                       text=True, timeout=hubtest.scaled(30)).stdout)
        self.assertEqual(js["coordinator"], redis.url)
        self.assertEqual(js["cluster"], "st")
        if js["pending_views"] > 0:
            self.assertGreater(js["pending_effective_seconds"], time.time() - 1)
        cluster.wait_view(["hub-a", "hub-b"])
        out = status()
        self.assertIn("hub hub-a (%s): view epoch %d, 2 members\n  membership (st): settled\n"
                      % (addr, epoch + 1), out)
        self.assertEqual(cluster.stop_all(), {"hub-a": 0, "hub-b": 0})


if __name__ == "__main__":
    unittest.main(verbosity=2)
