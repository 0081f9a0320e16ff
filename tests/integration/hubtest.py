"""hubtest.py - shared helpers of the hub integration tests: start and stop
`hashspace hub` processes, scrape their metrics, publish fedmsg-format
messages from Python (Debian's python3-zmq), find free ports.

Stable API (other tests import it):
    HS_BIN, free_port(), wait_until(pred, timeout, what)
    scaled(seconds): a time limit stretched for a sanitizer build (TIMEOUT_SCALE)
    parse_metrics(text) -> {(name, ((label, value), ...)): float}
    fedmsg_body(topic, msg, msg_id=None, i=1, username="hashspace") -> bytes
    Publisher(curve_secret=None, curve_allow=None): a PUB socket bound on
        127.0.0.1 (random port); .endpoint, .send(topic, body), .close();
        with curve_secret (a secret certificate file) a CURVE server, and
        with curve_allow (a directory of public certificates) only those
        clients are let in (pyzmq's own ZAP handler)
    keygen(directory, name) -> (public file, secret file): `hashspace keygen`
    Hub(args, name, workdir): a running hub; .metrics_url, .scrape(),
        .metric(name, **labels), .status(), .stop(sig) -> exit status,
        .log() -> stderr text, .kill()
    wait_subscribed(pub, hubs, timeout): publish warm-up messages on topic
        WARMUP_TOPIC until every hub has received one (ZeroMQ's slow joiner)
    settled(hubs, name): each hub's counter `name` once none has moved for a
        while: the baseline to count later messages from, after warm-ups
    cleanup(): kill every process started here (also run at exit)

Every process started here is killed at exit, even when a test fails.

Sanitizer builds: tests/CMakeLists.txt passes HS_SANITIZE, and under
ThreadSanitizer a TSAN_OPTIONS with the suppressions, halt_on_error=1 and
exitcode=66. The waits here (and the tests' own, through scaled()) then
allow TIMEOUT_SCALE times longer: waits, not measurements, so a slow build
does not fail for being slow. A hub whose log holds a ThreadSanitizer report
fails the test: Hub.stop raises, and at exit the reports of every hub
started here, killed ones included, are printed and the exit status is 66.
Other processes fail through their exit status (66) where the tests check it.
"""
import atexit
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

HS_BIN = os.environ.get("HS_BIN") or os.path.join(
    os.environ.get("HS_BUILD_DIR", "build"), "hashspace")
WARMUP_TOPIC = b"hashspace.warmup"
TSAN_MARK = "WARNING: ThreadSanitizer"
TSAN_EXIT = 66


def _timeout_scale():
    if os.environ.get("HS_TIMEOUT_SCALE"):
        return float(os.environ["HS_TIMEOUT_SCALE"])
    sanitize = os.environ.get("HS_SANITIZE", "")
    # TSan runs the hub 5-15x slower, ASan about 2x; most waits end long
    # before their limit, so the limits need not grow as much.
    return 4.0 if "thread" in sanitize else 2.0 if sanitize else 1.0


TIMEOUT_SCALE = _timeout_scale()


def scaled(seconds):
    return seconds * TIMEOUT_SCALE


_procs = []
_hubs = []


def cleanup():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
    # Read the hubs' logs now: a test may delete its directory next.
    for h in _hubs:
        h.tsan_report()


def tsan_report(text):
    """The ThreadSanitizer reports in a process's output, or None."""
    at = text.find(TSAN_MARK)
    if at < 0:
        return None
    return text[text.rfind("\n", 0, at) + 1:]


def _at_exit():
    cleanup()
    found = [h for h in _hubs if h.tsan_report() is not None]
    for h in found:
        if not h.tsan_raised:
            print("hub %s (pid %d): ThreadSanitizer report:\n%s"
                  % (h.name, h.proc.pid, h.tsan_report()), file=sys.stderr)
    if found:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(TSAN_EXIT)


atexit.register(_at_exit)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout, what, interval=0.05):
    """Poll pred() until it is true; fail with `what` after timeout seconds."""
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


_sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
_label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _sample.match(line)
        if not m:
            continue
        labels = tuple(sorted(_label.findall(m.group(2) or "")))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def fedmsg_body(topic, msg, msg_id=None, i=1, username="hashspace"):
    if isinstance(topic, bytes):
        topic = topic.decode()
    return json.dumps({
        "topic": topic,
        "msg": msg,
        "timestamp": time.time(),
        "msg_id": msg_id or "%d-%s" % (time.gmtime().tm_year, uuid.uuid4()),
        "i": i,
        "username": username,
    }, separators=(",", ":")).encode()


class Publisher:
    """A fedmsg-style publisher: PUB bound on loopback, no send limit (so a
    burst is queued, never dropped on our side)."""

    def __init__(self, port=None, curve_secret=None, curve_allow=None, host="127.0.0.1",
                 sndhwm=0):
        self.ctx = zmq.Context()
        self.auth = None
        if curve_allow is not None:
            self.auth = ThreadAuthenticator(self.ctx)
            self.auth.start()
            self.auth.configure_curve(domain="*", location=curve_allow)
        self.sock = self.ctx.socket(zmq.PUB)
        if curve_secret is not None:
            public, secret = zmq.auth.load_certificate(curve_secret)
            self.sock.curve_secretkey = secret
            self.sock.curve_publickey = public
            self.sock.curve_server = True
        self.sock.setsockopt(zmq.SNDHWM, sndhwm)  # 0: no limit
        self.sock.setsockopt(zmq.LINGER, 0)
        self.port = port or free_port()
        self.endpoint = "tcp://%s:%d" % (host, self.port)
        self.sock.bind(self.endpoint)

    def send(self, topic, body):
        if isinstance(topic, str):
            topic = topic.encode()
        self.sock.send_multipart([topic, body])

    def send_frames(self, frames):
        self.sock.send_multipart(frames)

    def close(self):
        self.sock.close()
        if self.auth is not None:
            self.auth.stop()
        self.ctx.term()


def keygen(directory, name):
    """A key pair from `hashspace keygen`: (public file, secret file)."""
    path = os.path.join(directory, name)
    subprocess.run([HS_BIN, "keygen", "--out", path, "--name", name], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path, path + "_secret"


class Hub:
    def __init__(self, args, name, workdir, env=None, ready_timeout=15):
        self.name = name
        self.workdir = workdir
        self.log_path = os.path.join(workdir, "%s.log" % name)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([HS_BIN, "hub"] + list(args), cwd=workdir,
                                     stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, env=env)
        _procs.append(self.proc)
        _hubs.append(self)
        self.tsan = None  # the ThreadSanitizer report in its log, once seen
        self.tsan_raised = False
        self.metrics_url = None
        self.status_url = None
        addr = wait_until(self._metrics_addr, ready_timeout, "hub %s to start" % name)
        self.metrics_url = "http://%s/metrics" % addr
        self.status_url = "http://%s/status" % addr

    def _metrics_addr(self):
        if self.proc.poll() is not None:
            self.tsan_raised = self.tsan_report() is not None  # the log below shows it
            raise AssertionError("hub %s exited with %s at start:\n%s"
                                 % (self.name, self.proc.returncode, self.log()))
        m = re.search(r"metrics on http://([^/\s]+)/metrics", self.log())
        return m.group(1) if m else None

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def tsan_report(self):
        if self.tsan is None:
            try:
                self.tsan = tsan_report(self.log())
            except OSError:  # the test removed its directory
                pass
        return self.tsan

    def scrape(self):
        with urllib.request.urlopen(self.metrics_url, timeout=scaled(5)) as r:
            return parse_metrics(r.read().decode())

    def metric(self, name, **labels):
        return self.scrape().get((name, tuple(sorted(labels.items()))), 0.0)

    def status(self):
        with urllib.request.urlopen(self.status_url, timeout=scaled(5)) as r:
            return json.loads(r.read().decode())

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signal the hub and wait for its exit status. Raises when it does
        not exit in time or when its log holds a ThreadSanitizer report."""
        timeout = scaled(timeout)
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("hub %s did not exit within %s s after signal %s:\n%s"
                                 % (self.name, timeout, sig, self.log()[-3000:]))
        self._log.close()
        report = self.tsan_report()
        if report is not None:
            self.tsan_raised = True
            raise AssertionError("hub %s (exit status %s): ThreadSanitizer report:\n%s"
                                 % (self.name, rc, report))
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def stop_all(hubs):
    """SIGTERM each hub in turn; each must exit 0 (the tail of its log in the
    assertion otherwise)."""
    for h in hubs:
        rc = h.stop()
        assert rc == 0, "hub %s exited %s:\n%s" % (h.name, rc, h.log()[-2000:])


def wait_subscribed(pub, hubs, timeout=20):
    """Publish warm-up messages (topic WARMUP_TOPIC, one every 20 ms) until
    each hub has received at least one; returns the number sent. Their
    msg has "user" and "key" fields, so json:/msg/user and json:/msg/key
    keys find one; give consumers a glob that does not match the topic."""
    sent = 0
    deadline = time.monotonic() + scaled(timeout)
    pending = list(hubs)
    while pending:
        msg = {"warmup": sent, "user": "warmup-%d" % sent, "key": "warmup-%d" % sent}
        pub.send(WARMUP_TOPIC, fedmsg_body(WARMUP_TOPIC, msg, i=sent))
        sent += 1
        time.sleep(0.02)
        pending = [h for h in pending
                   if h.metric("hashspace_messages_received_total") < 1]
        if time.monotonic() > deadline:
            raise AssertionError("hubs %s never received a warm-up message"
                                 % [h.name for h in pending])
    return sent


def settled(hubs, name="hashspace_messages_received_total", quiet=0.5, timeout=20):
    """{hub name: value of counter `name`} once no hub's value has changed for
    `quiet` seconds. After wait_subscribed the last warm-ups may still be on
    their way, and a hub that subscribed late never sees the earlier ones, so
    a test cannot wait for a total of warm-ups: it waits for the counters to
    stop moving and counts its own messages from there."""
    deadline = time.monotonic() + scaled(timeout)
    last = {h.name: h.metric(name) for h in hubs}
    since = time.monotonic()
    while time.monotonic() - since < quiet:
        if time.monotonic() > deadline:
            raise AssertionError("%s never settled: %s" % (name, last))
        time.sleep(0.05)
        now = {h.name: h.metric(name) for h in hubs}
        if now != last:
            last, since = now, time.monotonic()
    return last


BENCH_COMMANDS = ("bench", "balance", "movement")


def has_benchmarks():
    """False for a build with -DHS_BUILD_BENCH=OFF (the sanitizer builds):
    bench, balance and movement then only say so."""
    out = subprocess.run([HS_BIN, "bench", "--help"], capture_output=True, text=True)
    return "built without benchmarks" not in out.stdout + out.stderr


def read_jsonl(path):
    out = []
    if not os.path.exists(path):
        return out
    with open(path, "rb") as f:
        for line in f:
            out.append(json.loads(line))
    return out


def log(*args):
    print(*args, file=sys.stderr, flush=True)
