"""test_hub_config.py - `hashspace hub --check-config` validates an INI file
(exit 0 and the effective configuration, or exit 1 and FILE:LINE: errors),
and a hub started from --config runs what the file says, command-line
options overriding it."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import HS_BIN, Hub, Publisher, fedmsg_body, log, read_jsonl, wait_until  # noqa: E402

GOOD = """; a hub of three
[hub]
self = hub-b
members = hub-a,hub-b
members = hub-c
key = json:/msg/user
connect = tcp://127.0.0.1:9940
subscribe = org.
drain_timeout = 2.5

[consumer badges]
glob = org.*.badges.*
kind = exec
arg = /usr/bin/python3 consumer.py
arg = --sleep 0.1
workers = 2
on_full = drop

[consumer archive]
kind = file
arg = archive.jsonl
"""

BAD = """[hub]
self = hub-z
members = hub-a,hub-b
placement = jumpp
key = json:msg
max_body = lots
frobnicate = 1

[consumer x]
kind = mail
queue = -3
[elsewhere]
a = b
this line is broken
"""


def check(path):
    p = subprocess.run([HS_BIN, "hub", "--check-config", path], capture_output=True,
                       text=True, timeout=hubtest.scaled(30))
    return p.returncode, p.stdout, p.stderr


def main():
    work = tempfile.mkdtemp(prefix="hs-config-")
    good = os.path.join(work, "good.ini")
    bad = os.path.join(work, "bad.ini")
    with open(good, "w") as f:
        f.write(GOOD)
    with open(bad, "w") as f:
        f.write(BAD)

    rc, out, err = check(good)
    assert rc == 0, err
    assert "members = hub-a,hub-b,hub-c" in out, out
    assert "[consumer badges]" in out and "on_full = drop" in out and "workers = 2" in out
    assert "arg = /usr/bin/python3 consumer.py --sleep 0.1" in out
    # What it prints loads back the same.
    again = os.path.join(work, "again.ini")
    with open(again, "w") as f:
        f.write(out)
    rc2, out2, err2 = check(again)
    assert rc2 == 0 and out2 == out, err2

    rc, out, err = check(bad)
    log(err)
    assert rc == 1
    for expected in ["bad.ini:4: unknown placement 'jumpp'",
                     "bad.ini:5: key: a JSON pointer starts with '/'",
                     "bad.ini:6: max-body: 'lots' is not a size",
                     "bad.ini:7: unknown option 'frobnicate'",
                     "bad.ini:10: consumer 'x': unknown kind mail",
                     "bad.ini:11: queue: '-3' is not a size",
                     "bad.ini:13: unknown section [elsewhere]",
                     "bad.ini:14: syntax error",
                     "no bus: give at least one connect or bind endpoint"]:
        assert expected in err, "missing %r in:\n%s" % (expected, err)

    # What start-up would refuse, --check-config refuses (issue 11 items 8, 11).
    probe = os.path.join(work, "probe.ini")
    with open(probe, "w") as f:
        f.write("[hub]\nself = a\nmembers = a\nself = a\nconnect = nonsense://x\n"
                "bind = tcp://127.0.0.1:9940\nrcv-hwm = 2G\ndrain-timeout = 1e11\n"
                "[consumer e]\nkind = exec\narg = no-such-program-hs --x\n"
                "[consumer p]\nkind = push\narg = tcp://127.0.0.1:9\ntimeout = 3000000\n"
                "[consumer e]\nworkers = 2\n")
    rc, out, err = check(probe)
    log(err)
    assert rc == 1 and out == ""
    for expected in ["probe.ini:4: self is already set on line 2",
                     "probe.ini:5: connect: 'nonsense://x' is not an endpoint",
                     "probe.ini:7: rcv-hwm: '2G' is not a number from 0 to 2147483647",
                     "probe.ini:8: drain-timeout: '1e11' is not a duration",
                     "probe.ini:15: timeout: '3000000' is not a duration",
                     "probe.ini:17: [consumer e] again",
                     "probe.ini:10: consumer 'e': exec: cannot run 'no-such-program-hs'"]:
        assert expected in err, "missing %r in:\n%s" % (expected, err)
    p = subprocess.run([HS_BIN, "hub", "--check-config", "/dev/zero"], capture_output=True,
                       text=True, timeout=hubtest.scaled(10))
    assert p.returncode == 1 and "/dev/zero: not a config file: a device" in p.stderr, p.stderr
    # At start-up the same option is refused before anything runs.
    p = subprocess.run([HS_BIN, "hub", "--rcv-hwm", "2G", "--self", "a", "--members", "a",
                        "--bind", "tcp://127.0.0.1:%d" % hubtest.free_port(),
                        "--consumer", "file:" + os.path.join(work, "never.jsonl")],
                       capture_output=True, text=True, timeout=hubtest.scaled(10))
    assert p.returncode == 2 and "--rcv-hwm: '2G' is not a number" in p.stderr, p.stderr

    # A hub run from a file; the command line adds the bus and overrides self.
    pub = Publisher()
    run_ini = os.path.join(work, "run.ini")
    with open(run_ini, "w") as f:
        f.write("[hub]\nself = nobody\nmembers = solo\nkey = json:/msg/user\n"
                "[consumer archive]\nglob = org.*\nkind = file\narg = archive.jsonl\n")
    hub = Hub(["--config", run_ini, "--self", "solo", "--connect", pub.endpoint], "run", work)
    try:
        hubtest.wait_subscribed(pub, [hub])
        for i in range(50):
            pub.send("org.cfg", fedmsg_body("org.cfg", {"user": "u%d" % i}, i=i + 1))
        wait_until(lambda: hub.metric("hashspace_consumer_processed_total", consumer="archive",
                                      result="ok") >= 50, 20, "the archive consumer")
        assert hub.stop() == 0
        assert len(read_jsonl(os.path.join(work, "archive.jsonl"))) == 50
        log("ok: check-config and a hub from --config")
    finally:
        hub.kill()
        pub.close()
        hubtest.cleanup()


if __name__ == "__main__":
    main()
