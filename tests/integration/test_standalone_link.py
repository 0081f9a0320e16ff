"""libhashspace used alone: install the build into a temporary prefix, compile
a small C program against it with pkg-config, and check that its answers are
those of `hashspace route` for the same keys."""
import os
import subprocess
import tempfile
import unittest

PROGRAM = r"""
#include <hashspace/view.h>
#include <hashspace/error.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    hs_view_member members[] = {{"cache-a", 1}, {"cache-b", 1}, {"cache-c", 2}};
    hs_view *view;
    int rc = hs_view_new(&view, 1, "jump", NULL, NULL, members, 3);
    if (rc != HS_OK) {
        fprintf(stderr, "%s\n", hs_strerror(rc));
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        size_t owner;
        if (hs_view_owner(view, argv[i], strlen(argv[i]), &owner) != HS_OK)
            return 1;
        printf("%s\t%s\n", argv[i], hs_view_member_name(view, owner));
    }
    hs_view_release(view);
    return 0;
}
"""


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
            src = os.path.join(tmp, "who.c")
            exe = os.path.join(tmp, "who")
            with open(src, "w") as f:
                f.write(PROGRAM)
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
