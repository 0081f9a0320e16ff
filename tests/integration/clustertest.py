"""clustertest.py - dynamic-membership test harness: a real redis-server,
hubs that join, leave and crash, a publisher that numbers each user's
messages, and the count of what came out (docs/design.md "Membership").

Stable API (tests and the demo import it):
    find_redis(): the redis-server binary, or None
    require_redis(): the redis-server binary, or exit with a clear message
        (status 77, skipped; 1 under HS_REQUIRE_REDIS=1)
    Redis(workdir): a redis-server on a free loopback port, --save ''
        --appendonly no; .url, .port, .stop() (by PID), .restart() (same
        port, empty database), .cli(*args) -> str
    Cluster(workdir, redis, pub, name="c", timing=FAST): .hub(name, *extra)
        starts a dynamic hub (file consumer "out" appending to one shared
        file, so its lines are in the order the hubs finished them),
        .hubs {name: Hub}, .out (the shared file), .wait_view(names, hubs)
        until each hub's view in force has exactly these members,
        .metric_sum(name), .stop_all()
    CountingPublisher(pub, users, rate): a thread publishing topic
        org.hashspace.test, body fedmsg with msg {"user", "seq"} (seq counts
        each user's messages from 1) and the current time; .start(),
        .stop() (waits for the thread), .sent {msg_id: (user, seq)}, .count
    analyze(out_path, sent) -> {"sent", "processed", "lost", "duplicated",
        "reordered", "unknown"}: every msg_id counted; reordered counts the
        lines whose user's seq is below one that user's earlier line had
    TcpProxy(target_port): a loopback TCP proxy the test controls; .port,
        .cut() (close every connection, refuse new ones), .restore(), .close()
    FAST: the timing the tests use (heartbeat 0.2 s, expiry 1 s, lead 0.5 s)
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import Hub, fedmsg_body, free_port, log, read_jsonl, scaled, wait_until  # noqa: E402

TOPIC = "org.hashspace.test"
FAST = ["--heartbeat", "0.2", "--expiry", "1", "--lead-time", "0.5", "--join-wait", "0.2"]


def find_redis():
    """The redis-server binary, or None."""
    path = os.environ.get("HS_REDIS_SERVER") or shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None)
    return path if path and os.access(path, os.X_OK) else None


def require_redis():
    path = find_redis()
    if path:
        return path
    print("SKIPPED: redis-server not found (install it: scripts/deps.sh, or apt-get install "
          "redis-server; HS_REDIS_SERVER=PATH names another)", file=sys.stderr)
    sys.exit(1 if os.environ.get("HS_REQUIRE_REDIS") == "1" else 77)


class Redis:
    def __init__(self, workdir, port=None):
        self.binary = require_redis()
        self.workdir = workdir
        self.port = port or free_port()
        self.url = "redis://127.0.0.1:%d" % self.port
        self.proc = None
        self.start()

    def start(self):
        self.log = open(os.path.join(self.workdir, "redis-%d.log" % self.port), "ab")
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.workdir],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        hubtest._procs.append(self.proc)
        wait_until(lambda: self._ping(), 10, "redis-server to answer on port %d" % self.port)

    def _ping(self):
        import socket
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def restart(self):
        """Kill and start again on the same port: an empty database."""
        self.stop()
        self.start()


class TcpProxy:
    """Forwards 127.0.0.1:port to 127.0.0.1:target_port, one thread per
    direction; cut() drops every connection and refuses new ones until
    restore(), as a network partition would."""

    def __init__(self, target_port):
        import socket
        self.target = target_port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.conns = []
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import socket
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.target), timeout=2)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data or not self.up:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.close()
            except OSError:
                pass

    def cut(self):
        import socket
        self.up = False
        with self.lock:
            for s in self.conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self.conns = []

    def restore(self):
        self.up = True

    def close(self):
        self.closed = True
        self.cut()
        self.listener.close()


class Cluster:
    def __init__(self, workdir, redis, pub, name="c", timing=FAST):
        self.workdir = workdir
        self.redis = redis
        self.pub = pub
        self.name = name
        self.timing = list(timing)
        self.out = os.path.join(workdir, "out.jsonl")
        self.hubs = {}

    def hub(self, name, *extra, coordinator=None):
        args = ["--connect", self.pub.endpoint, "--coordinator", coordinator or self.redis.url,
                "--cluster", self.name, "--self", name, "--key", "json:/msg/user",
                "--consumer", "out@org.*=file:%s" % self.out,
                "--dead-letter", "file:dead-%s.jsonl" % name] + self.timing + list(extra)
        h = Hub(args, name, self.workdir)
        self.hubs[name] = h
        return h

    def wait_view(self, names, hubs=None, timeout=20):
        """Until every hub in hubs (default: those named) has a view in force
        with exactly `names` as members, by its log line and metrics."""
        want = len(names)
        hubs = hubs if hubs is not None else [self.hubs[n] for n in names]

        def ok():
            return all(h.metric("hashspace_view_members") == want
                       and h.metric("hashspace_view_pending") == 0 for h in hubs)
        return wait_until(ok, timeout, "hubs %s to have a view of %s"
                          % ([h.name for h in hubs], names), interval=0.1)

    def metric_sum(self, name, hubs=None):
        total = 0.0
        for h in (hubs if hubs is not None else self.hubs.values()):
            if h.proc.poll() is None:
                total += h.metric(name)
        return total

    def stop_all(self, sig=signal.SIGTERM):
        """Stop every hub still running; their exit statuses by name."""
        out = {}
        for name, h in self.hubs.items():
            if h.proc.poll() is None:
                h.proc.send_signal(sig)
        for name, h in self.hubs.items():
            out[name] = h.stop(sig)
        return out


class CountingPublisher:
    def __init__(self, pub, users=200, rate=2000):
        self.pub = pub
        self.users = users
        self.rate = rate
        self.sent = {}
        self.count = 0
        self.seq = {}
        self._stop = threading.Event()
        self._thread = None
        self.lock = threading.Lock()

    def start(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        t0 = time.monotonic()
        while not self._stop.is_set():
            due = int((time.monotonic() - t0) * self.rate)
            while self.count < due and not self._stop.is_set():
                self.send_one()
            time.sleep(0.002)

    def send_one(self, timestamp=None):
        user = "user-%d" % (self.count % self.users)
        seq = self.seq.get(user, 0) + 1
        self.seq[user] = seq
        msg_id = "m-%d" % self.count
        body = fedmsg_body(TOPIC, {"user": user, "seq": seq}, msg_id=msg_id, i=self.count + 1)
        if timestamp is not None:
            body = body.replace(b'"timestamp":', b'"timestamp":%s,"_t":'
                                % json.dumps(timestamp).encode(), 1)
        with self.lock:
            self.sent[msg_id] = (user, seq)
            self.count += 1
        self.pub.send(TOPIC, body)
        return msg_id

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def analyze(out_path, sent):
    seen = {}
    last = {}
    reordered = 0
    for rec in read_jsonl(out_path):
        body = rec["body"]
        msg_id = body["msg_id"]
        seen[msg_id] = seen.get(msg_id, 0) + 1
        if seen[msg_id] > 1:
            continue
        user, seq = body["msg"]["user"], body["msg"]["seq"]
        if seq < last.get(user, 0):
            reordered += 1
        last[user] = max(last.get(user, 0), seq)
    return {
        "sent": len(sent),
        "processed": sum(1 for m in seen if m in sent),
        "lost": sum(1 for m in sent if m not in seen),
        "duplicated": sum(c - 1 for c in seen.values() if c > 1),
        "reordered": reordered,
        "unknown": sum(1 for m in seen if m not in sent),
    }


def wait_processed(path, sent, timeout=30, quiet=1.0):
    """Until the shared output holds every sent msg_id (or stops growing
    for `quiet` seconds past the point where it should have)."""
    deadline = time.monotonic() + scaled(timeout)
    size, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now = os.path.getsize(path) if os.path.exists(path) else 0
        if now != size:
            size, since = now, time.monotonic()
        r = analyze(path, sent)
        if r["lost"] == 0 and time.monotonic() - since > 0.3:
            return r
        if time.monotonic() - since > scaled(quiet) * 3:
            return r
        time.sleep(0.2)
    return analyze(path, sent)


def report(name, r, extra=""):
    log("%s: sent %d, processed %d, lost %d, duplicated %d, reordered %d%s"
        % (name, r["sent"], r["processed"], r["lost"], r["duplicated"], r["reordered"], extra))
