"""libhashspace used alone: install the build into a temporary prefix, compile
examples/library/who_owns.c (the example in README) against it with
pkg-config, and check that its answers are those of `hashspace route` for the
same keys."""
import os
import subprocess
import tempfile
import unittest

# The example README shows.
PROGRAM = os.path.join(os.environ.get("HS_SOURCE_DIR", "."), "examples", "library", "who_owns.c")


class StandaloneLink(unittest.TestCase):
    def test_installed_library_links_alone_and_agrees_with_cli(self):
        build = os.environ["HS_BUILD_DIR"]
        with tempfile.TemporaryDirectory() as tmp:
            prefix = os.path.join(tmp, "prefix")
            subprocess.run(["cmake", "--install", build, "--prefix", prefix],
                           check=True, stdout=subprocess.DEVNULL)
            pcdir = os.path.join(prefix, "lib", "pkgconfig")
            env = dict(os.environ, PKG_CONFIG_PATH=pcdir)
            flags = subprocess.run(["pkg-config", "--cflags", "--libs", "hashspace"],
                                   env=env, check=True, capture_output=True,
                                   text=True).stdout.split()
            src = PROGRAM
            exe = os.path.join(tmp, "who_owns")
            # A sanitizer build of the library needs its runtime in the program.
            sanitize = os.environ.get("HS_SANITIZE", "")
            if sanitize:
                flags = ["-fsanitize=" + sanitize] + flags
            # Only libhashspace: no hub, no ZeroMQ, no threads.
            subprocess.run(["cc", "-std=c11", "-Wall", "-Werror", src, "-o", exe] + flags,
                           check=True)
            keys = ["user-%d" % i for i in range(200)]
            run_env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(prefix, "lib"))
            ours = subprocess.run([exe] + keys, env=run_env, check=True,
                                  capture_output=True, text=True).stdout
            cli = subprocess.run([os.environ["HS_BIN"], "route", "--members",
                                  "cache-a,cache-b,cache-c=2"] + keys,
                                 check=True, capture_output=True, text=True).stdout
            self.assertEqual(ours, cli)
            self.assertEqual(len(ours.splitlines()), 200)
            needed = subprocess.run(["readelf", "-d", exe], capture_output=True,
                                    text=True).stdout
            self.assertIn("libhashspace.so", needed)
            self.assertNotIn("libzmq", needed)


if __name__ == "__main__":
    unittest.main()
