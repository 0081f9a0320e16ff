"""test_hub_files.py - the files a hub writes, as an operator handles them.

- Log rotation: while a stream runs, the file: consumer's file and the
  dead-letter file are renamed and the hub gets SIGHUP, twice. The hub keeps
  running (SIGHUP once killed it: exit 129, the queue lost), the next lines
  go to fresh files at the paths, and across all the files every msg_id is
  there exactly once; SIGTERM still drains and exits 0.
- A symbolic link planted at a file: consumer's path stops the start with a
  sentence; one at the dead-letter path is refused and counted as a
  dead-letter failure; the link's target is never created.
- --file-mode (and file_mode in the INI file, printed by --check-config):
  the files get the mode asked for whatever the umask, 0640 by default.
- A dead-letter file that cannot be written (/dev/full) counts its records
  in hashspace_dead_letter_failures_total, not as dead-lettered.
"""
import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import HS_BIN, Hub, Publisher, fedmsg_body, log, read_jsonl, wait_until  # noqa: E402

COUNT = 4000
BAD_EVERY = 40  # every 40th message has no key: a dead letter
RATE = 2000


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def ids_in(paths):
    ids = []
    for p in paths:
        ids += [r["body"]["msg_id"] for r in read_jsonl(p)]
    return ids


def publish(pub, good, bad, sent, stop):
    for n in range(1, COUNT + 1):
        if stop.is_set():
            break
        if n % BAD_EVERY == 0:
            body = fedmsg_body("org.rotate", {"other": n}, i=n)
            bad.append(json.loads(body)["msg_id"])
        else:
            body = fedmsg_body("org.rotate", {"user": "user-%d" % (n % 13), "pad": "p" * 150},
                               i=n)
            good.append(json.loads(body)["msg_id"])
        pub.send("org.rotate", body)
        sent[0] = n
        if n % 20 == 0:
            time.sleep(20.0 / RATE)


def test_rotation(work):
    pub = Publisher()
    out = os.path.join(work, "out.jsonl")
    dead = os.path.join(work, "dead.jsonl")
    stop = threading.Event()
    t = None
    try:
        hub = Hub(["--connect", pub.endpoint, "--self", "a", "--members", "a",
                   "--key", "json:/msg/user", "--dead-letter", "file:dead.jsonl",
                   "--consumer", "rot,workers=2@org.*=file:out.jsonl"], "rotate", work)
        hubtest.wait_subscribed(pub, [hub])
        good, bad, sent = [], [], [0]
        t = threading.Thread(target=publish, args=(pub, good, bad, sent, stop))
        t.start()
        for k in (1, 2):
            wait_until(lambda: sent[0] >= k * COUNT // 3, 30, "the publisher to send")
            wait_until(lambda: os.path.exists(out) and os.path.exists(dead), 10,
                       "both files to exist")
            os.rename(out, "%s.%d" % (out, k))
            os.rename(dead, "%s.%d" % (dead, k))
            hub.proc.send_signal(signal.SIGHUP)
            time.sleep(0.2)
            assert hub.proc.poll() is None, "SIGHUP stopped the hub (exit %s):\n%s" % (
                hub.proc.returncode, hub.log()[-1000:])
        t.join()
        wait_until(lambda: hub.metric("hashspace_messages_received_total") >= COUNT, 30,
                   "the hub to receive every message")
        m = hub.scrape()
        rc = hub.stop()
        assert rc == 0, "exit %s:\n%s" % (rc, hub.log()[-2000:])
        text = hub.log()
        assert text.count("SIGHUP: reopening") == 2, text[-2000:]

        outs = [out + ".1", out + ".2", out]
        deads = [dead + ".1", dead + ".2", dead]
        per_file = [len(read_jsonl(p)) for p in outs]
        per_dead = [len(read_jsonl(p)) for p in deads]
        got = ids_in(outs)
        got_dead = ids_in(deads)
        log("rotation: %d good in %s; %d dead letters in %s" % (len(got), per_file,
                                                                 len(got_dead), per_dead))
        assert all(n > 0 for n in per_file), "a file got no line: %s" % per_file
        assert all(n > 0 for n in per_dead), "a dead-letter file got no record: %s" % per_dead
        assert len(got) == len(set(got)), "a message was written twice"
        assert set(got) == set(good), "%d of %d good messages missing" % (
            len(set(good) - set(got)), len(good))
        assert sorted(got_dead) == sorted(bad), (len(got_dead), len(bad))
        assert m[("hashspace_messages_dead_lettered_total", ())] == len(bad)
        assert m[("hashspace_dead_letter_failures_total", ())] == 0
        for p in outs + deads:
            assert mode_of(p) == 0o640, "%s: mode %o" % (p, mode_of(p))
    finally:
        stop.set()
        if t is not None:
            t.join()
        hubtest.cleanup()
        pub.close()


def test_symlinks(work):
    target = os.path.join(work, "target.jsonl")
    os.symlink(target, os.path.join(work, "planted.jsonl"))
    os.symlink(target, os.path.join(work, "planted-dead.jsonl"))
    pub = Publisher()
    try:
        r = subprocess.run([HS_BIN, "hub", "--connect", pub.endpoint, "--self", "a",
                            "--members", "a", "--metrics", "none",
                            "--consumer", "p@org.*=file:planted.jsonl"], cwd=work,
                           capture_output=True, text=True, timeout=hubtest.scaled(30))
        log("file: consumer on a symlink: exit %d: %s" % (r.returncode, r.stderr.strip()[-300:]))
        assert r.returncode == 1, r.stderr
        assert "consumer 'p': file: planted.jsonl is a symbolic link" in r.stderr, r.stderr

        hub = Hub(["--connect", pub.endpoint, "--self", "a", "--members", "a",
                   "--key", "json:/msg/user", "--dead-letter", "file:planted-dead.jsonl",
                   "--consumer", "org.*=file:out-s.jsonl"], "symlink", work)
        hubtest.wait_subscribed(pub, [hub])
        pub.send("org.x", fedmsg_body("org.x", {"other": 1}))
        wait_until(lambda: hub.metric("hashspace_dead_letter_failures_total") >= 1, 10,
                   "the dead letter to fail")
        assert hub.metric("hashspace_messages_dead_lettered_total") == 0
        assert hub.status()["dead_letter_failures"] == 1
        assert hub.stop() == 0
        assert "planted-dead.jsonl is a symbolic link" in hub.log(), hub.log()[-2000:]
        assert "dead letters not written 1" in hub.log(), hub.log()[-2000:]
        assert not os.path.exists(target), "the link was followed"
    finally:
        hubtest.cleanup()
        pub.close()


def test_modes_and_full_device(work):
    ini = os.path.join(work, "hub.ini")
    with open(ini, "w") as f:
        f.write("[hub]\nself = a\nmembers = a\nconnect = tcp://127.0.0.1:1\nfile_mode = 0600\n"
                "consumer = file:x.jsonl\n")
    r = subprocess.run([HS_BIN, "hub", "--check-config", ini], capture_output=True, text=True)
    assert r.returncode == 0 and "file_mode = 0600\n" in r.stdout, r.stdout + r.stderr
    r = subprocess.run([HS_BIN, "hub", "--check-config", ini, "--file-mode", "0400"],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "file-mode: '0400' is not an octal mode" in r.stderr, r.stderr

    pub = Publisher()
    try:
        old = os.umask(0o022)
        try:
            hub = Hub(["--connect", pub.endpoint, "--self", "a", "--members", "a",
                       "--key", "json:/msg/user", "--file-mode", "0660",
                       "--dead-letter", "file:dead-m.jsonl",
                       "--consumer", "m@org.*=file:out-m.jsonl"], "mode", work)
        finally:
            os.umask(old)
        full = Hub(["--connect", pub.endpoint, "--self", "b", "--members", "b",
                    "--key", "json:/msg/user", "--dead-letter", "file:/dev/full",
                    "--consumer", "org.*=file:out-full.jsonl"], "full-device", work)
        hubtest.wait_subscribed(pub, [hub, full])
        pub.send("org.m", fedmsg_body("org.m", {"user": "u"}))
        for n in range(50):
            pub.send("org.bad", fedmsg_body("org.bad", {"other": n}))
        wait_until(lambda: full.metric("hashspace_dead_letter_failures_total") >= 50, 10,
                   "50 dead-letter failures")
        wait_until(lambda: hub.metric("hashspace_messages_dead_lettered_total") >= 50, 10,
                   "50 dead letters")
        m = full.scrape()
        assert m[("hashspace_messages_dead_lettered_total", ())] == 0, m
        assert full.status()["dead_letter_failures"] == 50
        assert hub.stop() == 0 and full.stop() == 0
        assert mode_of(os.path.join(work, "out-m.jsonl")) == 0o660
        assert mode_of(os.path.join(work, "dead-m.jsonl")) == 0o660
        assert mode_of(os.path.join(work, "out-full.jsonl")) == 0o640
        text = full.log()
        assert "dead-lettered 0, dead letters not written 50" in text, text[-2000:]
        errors = text.count("dead letter: cannot write to /dev/full")
        log("/dev/full dead letters: 50 failures, %d error lines" % errors)
        assert 1 <= errors <= 21, errors
    finally:
        hubtest.cleanup()
        pub.close()


def main():
    work = tempfile.mkdtemp(prefix="hs-files-")
    for name, test in (("rotation", test_rotation), ("symlinks", test_symlinks),
                       ("modes", test_modes_and_full_device)):
        d = os.path.join(work, name)
        os.mkdir(d)
        test(d)


if __name__ == "__main__":
    main()
