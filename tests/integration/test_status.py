"""test_status.py - `hashspace status` reads a hub's /metrics into a table.

A tiny HTTP server in this process serves canned Prometheus text (comments,
label escapes, histograms, a timestamp); the test checks that every figure
shows up in the right column, that --watch derives a rate from two samples,
and that an unreachable hub is one readable error line. Then the same
against a real hub fed by `hashspace pub`.
"""
import http.server
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

CANNED = """\
# HELP hashspace_messages_received_total Messages received from the bus.
# TYPE hashspace_messages_received_total counter
hashspace_messages_received_total{bus="tcp://127.0.0.1:9940"} 120000
hashspace_messages_claimed_total 30017
hashspace_messages_skipped_total 89983
# TYPE hashspace_messages_malformed_total counter
hashspace_messages_malformed_total{reason="json"} 3
hashspace_messages_malformed_total{reason="key"} 0
hashspace_messages_malformed_total{reason="no \\"key\\" field"} 2
hashspace_messages_dead_lettered_total 4
hashspace_view_epoch 7
hashspace_view_members 4
# consumers: "badges" is slow, "archive" is fast
hashspace_consumer_backlog{consumer="badges"} 1234
hashspace_consumer_backlog{consumer="archive"} 0
hashspace_consumer_oldest_age_seconds{consumer="badges"} 2.5
hashspace_consumer_oldest_age_seconds{consumer="archive"} 0
hashspace_consumer_processed_total{consumer="badges",result="ok"} %(badges_ok)d
hashspace_consumer_processed_total{consumer="badges",result="failed"} 6
hashspace_consumer_processed_total{consumer="archive",result="ok"} 30017 1700000000000
hashspace_consumer_processed_total{consumer="archive",result="failed"} 0
hashspace_consumer_duration_seconds_bucket{consumer="badges",le="0.001"} 0
hashspace_consumer_duration_seconds_bucket{consumer="badges",le="0.002"} 100
hashspace_consumer_duration_seconds_bucket{consumer="badges",le="0.004"} 200
hashspace_consumer_duration_seconds_bucket{consumer="badges",le="+Inf"} 200
hashspace_consumer_duration_seconds_sum{consumer="badges"} 0.4
hashspace_consumer_duration_seconds_count{consumer="badges"} 200
hashspace_consumer_duration_seconds_bucket{ consumer = "archive" , le = "1e-05" , } 1000
hashspace_consumer_duration_seconds_bucket{consumer="archive",le="2e-05"} 2000
hashspace_consumer_duration_seconds_bucket{consumer="archive",le="+Inf"} 2000
hashspace_consumer_restarts_total{consumer="badges"} 2
hashspace_consumer_restarts_total{consumer="archive"} 0
hashspace_consumer_dropped_total{consumer="badges"} 0
hashspace_consumer_dropped_total{consumer="archive"} 0
this line is not a metric and is skipped
"""


class Server:
    def __init__(self, test):
        self.requests = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path != "/metrics":
                    self.send_error(404)
                    return
                outer.requests += 1
                body = (CANNED % {"badges_ok": 27000 + 100 * outer.requests}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
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
        self.assertIn("hub %s: view epoch 7, 4 members" % srv.addr, out)
        self.assertIn("received 120000  claimed 30017  skipped 89983  malformed 5  "
                      "dead-lettered 4", out)
        self.assertIn('malformed by reason: json 3, no "key" field 2', out)
        header = row(out, "consumer")
        self.assertEqual(header[1:], ["backlog", "oldest", "ok", "failed", "rate/s", "p50",
                                      "p99", "restarts", "dropped"])
        # badges: p50 is the top of the first non-empty bucket (rank 100 of
        # 200 -> 2 ms), p99 interpolated in the (2 ms, 4 ms] bucket: 3.96 ms.
        self.assertEqual(row(out, "badges")[1:],
                         ["1234", "2.50s", "27100", "6", "-", "2.00ms", "3.96ms", "2", "0"])
        # archive: p50 at 10 us, p99 at 10 + 10 * 980/1000 = 19.8 us.
        self.assertEqual(row(out, "archive")[1:],
                         ["0", "0", "30017", "0", "-", "10us", "20us", "0", "0"])

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
        self.assertRegex(r.stderr, r"^hashspace status: cannot read the metrics of "
                                   r"127\.0\.0\.1:%d: Connection refused.*\n$" % port)

    def test_wrong_path_reports_the_http_status(self):
        srv = Server(self)
        r = subprocess.run([HS_BIN, "status", "http://%s/nope" % srv.addr],
                           capture_output=True, text=True, timeout=hubtest.scaled(30))
        self.assertEqual(r.returncode, 1)
        self.assertIn("GET /nope: HTTP/1.0 404", r.stderr)

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
        self.assertIn("view epoch", r.stdout)
        self.assertIn(", 2 members", r.stdout)
        self.assertIn("received %d  claimed %d  skipped %d  malformed 0  dead-lettered 0"
                      % (n, claimed, n - claimed), r.stdout)
        cols = row(r.stdout, "archive")
        self.assertEqual(cols[1], "0")            # backlog
        self.assertEqual(cols[3], str(claimed))   # processed ok
        self.assertEqual(cols[4], "0")            # failed
        self.assertNotEqual(cols[6], "-")         # p50 from the histogram
        self.assertEqual(hub.stop(), 0, hub.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
