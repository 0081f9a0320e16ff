"""test_cli.py - the command line behaves as one program: every error line
starts with "hashspace COMMAND: " (getopt's own messages too, and the hub's
config errors), `hashspace help COMMAND` is `COMMAND --help`, and the
renamed options (movement --member-counts, balance --key-file) still take
their old spelling, with a deprecation warning, for one release.
"""
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402

HS_BIN = hubtest.HS_BIN


def run(*args, **kw):
    return subprocess.run([HS_BIN] + list(args), capture_output=True, text=True,
                          timeout=hubtest.scaled(60), **kw)


def commands():
    out = run("--help").stdout
    block = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines() if line.strip()]


def error_lines(stderr):
    """The lines of stderr that are not the usage text printed after them."""
    lines = stderr.split("\n")
    if "usage: hashspace" in stderr:
        lines = lines[:next(i for i, l in enumerate(lines) if l.startswith("usage:"))]
    return [l for l in lines if l]


class ErrorPrefix(unittest.TestCase):
    def check(self, cmd, args, status=2, **kw):
        r = run(cmd, *args, **kw)
        self.assertEqual(r.returncode, status, (cmd, args, r.stderr))
        lines = error_lines(r.stderr)
        self.assertTrue(lines, (cmd, args))
        for line in lines:
            self.assertTrue(line.startswith("hashspace %s: " % cmd), (cmd, args, line))
        return lines

    def test_getopt_messages_carry_the_command(self):
        for cmd in commands():
            if cmd in hubtest.BENCH_COMMANDS and not hubtest.has_benchmarks():
                continue  # a build without them says only that
            lines = self.check(cmd, ["--no-such-option"])
            self.assertEqual(lines, ["hashspace %s: unrecognized option '--no-such-option'" % cmd])

    def test_each_command_s_own_errors(self):
        with tempfile.TemporaryDirectory() as tmp:
            cases = [
                ("route", ["user-1"]),                        # no --members
                ("route", ["--members", "a,a", "k"]),         # duplicate member
                ("route", ["--members", "a", "--placement", "jumpp", "k"]),
                ("hub", ["stray"]),
                ("hub", ["--self", "a"]),                     # no members, bus, consumer
                ("pub", ["--count", "ten"]),
                ("tail", ["--idle-timeout", "x"]),
                ("status", ["nocolon"]),
                ("members", []),
                ("bench", ["nothing"]),
                ("balance", ["--key-file", "x", "--generate", "5"]),
                ("movement", ["--member-counts", "1,2,3,4,5"]),
            ]
            for cmd, args in cases:
                if cmd in hubtest.BENCH_COMMANDS and not hubtest.has_benchmarks():
                    continue  # a build without them says only that
                self.check(cmd, args, cwd=tmp)

    def test_hub_config_errors_carry_the_command(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "bad.ini")
            with open(path, "w") as f:
                f.write("[hub]\nplacement = jumpp\nfrobnicate = 1\n")
            lines = self.check("hub", ["--check-config", path], status=1, cwd=tmp)
            self.assertIn("hashspace hub: %s:2: unknown placement 'jumpp'" % path,
                          "\n".join(lines))
            self.assertEqual(lines[-1], "hashspace hub: %s: %d errors" % (path, len(lines) - 1))
            lines = self.check("hub", ["--config", os.path.join(tmp, "none.ini")], cwd=tmp)
            self.assertIn("cannot read", lines[0])

    def test_unknown_command(self):
        r = run("nosuch")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, "hashspace: unknown command 'nosuch' (try 'hashspace --help')\n")


class Help(unittest.TestCase):
    def test_help_command_is_command_help(self):
        for cmd in commands():
            a, b = run("help", cmd), run(cmd, "--help")
            self.assertEqual((a.returncode, a.stdout), (0, b.stdout), cmd)
            self.assertIn("usage: hashspace %s" % cmd, a.stdout)

    def test_help_alone_and_unknown(self):
        self.assertEqual(run("help").stdout, run("--help").stdout)
        self.assertIn("'hashspace help COMMAND'", run("--help").stdout)
        r = run("help", "nosuch")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr,
                         "hashspace help: unknown command 'nosuch' (try 'hashspace --help')\n")


@unittest.skipUnless(hubtest.has_benchmarks(), "built without benchmarks (-DHS_BUILD_BENCH=OFF)")
class RenamedOptions(unittest.TestCase):
    def same_with_warning(self, cmd, new, old):
        a, b = run(cmd, *new), run(cmd, *old)
        self.assertEqual((a.returncode, b.returncode), (0, 0), b.stderr)
        self.assertEqual(a.stdout, b.stdout)
        self.assertNotIn("deprecated", a.stderr)
        self.assertIn("hashspace %s: warning: --%s is deprecated and goes in the next release: "
                      "use --%s\n" % (cmd, old[0][2:], new[0][2:]), b.stderr)

    def test_movement_member_counts(self):
        self.same_with_warning("movement", ["--member-counts", "10", "--quick", "--csv"],
                               ["--members", "10", "--quick", "--csv"])
        # --members is a list of names everywhere else; here the counts.
        self.assertIn("--member-counts N[,N...]", run("movement", "--help").stdout)

    def test_balance_key_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "keys.txt")
            with open(path, "w") as f:
                f.write("".join("key-%d\n" % i for i in range(500)))
            self.same_with_warning("balance", ["--key-file", path, "--csv"],
                                   ["--keys", path, "--csv"])
        # --keys is a count everywhere else (pub, bench, movement).
        for cmd in ("pub", "bench", "movement"):
            self.assertRegex(run(cmd, "--help").stdout, r"\n  --keys (N|COUNT) ")


if __name__ == "__main__":
    unittest.main()
