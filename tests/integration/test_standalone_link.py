"""libhashspace used alone, and an installed tree: install the build into a
temporary prefix, check that the installed command runs from there, compile
examples/library/who_owns.c (the example in README) and a hs_version() caller
against the installed library with pkg-config, and check that the shared
library exports exactly the functions include/hashspace/ declares HS_EXTERN."""
import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

SOURCE = os.environ.get("HS_SOURCE_DIR", ".")
# The example README shows.
PROGRAM = os.path.join(SOURCE, "examples", "library", "who_owns.c")

VERSION_PROGRAM = r"""
#include <stdio.h>
#include <string.h>
#include <hashspace/version.h>
int main(void)
{
    printf("%s %s\n", hs_version(), HS_VERSION_STRING);
    return strcmp(hs_version(), HS_VERSION_STRING) != 0;
}
"""


def clean_env(**extra):
    """The environment without a library path: what a user's shell has."""
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    env.update(extra)
    return env


class StandaloneLink(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hs-install-")
        cls.prefix = os.path.join(cls.tmp, "prefix")
        subprocess.run(["cmake", "--install", os.environ["HS_BUILD_DIR"], "--prefix", cls.prefix],
                       check=True, stdout=subprocess.DEVNULL)
        cls.libdir = os.path.join(cls.prefix, "lib")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def compile_against_install(self, src, exe):
        env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(self.libdir, "pkgconfig"))
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "hashspace"],
                               env=env, check=True, capture_output=True, text=True).stdout.split()
        # A sanitizer build of the library needs its runtime in the program.
        sanitize = os.environ.get("HS_SANITIZE", "")
        if sanitize:
            flags = ["-fsanitize=" + sanitize] + flags
        # Only libhashspace: no hub, no ZeroMQ, no threads.
        subprocess.run(["cc", "-std=c11", "-Wall", "-Werror", src, "-o", exe] + flags, check=True)
        needed = subprocess.run(["readelf", "-d", exe], capture_output=True, text=True).stdout
        self.assertIn("libhashspace.so", needed)
        self.assertNotIn("libzmq", needed)

    def test_installed_command_runs_from_its_prefix(self):
        exe = os.path.join(self.prefix, "bin", "hashspace")
        out = subprocess.run([exe, "--version"], env=clean_env(), capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, "hashspace 0.1.0\n")
        # It found the installed library, not the build tree's.
        dynamic = subprocess.run(["readelf", "-d", exe], capture_output=True, text=True).stdout
        self.assertIn("[$ORIGIN/../lib]", dynamic)
        self.assertNotIn(os.environ["HS_BUILD_DIR"], dynamic)
        moved = os.path.join(self.tmp, "moved")
        shutil.copytree(self.prefix, moved, symlinks=True)
        out = subprocess.run([os.path.join(moved, "bin", "hashspace"), "route", "--members",
                              "a,b", "k"], env=clean_env(), capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        shutil.rmtree(moved)

    def test_installed_library_links_alone_and_agrees_with_cli(self):
        installed = os.path.join(self.prefix, "share", "doc", "hashspace", "examples", "who_owns.c")
        with open(installed) as a, open(PROGRAM) as b:
            self.assertEqual(a.read(), b.read())
        exe = os.path.join(self.tmp, "who_owns")
        self.compile_against_install(installed, exe)
        keys = ["user-%d" % i for i in range(200)]
        # A program of one's own in a private prefix finds the library through
        # LD_LIBRARY_PATH (README's install section), in /usr/local after ldconfig.
        ours = subprocess.run([exe] + keys, env=clean_env(LD_LIBRARY_PATH=self.libdir),
                              check=True, capture_output=True, text=True).stdout
        cli = subprocess.run([os.environ["HS_BIN"], "route", "--members",
                              "cache-a,cache-b,cache-c=2"] + keys,
                             check=True, capture_output=True, text=True).stdout
        self.assertEqual(ours, cli)
        self.assertEqual(len(ours.splitlines()), 200)

    def test_hs_version_is_in_the_library(self):
        src = os.path.join(self.tmp, "version.c")
        with open(src, "w") as f:
            f.write(VERSION_PROGRAM)
        exe = os.path.join(self.tmp, "version")
        self.compile_against_install(src, exe)
        out = subprocess.run([exe], env=clean_env(LD_LIBRARY_PATH=self.libdir),
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(out.stdout, "0.1.0 0.1.0\n")

    def test_library_exports_exactly_the_declared_api(self):
        lib = os.path.join(self.libdir, "libhashspace.so.0")
        nm = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                            capture_output=True, text=True).stdout
        exported = {line.split()[-1] for line in nm.splitlines() if line.strip()}
        internal = sorted(s for s in exported if s.startswith("hs__"))
        self.assertEqual(internal, [], "internal symbols exported")
        declared = set()
        for header in glob.glob(os.path.join(SOURCE, "include", "hashspace", "*.h")):
            with open(header) as f:
                text = f.read()
            declared |= set(re.findall(r"HS_EXTERN[^;(]*?\b(hs_\w+)\s*\(", text))
        self.assertIn("hs_version", declared)
        self.assertEqual(sorted(exported - declared), [], "exported but not declared HS_EXTERN")
        self.assertEqual(sorted(declared - exported), [], "declared HS_EXTERN but not exported")


if __name__ == "__main__":
    unittest.main()
