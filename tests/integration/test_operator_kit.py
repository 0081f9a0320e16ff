"""test_operator_kit.py - what an operator installs around the hub.

The man page describes every command and every option of each command's
--help; the bash completion offers them; the example config (every option
shown) is accepted by --check-config; the installed systemd unit names the
installed command and passes `systemd-analyze verify`; under systemd the hub
notifies readiness, stopping and the watchdog over $NOTIFY_SOCKET (and hides
it from its consumers), logs with journal priorities when stderr is the
journal, and answers /healthz.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402

HS_BIN = hubtest.HS_BIN
SOURCE = os.environ.get("HS_SOURCE_DIR", ".")
MAN_PAGE = os.path.join(SOURCE, "docs", "man", "hashspace.1")
COMPLETION = os.path.join(SOURCE, "packaging", "bash-completion", "hashspace")
EXAMPLE_CONFIG = os.path.join(SOURCE, "examples", "config", "hub.ini")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def run(*args, **kw):
    return subprocess.run([HS_BIN] + list(args), capture_output=True, text=True, **kw)


def commands():
    out = run("--help").stdout
    block = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines() if line.strip()]


def options(command):
    """The long options of a command: those in the first column of its --help."""
    found = set()
    for line in run(command, "--help").stdout.splitlines():
        m = re.match(r"^ +(-.*)", line)
        if m:
            found |= set(re.findall(r"--[a-z][a-z0-9-]*", m.group(1).split("  ")[0]))
    return found


class ManPage(unittest.TestCase):
    def test_every_command_and_option_is_described(self):
        with open(MAN_PAGE) as f:
            page = f.read()
        cmds = commands()
        self.assertIn("hub", cmds)
        for cmd in cmds:
            self.assertRegex(page, r'\.SS "%s \\\(em' % cmd, "no section for %s" % cmd)
            section = page.split('.SS "%s ' % cmd, 1)[1].split("\n.S", 1)[0]
            for opt in options(cmd) - {"--help"}:
                roff = opt.replace("-", "\\-")
                self.assertIn(roff, section, "%s %s is not in its man page section" % (cmd, opt))

    @unittest.skipUnless(shutil.which("man"), "man is not installed")
    def test_man_renders_without_warnings(self):
        out = subprocess.run(["man", "--warnings", "-l", MAN_PAGE], capture_output=True,
                             text=True, env=dict(os.environ, MANWIDTH="80"))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stderr, "")
        self.assertIn("--check-config FILE", out.stdout)


class Completion(unittest.TestCase):
    def complete(self, *words):
        script = 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _hashspace; ' \
                 'printf "%s\\n" "${COMPREPLY[@]}"'
        out = subprocess.run(["bash", "-c", script, "bash", COMPLETION, HS_BIN] + list(words),
                             capture_output=True, text=True, check=True)
        return sorted(w for w in out.stdout.split("\n") if w)

    def test_commands_and_options_complete(self):
        self.assertEqual(self.complete(""), sorted(commands() + ["--help", "--version"]))
        self.assertEqual(self.complete("ro"), ["route"])
        for cmd in commands():
            self.assertEqual(self.complete(cmd, "--"), sorted(options(cmd)), cmd)
        self.assertEqual(self.complete("hub", "--log-level", "w"), ["warn"])
        self.assertIn("jumpback", self.complete("route", "--placement", "j"))


class ExampleConfig(unittest.TestCase):
    def test_example_config_is_accepted(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = run("hub", "--check-config", EXAMPLE_CONFIG, cwd=tmp)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn("[consumer archive]", out.stdout)

    def test_every_option_is_shown_and_the_commented_ones_parse(self):
        with open(EXAMPLE_CONFIG) as f:
            text = f.read()
        hub_part, consumers = text.split("\n[consumer ", 1)
        keys = set(re.findall(r"^;?([a-z_]+) =", hub_part, re.M))
        for opt in options("hub") - {"--help", "--config", "--check-config", "--consumer"}:
            self.assertIn(opt[2:].replace("-", "_"), keys, "%s is not in hub.ini" % opt)
        # Every commented-out [hub] option, uncommented, is accepted too.
        uncommented = re.sub(r"^;([a-z_]+ =)", r"\1", hub_part, flags=re.M)
        # bind and connect together are fine; siphash needs its key (a key
        # given twice is an error, so the example's hash line is replaced).
        uncommented = re.sub(r"^hash = .*$", "hash = siphash", uncommented, flags=re.M)
        # coordinator replaces members (both are an error).
        uncommented = re.sub(r"^members = .*\n", "", uncommented, flags=re.M)
        uncommented += "\n[consumer " + consumers
        with tempfile.TemporaryDirectory() as tmp:
            # The keys and the token are files of this host: made here.
            public, secret = hubtest.keygen(tmp, "hub-a.key")
            os.mkdir(os.path.join(tmp, "allow"))
            token = os.path.join(tmp, "token")
            with open(token, "w") as f:
                f.write("t0ken\n")
            os.chmod(token, 0o600)
            for key, value in (("curve_secret_key", secret), ("curve_server_key", public),
                               ("curve_allow", os.path.join(tmp, "allow")),
                               ("push_server_key", public), ("metrics_auth", "bearer:" + token)):
                uncommented, n = re.subn(r"^%s = .*$" % key, "%s = %s" % (key, value),
                                         uncommented, flags=re.M)
                self.assertEqual(n, 1, key)
            path = os.path.join(tmp, "all.ini")
            with open(path, "w") as f:
                f.write(uncommented)
            out = run("hub", "--check-config", path, cwd=tmp)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn("hash = siphash", out.stdout)


class InstalledUnit(unittest.TestCase):
    @unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze is not installed")
    def test_installed_unit_names_the_installed_command_and_verifies(self):
        with tempfile.TemporaryDirectory() as tmp:
            prefix = os.path.join(tmp, "prefix")
            subprocess.run(["cmake", "--install", os.environ["HS_BUILD_DIR"], "--prefix", prefix],
                           check=True, stdout=subprocess.DEVNULL)
            unit = os.path.join(prefix, "lib", "systemd", "system", "hashspace-hub@.service")
            with open(unit) as f:
                text = f.read()
            self.assertIn("\nExecStart=%s/bin/hashspace hub --config /etc/hashspace/%%i.ini\n"
                          % prefix, text)
            self.assertIn("\nType=notify\n", text)
            self.assertNotIn("/usr/local", text)
            # Documentation=man:hashspace(1): the installed man page.
            env = dict(os.environ, MANPATH=os.path.join(prefix, "share", "man"))
            out = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True,
                                 text=True, env=env)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            # A dedicated user, and a sandbox that rates "OK" or better.
            self.assertIn("\nUser=hashspace\n", text)
            self.assertNotIn("DynamicUser", text)
            sysusers = os.path.join(prefix, "lib", "sysusers.d", "hashspace.conf")
            self.assertIn("u hashspace ", read(sysusers).decode())
            out = subprocess.run(["systemd-analyze", "security", "--offline=yes", unit],
                                 capture_output=True, text=True)
            if "--offline" in out.stderr:  # a systemd older than 252
                return
            last = out.stdout.strip().splitlines()[-1]
            self.assertRegex(last, r"exposure level for .*: [0-9.]+ (SAFE|OK)\b", last)


def hub_args(tmp, metrics_port):
    return ["hub", "--connect", "tcp://127.0.0.1:%d" % hubtest.free_port(), "--self", "hub-a",
            "--members", "hub-a,hub-b", "--metrics", "127.0.0.1:%d" % metrics_port,
            "--dead-letter", "none",
            "--consumer", "env@exec:/usr/bin/python3 -c \"import os, sys; "
            "open('env.txt', 'w').write(os.environ.get('NOTIFY_SOCKET', 'unset')); "
            "[print('ok', flush=True) for _ in sys.stdin]\""]


class Systemd(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hs-systemd-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def notify_socket(self, abstract):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        if abstract:
            name = "@hashspace-test-%d-%d" % (os.getpid(), time.monotonic_ns())
            sock.bind("\0" + name[1:])
        else:
            name = os.path.join(self.tmp, "notify")
            sock.bind(name)
        sock.settimeout(hubtest.scaled(10))
        return sock, name

    def start(self, env, stderr):
        port = hubtest.free_port()
        proc = subprocess.Popen([HS_BIN] + hub_args(self.tmp, port), cwd=self.tmp,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=stderr, env=env)
        hubtest._procs.append(proc)
        return proc, port

    def check_notify(self, abstract):
        sock, name = self.notify_socket(abstract)
        env = dict(os.environ, NOTIFY_SOCKET=name, WATCHDOG_USEC="200000")
        env.pop("WATCHDOG_PID", None)
        with open(os.path.join(self.tmp, "hub.log"), "wb") as log:
            proc, port = self.start(env, log)
        ready = sock.recv(4096).decode()
        self.assertTrue(ready.startswith("READY=1\nSTATUS=hub hub-a: view epoch 1, 2 members"),
                        ready)
        # Ready means the consumers run: the exec child is up, without the socket.
        hubtest.wait_until(lambda: os.path.exists(os.path.join(self.tmp, "env.txt")), 10,
                           "the exec consumer to start")
        with open(os.path.join(self.tmp, "env.txt")) as f:
            self.assertEqual(f.read(), "unset")
        with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port,
                                    timeout=hubtest.scaled(5)) as r:
            self.assertEqual((r.status, r.read()), (200, b"ok\n"))
        pings = 0
        deadline = time.monotonic() + hubtest.scaled(5)
        while pings < 3 and time.monotonic() < deadline:
            self.assertEqual(sock.recv(4096), b"WATCHDOG=1")
            pings += 1
        self.assertEqual(pings, 3)
        proc.send_signal(signal.SIGTERM)
        while True:
            msg = sock.recv(4096).decode()
            if msg != "WATCHDOG=1":
                break
        self.assertEqual(msg, "STOPPING=1\nSTATUS=draining")
        self.assertEqual(proc.wait(timeout=hubtest.scaled(30)), 0)

    def test_hub_notifies_ready_watchdog_and_stopping(self):
        self.check_notify(abstract=False)

    def test_abstract_notify_socket(self):
        self.check_notify(abstract=True)

    def test_watchdog_of_another_process_is_not_fed(self):
        sock, name = self.notify_socket(False)
        env = dict(os.environ, NOTIFY_SOCKET=name, WATCHDOG_USEC="100000", WATCHDOG_PID="1")
        proc, port = self.start(env, subprocess.DEVNULL)
        self.assertTrue(sock.recv(4096).startswith(b"READY=1\n"))
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(sock.recv(4096), b"STOPPING=1\nSTATUS=draining")
        self.assertEqual(proc.wait(timeout=hubtest.scaled(30)), 0)

    def run_logged(self, journal_stream_of_log, extra=()):
        """Run a hub with stderr to a file and JOURNAL_STREAM naming that file
        (or another one); return its exit status and its log lines."""
        path = os.path.join(self.tmp, "stderr.log")
        with open(path, "wb") as log:
            st = os.fstat(log.fileno()) if journal_stream_of_log else os.stat(self.tmp)
            env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
            port = hubtest.free_port()
            proc = subprocess.Popen([HS_BIN] + hub_args(self.tmp, port) + list(extra),
                                    cwd=self.tmp, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=log, env=env)
            hubtest._procs.append(proc)
            if not extra:
                hubtest.wait_until(lambda: b"starting" in read(path), 10, "the hub to start")
                proc.send_signal(signal.SIGTERM)
            rc = proc.wait(timeout=hubtest.scaled(30))
        with open(path) as f:
            return rc, f.read().splitlines()

    def test_log_lines_carry_journal_priorities(self):
        rc, lines = self.run_logged(True)
        self.assertEqual(rc, 0)
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r"^<[3467]>hub-a (debug|info|warn|error): ")
        self.assertTrue(any(re.match(r"^<6>hub-a info: hub hub-a starting", l) for l in lines))
        rc, lines = self.run_logged(True, ["--consumer", "plugin:/nonexistent/plugin.so"])
        self.assertEqual(rc, 1)
        self.assertTrue(any(l.startswith("<3>hub-a error: ") for l in lines), lines)

    def test_no_priorities_when_stderr_is_not_the_journal(self):
        rc, lines = self.run_logged(False)
        self.assertEqual(rc, 0)
        for line in lines:
            self.assertRegex(line, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z hub-a ")


if __name__ == "__main__":
    unittest.main()
