"""test_operator_kit.py - what an operator installs around the hub.

The generated man pages describe every command and every option of each
command's --help, every key of the INI file and every exported function; the
bash completion (generated too) offers them; the example config (every option
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
MAN_DIR = os.path.join(os.environ.get("HS_BUILD_DIR", "build"), "man")
GENDOCS = os.path.join(SOURCE, "scripts", "gendocs.py")
PROSE = os.path.join(SOURCE, "docs", "man", "sections.roff")
COMPLETION = os.path.join(os.environ.get("HS_BUILD_DIR", "build"), "bash-completion",
                          "hashspace")
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


def man_page(name, section):
    return os.path.join(MAN_DIR, "man%d" % section, "%s.%d" % (name, section))


class ManPages(unittest.TestCase):
    """The pages the build generated (scripts/gendocs.py) and installs."""

    def read(self, name, section):
        with open(man_page(name, section)) as f:
            return f.read()

    def test_every_command_has_a_page_with_every_option(self):
        cmds = commands()
        self.assertIn("hub", cmds)
        main = self.read("hashspace", 1)
        for cmd in cmds:
            self.assertIn(".BR hashspace\\-%s (1)" % cmd, main, "hashspace(1) lacks %s" % cmd)
            page = self.read("hashspace-" + cmd, 1)
            self.assertIn(".SH NAME\nhashspace\\-%s \\- " % cmd, page)
            if cmd in hubtest.BENCH_COMMANDS and not hubtest.has_benchmarks():
                continue  # built without them: the page says so, with no options
            options_part = page.split("\n.SH OPTIONS\n", 1)[1].split("\n.SH ", 1)[0]
            for opt in options(cmd):
                roff = "\\fB%s\\fR" % opt.replace("-", "\\-")
                self.assertIn(roff, options_part, "%s %s is not in its man page" % (cmd, opt))

    def test_conf_page_has_every_key(self):
        page = self.read("hashspace.conf", 5)
        hub_part = page.split('.SH "HUB SECTION"', 1)[1].split("\n.SH ", 1)[0]
        for opt in options("hub") - {"--help", "--config", "--check-config"}:
            self.assertRegex(hub_part, r"\\fB%s\\fR = " % re.escape(opt[2:].replace("-", "_")),
                             "[hub] %s is not in hashspace.conf(5)" % opt)
        # The keys of a [consumer NAME] section, as --check-config prints them.
        with tempfile.TemporaryDirectory() as tmp:
            ini = os.path.join(tmp, "c.ini")
            with open(ini, "w") as f:
                f.write("[hub]\nself = a\nmembers = a\nconnect = tcp://127.0.0.1:1\n"
                        "[consumer x]\nkind = file\narg = x.jsonl\n")
            out = run("hub", "--check-config", ini, cwd=tmp)
            self.assertEqual(out.returncode, 0, out.stderr)
        section = out.stdout.split("[consumer x]\n", 1)[1]
        keys = re.findall(r"^([a-z_]+) = ", section, re.M)
        self.assertIn("queue", keys)
        consumer_part = page.split('.SH "CONSUMER SECTIONS"', 1)[1].split("\n.SH ", 1)[0]
        for key in keys:
            self.assertRegex(consumer_part, r"\\fB%s\\fR = " % re.escape(key),
                             "[consumer] %s is not in hashspace.conf(5)" % key)

    def test_library_page_has_every_exported_function(self):
        page = self.read("libhashspace", 3)
        headers = os.path.join(SOURCE, "include", "hashspace")
        names = set()
        for h in os.listdir(headers):
            with open(os.path.join(headers, h)) as f:
                names |= set(re.findall(r"HS_EXTERN[^;(]*?\b(hs_\w+)\(", f.read(), re.S))
        self.assertIn("hs_view_new", names)
        for name in names:
            self.assertIn("%s(" % name.replace("-", "\\-"), page, "%s is not in libhashspace(3)"
                          % name)

    def test_pages_are_what_the_generator_makes_now(self):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["/usr/bin/python3", GENDOCS, "man", HS_BIN, tmp], check=True)
            made = sorted(os.path.relpath(os.path.join(d, f), tmp)
                          for d, _, files in os.walk(tmp) for f in files)
            built = sorted(os.path.relpath(os.path.join(d, f), MAN_DIR)
                           for d, _, files in os.walk(MAN_DIR) for f in files)
            self.assertEqual(made, built)
            for rel in made:
                self.assertEqual(read(os.path.join(tmp, rel)), read(os.path.join(MAN_DIR, rel)),
                                 "%s is stale: rebuild" % rel)

    def test_prose_for_a_page_that_does_not_exist_is_refused(self):
        # A section of the prose file for a page the command no longer has
        # would be lost silently; the generator says so instead.
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, HS_MAN_PROSE=os.path.join(tmp, "prose.roff"))
            with open(PROSE) as f, open(env["HS_MAN_PROSE"], "w") as out:
                out.write(f.read() + '.\\" @@ hashspace-nosuch DESCRIPTION\nText.\n')
            out = subprocess.run(["/usr/bin/python3", GENDOCS, "man", HS_BIN, tmp], env=env,
                                 capture_output=True, text=True)
            self.assertNotEqual(out.returncode, 0)
            self.assertIn("hashspace-nosuch DESCRIPTION", out.stderr)

    @unittest.skipUnless(shutil.which("man"), "man is not installed")
    def test_man_renders_without_warnings(self):
        pages = [man_page("hashspace", 1), man_page("hashspace.conf", 5),
                 man_page("libhashspace", 3)]
        pages += [man_page("hashspace-" + c, 1) for c in commands()]
        for path in pages:
            out = subprocess.run(["man", "--warnings", "-l", path], capture_output=True,
                                 text=True, env=dict(os.environ, MANWIDTH="80"))
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(out.stderr, "", path)
        out = subprocess.run(["man", "-l", man_page("hashspace-hub", 1)], capture_output=True,
                             text=True, env=dict(os.environ, MANWIDTH="80"))
        self.assertIn("--check-config FILE", out.stdout)


class Completion(unittest.TestCase):
    def complete(self, *words):
        script = 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _hashspace; ' \
                 'printf "%s\\n" "${COMPREPLY[@]}"'
        out = subprocess.run(["bash", "-c", script, "bash", COMPLETION, HS_BIN] + list(words),
                             capture_output=True, text=True, check=True)
        return sorted(w for w in out.stdout.split("\n") if w)

    def test_commands_and_options_complete(self):
        self.assertEqual(self.complete(""),
                         sorted(commands() + ["help", "--help", "--version"]))
        self.assertEqual(self.complete("ro"), ["route"])
        self.assertEqual(self.complete("help", ""), sorted(commands()))
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
