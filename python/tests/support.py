"""What the tests share: import hashspace from this source tree, and find the
`hashspace` command (HS_BIN, else next to the library being tested)."""

import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.dirname(HERE)
SOURCE_DIR = os.path.dirname(PYTHON_DIR)
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

import hashspace  # noqa: E402


def cli_path():
    path = os.environ.get("HS_BIN")
    if not path:
        path = os.path.join(os.path.dirname(os.path.abspath(hashspace.library_path)), "hashspace")
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def need_cli(test):
    """Skip a test (or class) when the hashspace command cannot be found."""
    return unittest.skipIf(cli_path() is None, "no hashspace command: set HS_BIN")(test)


def route(keys, members, placement=None, hash=None, self_name=None, secret_hex=None):
    """Run `hashspace route` with keys on stdin; returns [(key, owner[, yes/no])]."""
    cmd = [cli_path(), "route", "--members", ",".join(members)]
    if placement:
        cmd += ["--placement", placement]
    if hash:
        cmd += ["--hash", hash]
    if self_name:
        cmd += ["--self", self_name]
    if secret_hex:
        cmd += ["--hash-key", secret_hex]
    out = subprocess.run(cmd, input="".join(k + "\n" for k in keys), capture_output=True,
                         text=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (" ".join(cmd), out.returncode, out.stderr))
    rows = [line.split("\t") for line in out.stdout.splitlines()]
    if len(rows) != len(keys):
        raise AssertionError("%s: %d lines for %d keys" % (" ".join(cmd), len(rows), len(keys)))
    return rows


def keys_for(hash_name, n, prefix="key-"):
    """n distinct keys valid for hash_name (the int hash wants decimal uint64)."""
    if hash_name == "int":
        return [str(i * 2654435761 % (1 << 64)) for i in range(n)]
    return ["%s%d" % (prefix, i) for i in range(n)]
