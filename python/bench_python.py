#!/usr/bin/python3
"""Speed of "is this message mine?" in Python: the pure-Python classic
(md5 + json.dumps) against hashspace.Consumer, per message and in batches.

    HASHSPACE_LIB=build/libhashspace.so /usr/bin/python3 python/bench_python.py

Prints a Markdown table (docs/python.md). Every row decides the same
messages for consumer 1 of 4; times are the best of --repeat runs, the rows
taking turns within each run.
"""

import argparse
import hashlib
import json
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hashspace  # noqa: E402


def fedmsg_messages(count):
    """fedmsg-shaped bodies (about 400 bytes of JSON each)."""
    out = []
    for k in range(count):
        out.append({
            "i": k,
            "msg_id": "2026-0c1f8a3e-%08x" % k,
            "timestamp": 1760000000.0 + k * 0.125,
            "topic": "org.fedoraproject.prod.buildsys.tag",
            "username": "apache",
            "msg": {
                "build_id": 2000000 + k,
                "name": "python-pkg%d" % (k % 500),
                "version": "1.%d.%d" % (k % 7, k % 13),
                "release": "1.fc40",
                "tag": "f40-updates-candidate",
                "owner": "user-%d" % (k % 997),
                "instance": "primary",
                "user": "user-%d" % (k % 997),
            },
        })
    return out


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("-n", type=int, default=4, help="consumers (default 4)")
    args = ap.parse_args()
    n, i = args.n, 1 % args.n
    msgs = fedmsg_messages(args.messages)
    bodies = [json.dumps(m, sort_keys=True).encode() for m in msgs]  # as fedmsg sends them
    md5, dumps = hashlib.md5, json.dumps

    classic = hashspace.Consumer(i, n, compat="fedmsg")
    fast = hashspace.Consumer(i, n)  # xxh3 + jump
    by_user = hashspace.Consumer(i, n, key="json:/msg/user")

    rows = [
        ("dict", "pure Python: int(md5(json.dumps(msg)).hexdigest(), 16) % n == i",
         lambda: [int(md5(dumps(m).encode()).hexdigest(), 16) % n == i for m in msgs]),
        ("dict", "Consumer(i, n, compat='fedmsg'), per message",
         lambda: [classic.should_I_process_this(m) for m in msgs]),
        ("dict", "Consumer(i, n) (xxh3 + jump), per message",
         lambda: [fast.should_I_process_this(m) for m in msgs]),
        ("dict", "Consumer(i, n) (xxh3 + jump), batch: should_I_process_these(msgs)",
         lambda: fast.should_I_process_these(msgs)),
        ("dict", "Consumer(i, n, key='json:/msg/user'), batch",
         lambda: by_user.should_I_process_these(msgs)),
        ("bytes", "pure Python: int(md5(body).hexdigest(), 16) % n == i",
         lambda: [int(md5(b).hexdigest(), 16) % n == i for b in bodies]),
        ("bytes", "Consumer(i, n, compat='fedmsg'), per message",
         lambda: [classic.should_I_process_this(b) for b in bodies]),
        ("bytes", "Consumer(i, n) (xxh3 + jump), per message",
         lambda: [fast.should_I_process_this(b) for b in bodies]),
        ("bytes", "Consumer(i, n) (xxh3 + jump), batch: should_I_process_these(bodies)",
         lambda: fast.should_I_process_these(bodies)),
    ]

    # Sanity: the compat rows decide exactly as the classic expression.
    _, expect_dict = best(rows[0][2], 1)
    _, expect_bytes = best(rows[5][2], 1)
    assert classic.should_I_process_these(msgs) == expect_dict
    assert classic.should_I_process_these(bodies) == expect_bytes

    # Rows take turns, run after run, so that a change in machine load
    # affects every row alike.
    seconds = [float("inf")] * len(rows)
    mine = [0] * len(rows)
    for _ in range(args.repeat):
        for r, (_, _, fn) in enumerate(rows):
            t, answers = best(fn, 1)
            seconds[r] = min(seconds[r], t)
            mine[r] = sum(answers)
    results = [(kind, label, seconds[r], mine[r]) for r, (kind, label, _) in enumerate(rows)]

    print("%d fedmsg-shaped messages (%d bytes of JSON on average), consumer %d of %d, "
          "best of %d runs; Python %s on %s, library %s" % (
              len(msgs), sum(map(len, bodies)) // len(bodies), i, n, args.repeat,
              platform.python_version(), platform.machine(), hashspace.library_path))
    print()
    print("| message | method | ns/message | messages/s | vs pure Python | mine |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    base = {}
    for kind, label, seconds, mine in results:
        per = seconds / len(msgs)
        base.setdefault(kind, per)
        print("| %s | %s | %.0f | %s | %.2fx | %d |" % (
            kind, label.replace("|", "\\|"), per * 1e9, format(int(1 / per), ","),
            base[kind] / per, mine))


if __name__ == "__main__":
    main()
