"""test_hub_curve.py - CURVE on the bus and a closed metrics endpoint.

Real hubs, real sockets on loopback, keys from `hashspace keygen` (read back
by pyzmq's own certificate loader, so the format is czmq's). A hub that
binds lets in only the publishers of its allowlist directory: an allowed
publisher is received, one with an unknown key and one without CURVE are
refused and counted while the allowed one goes on, and a key added to the
directory gets in after SIGHUP. A hub that connects is a CURVE client of
its publisher; its push consumer is a CURVE client of its PULL peer;
`hashspace tail` and `pub` talk CURVE to each other. A bad key (missing
file, bad Z85, a secret file others can read, no key for a role) stops the
hub at start-up and fails --check-config, naming the file. /metrics and
/status need the token or password when metrics-auth is set, /status hides
consumers' arguments unless status-args is set, and a metrics address other
hosts can reach is warned about.
"""
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import zmq
import zmq.auth

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import HS_BIN, Hub, fedmsg_body, free_port, scaled, wait_until  # noqa: E402

TOPIC = "org.hashspace.curve"


def curve_pub(ctx, endpoint, secret_file=None, server_public=None):
    """A PUB socket that connects to a hub's bind endpoint: a CURVE client
    with the key pair of secret_file when given, else plain."""
    s = ctx.socket(zmq.PUB)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.SNDHWM, 0)
    if secret_file is not None:
        public, secret = zmq.auth.load_certificate(secret_file)
        server, _ = zmq.auth.load_certificate(server_public)
        s.curve_publickey, s.curve_secretkey, s.curve_serverkey = public, secret, server
    s.connect(endpoint)
    return s


def send(sock, user, i):
    body = fedmsg_body(TOPIC, {"user": user, "n": i}, i=i)
    sock.send_multipart([TOPIC.encode(), body])
    return json.loads(body)["msg_id"]


def auth_failures(hub, reason):
    return hub.metric("hashspace_bus_auth_failures_total", reason=reason)


def out_ids(path):
    return [rec["body"]["msg_id"] for rec in hubtest.read_jsonl(path)]


class CurveBus(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hs-curve-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.ctx = zmq.Context()
        self.addCleanup(self.ctx.term)
        self.allow = os.path.join(self.tmp, "allow")
        os.mkdir(self.allow)
        self.hub_public, self.hub_secret = hubtest.keygen(self.tmp, "hub.key")

    def key(self, name, allowed):
        public, secret = hubtest.keygen(self.tmp, name)
        if allowed:
            shutil.copy(public, self.allow)
        return public, secret

    def bind_hub(self, endpoint, extra=()):
        return Hub(["--bind", endpoint, "--self", "a", "--members", "a", "--key", "json:/msg/user",
                    "--curve-secret-key", self.hub_secret, "--curve-allow", self.allow,
                    "--consumer", "%s=file:out.jsonl" % TOPIC, "--dead-letter", "none"]
                   + list(extra), "curve-bind", self.tmp)

    def test_allowlist_refuses_unknown_and_plain_and_rereads_on_sighup(self):
        _, ok_secret = self.key("ok.key", allowed=True)
        _, unknown_secret = self.key("unknown.key", allowed=False)
        late_public, late_secret = self.key("late.key", allowed=False)
        endpoint = "tcp://127.0.0.1:%d" % free_port()
        hub = self.bind_hub(endpoint)
        ok = curve_pub(self.ctx, endpoint, ok_secret, self.hub_public)
        unknown = curve_pub(self.ctx, endpoint, unknown_secret, self.hub_public)
        plain = curve_pub(self.ctx, endpoint)
        socks = [ok, unknown, plain]
        try:
            # Both are refused and counted. A peer refused once may not try
            # again (libzmq), and a slow (TSan) hub may take its first
            # handshake before its monitor runs: connect afresh every 3 s.
            refused = {"key": unknown_secret, "mechanism": None}
            deadline = time.monotonic() + scaled(20)
            while not all(auth_failures(hub, r) >= 1 for r in refused):
                self.assertLess(time.monotonic(), deadline,
                                "the unknown key and the plain publisher were not refused: %s"
                                % hub.log()[-2000:])
                time.sleep(3 if scaled(1) > 1 else 1)
                for reason, secret in refused.items():
                    if auth_failures(hub, reason) < 1:
                        fresh = curve_pub(self.ctx, endpoint, secret,
                                          self.hub_public if secret else None)
                        socks.append(fresh)
                        if reason == "key":
                            unknown = fresh
                        else:
                            plain = fresh
            # Warm-ups (not the consumer's topic) until the allowed one is in.
            n = 0
            while hub.metric("hashspace_messages_received_total") < 1:
                ok.send_multipart([hubtest.WARMUP_TOPIC, fedmsg_body("w", {"user": "w"}, i=n)])
                n += 1
                time.sleep(0.02)
                self.assertLess(n, scaled(1000), "the allowed publisher never got in")
            sent_ok, sent_other = [], []
            for i in range(300):
                sent_ok.append(send(ok, "user-%d" % i, i + 1))
                sent_other.append(send(unknown, "user-%d" % i, i + 1))
                sent_other.append(send(plain, "user-%d" % i, i + 1))
            out = os.path.join(self.tmp, "out.jsonl")
            wait_until(lambda: len(out_ids(out)) >= len(sent_ok), 20,
                       "the allowed publisher's 300 messages")
            time.sleep(0.3)
            got = out_ids(out)
            self.assertEqual(sorted(got), sorted(sent_ok), "exactly the allowed publisher's")
            self.assertFalse(set(got) & set(sent_other))
            log = hub.log()
            self.assertIn("refused a publisher at 127.0.0.1: its key", log)
            self.assertIn("does not speak CURVE", log)
            status = hub.status()
            self.assertTrue(status["curve"])
            self.assertGreaterEqual(status["bus_auth_failures"]["key"], 1)

            # A key not yet in the directory is refused; after SIGHUP it gets in.
            before = auth_failures(hub, "key")
            late = curve_pub(self.ctx, endpoint, late_secret, self.hub_public)
            socks.append(late)
            wait_until(lambda: auth_failures(hub, "key") > before, 20, "the late key refused")
            late.close()
            shutil.copy(late_public, self.allow)
            hub.proc.send_signal(signal.SIGHUP)
            wait_until(lambda: "curve-allow reread: 2 keys" in hub.log(), 10, "the reread")
            late = curve_pub(self.ctx, endpoint, late_secret, self.hub_public)
            socks.append(late)
            received = hub.metric("hashspace_messages_received_total")
            sent_late = []
            deadline = time.monotonic() + scaled(20)
            while hub.metric("hashspace_messages_received_total") <= received:
                sent_late.append(send(late, "late-%d" % len(sent_late), len(sent_late) + 1))
                time.sleep(0.02)
                self.assertLess(time.monotonic(), deadline, "the newly allowed key never got in")
            wait_until(lambda: set(sent_late) & set(out_ids(out)), 10, "a late message")
        finally:
            for s in socks:
                s.close()
        self.assertEqual(hub.stop(), 0, hub.log()[-2000:])

    def test_connect_client_push_and_tail_over_curve(self):
        # The publisher is the CURVE server, letting in the hub's key only.
        pub_public, pub_secret = hubtest.keygen(self.tmp, "pub.key")
        pub_allow = os.path.join(self.tmp, "pub-allow")
        os.mkdir(pub_allow)
        shutil.copy(self.hub_public, pub_allow)
        pub = hubtest.Publisher(curve_secret=pub_secret, curve_allow=pub_allow)
        self.addCleanup(pub.close)
        # The push peer: a PULL socket, CURVE server, any client key.
        pull_public, pull_secret = hubtest.keygen(self.tmp, "pull.key")
        pull = self.ctx.socket(zmq.PULL)
        self.addCleanup(pull.close, 0)
        public, secret = zmq.auth.load_certificate(pull_secret)
        pull.curve_publickey, pull.curve_secretkey, pull.curve_server = public, secret, True
        pull_ep = "tcp://127.0.0.1:%d" % free_port()
        pull.bind(pull_ep)
        hub = Hub(["--connect", pub.endpoint, "--self", "a", "--members", "a",
                   "--curve-secret-key", self.hub_secret, "--curve-server-key", pub_public,
                   "--consumer", "fwd,push-server-key=%s@%s=push:%s" % (pull_public, TOPIC,
                                                                       pull_ep),
                   "--dead-letter", "none"], "curve-connect", self.tmp)
        # A hub whose key the publisher does not know receives nothing.
        _, stranger_secret = hubtest.keygen(self.tmp, "stranger.key")
        stranger = Hub(["--connect", pub.endpoint, "--self", "a", "--members", "a",
                        "--curve-secret-key", stranger_secret, "--curve-server-key", pub_public,
                        "--consumer", "file:stranger.jsonl", "--dead-letter", "none"],
                       "curve-stranger", self.tmp)
        hubtest.wait_subscribed(pub, [hub])
        sent = [send(pub.sock, "user-%d" % i, i + 1) for i in range(200)]
        got = []
        pull.setsockopt(zmq.RCVTIMEO, int(scaled(10000)))
        while len(got) < len(sent):
            topic, body = pull.recv_multipart()
            got.append(json.loads(body)["msg_id"])
        self.assertEqual(sorted(got), sorted(sent))
        self.assertEqual(stranger.metric("hashspace_messages_received_total"), 0)
        self.assertEqual(hub.stop(), 0, hub.log()[-2000:])
        self.assertEqual(stranger.stop(), 0, stranger.log()[-2000:])

        # tail and pub: pub binds as the CURVE server, tail connects.
        ep = "tcp://127.0.0.1:%d" % free_port()
        tail = subprocess.Popen([HS_BIN, "tail", "--connect", ep, "--curve-server-key",
                                 pub_public, "--count", "100", "--json", "--idle-timeout", "20"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        plain = subprocess.Popen([HS_BIN, "tail", "--connect", ep, "--idle-timeout", "3"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        hubtest._procs.extend([tail, plain])
        rc = subprocess.run([HS_BIN, "pub", "--bind", ep, "--curve-secret-key", pub_secret,
                             "--count", "100", "--wait-subscribers", "1", "--wait-timeout", "20",
                             "-q"], timeout=scaled(60)).returncode
        self.assertEqual(rc, 0)
        out, err = tail.communicate(timeout=scaled(30))
        self.assertEqual(tail.returncode, 0, err)
        ids = {json.loads(line)["body"]["msg_id"] for line in out.decode().splitlines()}
        self.assertEqual(len(ids), 100)
        out, err = plain.communicate(timeout=scaled(30))
        self.assertEqual(out, b"", "a plain tail got messages from a CURVE publisher")


class BadKeys(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hs-curve-bad-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.public, self.secret = hubtest.keygen(self.tmp, "hub.key")
        os.mkdir(os.path.join(self.tmp, "allow"))

    def hub(self, *args):
        base = ["hub", "--self", "a", "--members", "a", "--consumer", "file:out.jsonl",
                "--dead-letter", "none", "--metrics", "none"]
        return subprocess.run([HS_BIN] + base + list(args), capture_output=True, text=True,
                              cwd=self.tmp, timeout=scaled(30))

    def assert_refused(self, args, *words):
        out = self.hub(*args)
        self.assertEqual(out.returncode, 2, out.stderr)
        for w in words:
            self.assertIn(w, out.stderr)
        # The same through --check-config.
        ini = os.path.join(self.tmp, "hub.ini")
        with open(ini, "w") as f:
            f.write("[hub]\nself = a\nmembers = a\nconsumer = file:out.jsonl\n")
            for k in range(0, len(args), 2):
                f.write("%s = %s\n" % (args[k][2:].replace("-", "_"), args[k + 1]))
        os.chmod(ini, 0o600)
        out = subprocess.run([HS_BIN, "hub", "--check-config", ini], capture_output=True,
                             text=True, cwd=self.tmp)
        self.assertEqual(out.returncode, 1, out.stderr)
        for w in words:
            self.assertIn(w, out.stderr)

    def test_missing_file(self):
        missing = os.path.join(self.tmp, "nope.key_secret")
        self.assert_refused(["--bind", "tcp://127.0.0.1:%d" % free_port(),
                             "--curve-secret-key", missing, "--curve-allow", "allow"],
                            missing, "No such file")

    def test_secret_readable_by_others(self):
        os.chmod(self.secret, 0o644)
        self.assert_refused(["--connect", "tcp://127.0.0.1:%d" % free_port(),
                             "--curve-secret-key", self.secret, "--curve-server-key",
                             self.public], self.secret, "chmod 600")

    def test_bad_z85(self):
        bad = os.path.join(self.tmp, "bad.key")
        with open(bad, "w") as f:
            f.write('curve\n    public-key = "not a key"\n')
        self.assert_refused(["--connect", "tcp://127.0.0.1:%d" % free_port(),
                             "--curve-secret-key", self.secret, "--curve-server-key", bad],
                            bad, "Z85")

    def test_no_plain_fallback(self):
        self.assert_refused(["--bind", "tcp://127.0.0.1:%d" % free_port(),
                             "--curve-secret-key", self.secret], "needs curve-allow")
        self.assert_refused(["--connect", "tcp://127.0.0.1:%d" % free_port(),
                             "--curve-secret-key", self.secret], "needs curve-server-key")
        self.assert_refused(["--connect", "tcp://127.0.0.1:%d" % free_port(),
                             "--curve-server-key", self.public], "needs curve-secret-key")

    def test_secret_certificate_in_allowlist(self):
        shutil.copy(self.secret, os.path.join(self.tmp, "allow"))
        self.assert_refused(["--bind", "tcp://127.0.0.1:%d" % free_port(),
                             "--curve-secret-key", self.secret, "--curve-allow", "allow"],
                            "a secret certificate in the allowlist")

    def test_keygen_refuses_to_overwrite_and_sets_modes(self):
        self.assertEqual(os.stat(self.public).st_mode & 0o777, 0o644)
        self.assertEqual(os.stat(self.secret).st_mode & 0o777, 0o600)
        out = subprocess.run([HS_BIN, "keygen", "--out", os.path.join(self.tmp, "hub.key")],
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 1)
        self.assertIn("exists", out.stderr)
        public, secret = zmq.auth.load_certificate(self.secret)
        self.assertEqual(zmq.auth.load_certificate(self.public), (public, None))
        self.assertEqual(zmq.curve_public(secret), public)


class MetricsExposure(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hs-webauth-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def secret_file(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text + "\n")
        os.chmod(path, 0o600)
        return path

    def hub(self, *extra):
        return Hub(["--connect", "tcp://127.0.0.1:%d" % free_port(), "--self", "a",
                    "--members", "a", "--dead-letter", "none",
                    "--consumer", "exec:/bin/cat --secret-arg"] + list(extra), "web", self.tmp)

    def get(self, url, header=None):
        req = urllib.request.Request(url)
        if header:
            req.add_header("Authorization", header)
        try:
            with urllib.request.urlopen(req, timeout=scaled(5)) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def test_bearer_token(self):
        token = self.secret_file("token", "s3cret-token")
        hub = self.hub("--metrics-auth", "bearer:%s" % token)
        self.assertEqual(self.get(hub.metrics_url)[0], 401)
        self.assertEqual(self.get(hub.status_url, "Bearer wrong")[0], 401)
        code, text = self.get(hub.metrics_url, "Bearer s3cret-token")
        self.assertEqual(code, 200)
        self.assertIn("hashspace_view_epoch", text)
        health = hub.metrics_url.replace("/metrics", "/healthz")
        self.assertEqual(self.get(health), (200, "ok\n"))
        # hashspace status: refused without --auth, let in with it
        out = self.status(hub)
        self.assertEqual(out.returncode, 1)
        self.assertIn("wants credentials (its --metrics-auth): give them with --auth", out.stderr)
        out = self.status(hub, "--auth", "bearer:%s" % token)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["self"], "a")
        wrong = self.secret_file("wrong", "not-the-token")
        out = self.status(hub, "--auth", "bearer:%s" % wrong)
        self.assertEqual(out.returncode, 1)
        self.assertIn("the credentials of --auth were not accepted", out.stderr)
        os.chmod(wrong, 0o644)
        out = self.status(hub, "--auth", "bearer:%s" % wrong)
        self.assertEqual(out.returncode, 2)
        self.assertIn("chmod 600", out.stderr)
        # hashspace dashboard: the hub's entry in /cluster is its status with
        # --auth, an error saying what is missing without
        self.assertIn("wants credentials", self.dashboard_entry(hub)["error"])
        entry = self.dashboard_entry(hub, "--auth", "bearer:%s" % token)
        self.assertNotIn("error", entry)
        self.assertEqual(entry["status"]["self"], "a")
        self.assertEqual(hub.stop(), 0)

    def dashboard_entry(self, hub, *args):
        """The hub's entry in the /cluster JSON of a `hashspace dashboard`
        polling it, with args, once it has polled."""
        port = free_port()
        addr = hub.metrics_url.split("//")[1].split("/")[0]
        log_path = os.path.join(self.tmp, "dashboard-%d.log" % port)
        with open(log_path, "wb") as out:
            proc = subprocess.Popen([HS_BIN, "dashboard", "--listen", "127.0.0.1:%d" % port]
                                    + list(args) + [addr], stdout=out, stderr=subprocess.STDOUT)
        try:
            def entry():
                try:
                    with urllib.request.urlopen("http://127.0.0.1:%d/cluster" % port,
                                                timeout=scaled(5)) as r:
                        hubs = json.loads(r.read().decode()).get("hubs") or []
                except (OSError, ValueError):
                    return None
                return hubs[0] if hubs else None
            return wait_until(entry, 15, "the dashboard's first round")
        finally:
            proc.terminate()
            proc.wait(timeout=scaled(10))

    def test_basic_auth(self):
        creds = self.secret_file("basic", "prom:pa55")
        hub = self.hub("--metrics-auth", "basic:%s" % creds)
        self.assertEqual(self.get(hub.status_url)[0], 401)
        bad = "Basic " + base64.b64encode(b"prom:nope").decode()
        self.assertEqual(self.get(hub.status_url, bad)[0], 401)
        good = "Basic " + base64.b64encode(b"prom:pa55").decode()
        self.assertEqual(self.get(hub.status_url, good)[0], 200)
        out = self.status(hub, "--auth", "basic:%s" % creds)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["self"], "a")
        nope = self.secret_file("nope", "prom:nope")
        self.assertEqual(self.status(hub, "--auth", "basic:%s" % nope).returncode, 1)
        self.assertEqual(hub.stop(), 0)

    def status(self, hub, *args):
        """`hashspace status --json` of the hub, with args."""
        addr = hub.metrics_url.split("//")[1].split("/")[0]
        return subprocess.run([HS_BIN, "status", "--json"] + list(args) + [addr],
                              capture_output=True, text=True, cwd=self.tmp, timeout=scaled(20))

    def test_status_hides_arguments_unless_asked(self):
        hub = self.hub()
        status = hub.status()
        self.assertNotIn("arg", status["consumers"][0])
        self.assertNotIn("--secret-arg", json.dumps(status))
        self.assertEqual(hub.stop(), 0)
        hub = self.hub("--status-args", "yes")
        self.assertEqual(hub.status()["consumers"][0]["arg"], "/bin/cat --secret-arg")
        self.assertEqual(hub.stop(), 0)

    def test_non_loopback_address_is_warned_about(self):
        hub = self.hub("--metrics", "0.0.0.0:0")
        self.assertIn("which other hosts may reach, with no metrics-auth", hub.log())
        self.assertEqual(hub.stop(), 0)
        hub = self.hub()
        self.assertNotIn("other hosts may reach", hub.log())
        self.assertEqual(hub.stop(), 0)

    def test_token_file_readable_by_others_is_refused(self):
        token = self.secret_file("token", "t")
        os.chmod(token, 0o640)
        out = subprocess.run([HS_BIN, "hub", "--connect", "tcp://127.0.0.1:1", "--self", "a",
                              "--members", "a", "--consumer", "file:x", "--metrics-auth",
                              "bearer:%s" % token], capture_output=True, text=True, cwd=self.tmp)
        self.assertEqual(out.returncode, 2)
        self.assertIn(token, out.stderr)
        self.assertIn("chmod 600", out.stderr)


if __name__ == "__main__":
    try:
        unittest.main()
    finally:
        hubtest.cleanup()
