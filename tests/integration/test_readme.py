"""test_readme.py - README.md's commands run as written, on the built tree.

Every code block of README.md follows a marker, an HTML comment that GitHub
does not show, saying what the test does with it:

    <!-- readme: run -->           run each command; `$ ` lines are commands,
                                   the lines after one its exact output
    <!-- readme: run shape -->     the same, but the output is compared with
                                   its numbers (counts, rates, times) wildcarded
    <!-- readme: background -->    start the command, wait for the port it
                                   listens on, stop it (SIGTERM, exit 0) after
                                   the README's last block
    <!-- readme: installed -->     run after `cmake --install` into a scratch
                                   prefix (PATH, PKG_CONFIG_PATH and
                                   LD_LIBRARY_PATH point there)
    <!-- readme: usage -->         a synopsis: every command and option in it
                                   must be in that command's --help
    <!-- readme: skip REASON -->   not run, for the reason given

A block without a marker fails the test. The commands run with bash in a
scratch directory whose build/, examples/, python/ ... are the built tree
and the sources, with a time limit each; the loopback ports 99NN of the
README are replaced by free ones (the same port, the same free one). Under
a sanitizer build the test is skipped: it checks the documentation, and the
other integration tests run the same commands under the sanitizers.
"""
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402

SOURCE = os.environ.get("HS_SOURCE_DIR", ".")
BUILD = os.environ.get("HS_BUILD_DIR", os.path.join(SOURCE, "build"))
README = os.path.join(SOURCE, "README.md")
COMMAND_TIMEOUT = 120
KINDS = ("run", "background", "installed", "usage", "skip")


def blocks(text):
    """[(marker, first line number, [lines])] for every code block: indented
    (4 spaces) or fenced."""
    lines = text.split("\n")
    out, marker, i = [], None, 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^<!-- readme: (.*?) -->$", line)
        if m:
            marker = m.group(1)
        elif line.startswith("```"):
            j = i + 1
            while not lines[j].startswith("```"):
                j += 1
            out.append((marker, i + 1, lines[i + 1:j]))
            marker, i = None, j
        elif line.startswith("    ") and (i == 0 or not lines[i - 1].strip()):
            j = i
            while j < len(lines) and (lines[j].startswith("    ") or not lines[j].strip()
                                      and j + 1 < len(lines) and lines[j + 1].startswith("    ")):
                j += 1
            out.append((marker, i + 1, [l[4:] for l in lines[i:j]]))
            marker, i = None, j - 1
        elif line.strip() and not line.startswith("<!--"):
            marker = None
        i += 1
    return out


def commands(lines):
    """[(command, expected output lines or None)]: `$ ` lines with their
    output, or every line a command when there is no `$`."""
    dollar = any(l.startswith("$ ") for l in lines)
    out, cur = [], None
    for line in lines:
        if cur is not None and cur[0].endswith("\\"):
            cur[0] += "\n" + line
        elif dollar and line.startswith("$ "):
            cur = [line[2:], []]
            out.append(cur)
        elif dollar:
            cur[1].append(line)
        elif line.strip():
            cur = [line, None]
            out.append(cur)
    return [(c, o) for c, o in out]


def options(help_text):
    """The long options of a --help: those in the first column of its option
    lines ("  --burst N --pause S  spiky traffic")."""
    found = set()
    for line in help_text.splitlines():
        m = re.match(r"^ +(-.*)", line)
        if m:
            found |= set(re.findall(r"--[a-z][a-z0-9-]*", m.group(1).split("  ")[0]))
    return found


def shape(line):
    """A line with its numbers (and number-like cells: 5800, 1.84s, 52us, -)
    replaced, and its spacing collapsed."""
    line = re.sub(r"(?<![\w.])-?\d[\d.,]*(?:[kMG]?B|[kMG]|%|us|ms|s|ns)?(?![\w.])", "N", line)
    line = re.sub(r"(?<=\s)-(?=\s|$)", "N", line)
    return " ".join(line.split())


class Readme(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.environ.get("HS_SANITIZE"):
            raise unittest.SkipTest("README commands are checked in the plain build")
        with open(README) as f:
            cls.blocks = blocks(f.read())

    def test_every_block_is_marked(self):
        self.assertGreater(len(self.blocks), 10)
        for marker, line, _ in self.blocks:
            self.assertIsNotNone(marker, "README.md:%d: a code block without a marker" % line)
            kind = marker.split()[0]
            self.assertIn(kind, KINDS, "README.md:%d: unknown marker %r" % (line, marker))
            if kind == "skip":
                self.assertGreater(len(marker.split()), 2, "README.md:%d: skip says why" % line)

    def test_synopses_match_the_commands(self):
        helps = {}
        n = 0
        for marker, line, lines in self.blocks:
            if marker != "usage":
                continue
            for cmd_line in lines:
                words = cmd_line.split()
                if not words or words[0] != "hashspace":
                    continue
                cmd = words[1]
                if cmd not in helps:
                    r = subprocess.run([hubtest.HS_BIN, cmd, "--help"], capture_output=True,
                                       text=True)
                    self.assertEqual(r.returncode, 0, "README.md:%d: no command %s" % (line, cmd))
                    helps[cmd] = options(r.stdout)
                for opt in re.findall(r"--[a-z][a-z0-9-]*", cmd_line.split("#")[0]):
                    self.assertIn(opt, helps[cmd], "README.md:%d: hashspace %s has no option %s"
                                  % (line, cmd, opt))
                    n += 1
        self.assertGreater(n, 20)

    def test_commands_run(self):
        with tempfile.TemporaryDirectory(prefix="hs-readme-") as tmp:
            for name in ("examples", "python", "docs", "scripts", "packaging"):
                os.symlink(os.path.join(os.path.abspath(SOURCE), name), os.path.join(tmp, name))
            os.symlink(os.path.abspath(BUILD), os.path.join(tmp, "build"))
            self.tmp, self.ports, self.background = tmp, {}, []
            env = dict(os.environ)
            for var in ("HASHSPACE_LIB", "PYTHONPATH"):
                env.pop(var, None)
            ran = 0
            try:
                for marker, line, lines in self.blocks:
                    kind = marker.split()[0]
                    if kind in ("run", "background", "installed"):
                        block_env = self.installed_env(env) if kind == "installed" else env
                        for cmd, want in commands(lines):
                            self.run_one(kind, "shape" in marker.split(), line, cmd, want,
                                         block_env)
                            ran += 1
            finally:
                self.stop_background()
            self.assertGreaterEqual(ran, 6)
            # The tour's hub wrote its archive.
            self.assertTrue(os.path.getsize(os.path.join(tmp, "archive.jsonl")) > 0)

    def installed_env(self, env):
        prefix = os.path.join(self.tmp, "prefix")
        if not os.path.isdir(prefix):
            subprocess.run(["cmake", "--install", BUILD, "--prefix", prefix], check=True,
                           stdout=subprocess.DEVNULL)
        libdir = next(os.path.join(prefix, d) for d in ("lib", "lib64")
                      if os.path.isdir(os.path.join(prefix, d, "pkgconfig")))
        return dict(env, PATH=os.path.join(prefix, "bin") + os.pathsep + env["PATH"],
                    PKG_CONFIG_PATH=os.path.join(libdir, "pkgconfig"), LD_LIBRARY_PATH=libdir)

    def substitute(self, cmd):
        def port(m):
            if m.group(1) not in self.ports:
                self.ports[m.group(1)] = str(hubtest.free_port())
            return "127.0.0.1:" + self.ports[m.group(1)]
        return re.sub(r"127\.0\.0\.1:(99\d\d)\b", port, cmd)

    def run_one(self, kind, by_shape, line, cmd, want, env):
        where = "README.md:%d: %s" % (line, cmd.split("\n")[0])
        script = self.substitute(cmd)
        if kind == "background":
            log = open(os.path.join(self.tmp, "background-%d.log" % line), "wb")
            proc = subprocess.Popen(["bash", "-c", "exec " + script], cwd=self.tmp, env=env,
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=log)
            hubtest._procs.append(proc)
            self.background.append((where, proc, log))
            ports = re.findall(r"127\.0\.0\.1:(\d+)", script)
            metrics = re.search(r"--metrics 127\.0\.0\.1:(\d+)", script)
            listen = int(metrics.group(1)) if metrics else int(ports[-1])
            hubtest.wait_until(lambda: proc.poll() is not None or self.listening(listen), 15,
                               "%s to listen on %d" % (where, listen))
            self.assertIsNone(proc.poll(), "%s exited: %s" % (where, self.read(log.name)))
            return
        r = subprocess.run(["bash", "-c", script], cwd=self.tmp, env=env, capture_output=True,
                           text=True, timeout=hubtest.scaled(COMMAND_TIMEOUT),
                           stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 0, "%s failed (%d):\n%s%s"
                         % (where, r.returncode, r.stdout, r.stderr))
        if want is None:
            return
        got = (r.stdout + r.stderr).rstrip("\n").split("\n") if (r.stdout + r.stderr) else []
        want = [self.substitute(w) for w in want]
        said = "%s: the output differs from README's; it was:\n%s" % (where, "\n".join(got))
        if by_shape:
            self.assertEqual([shape(g) for g in got], [shape(w) for w in want], said)
        else:
            self.assertEqual(got, want, said)

    @staticmethod
    def listening(port):
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    @staticmethod
    def read(path):
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop_background(self):
        for where, proc, log in self.background:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(timeout=hubtest.scaled(60))
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = proc.wait()
            log.close()
            self.assertEqual(rc, 0, "%s: exit status %d at SIGTERM:\n%s"
                             % (where, rc, self.read(log.name)[-3000:]))


class Shape(unittest.TestCase):
    def test_shape_wildcards_numbers_only(self):
        self.assertEqual(shape("  archive          0        0        5800   52us  1.84s  -"),
                         shape("  archive          3     0.5s         12   7.55ms 9s   -"))
        self.assertNotEqual(shape("hub 127.0.0.1:1: view epoch 1, 4 members"),
                            shape("hub 127.0.0.1:1: view epoch 1, 4 hubs"))


if __name__ == "__main__":
    unittest.main()
