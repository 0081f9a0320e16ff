#!/usr/bin/python3
"""demo_report.py - the measuring half of `make demo` (scripts/demo.sh).

    demo_report.py run --bin HASHSPACE --bus EP --count N --rate R --out DIR NAME=HOST:PORT...
        Wait for every hub's /metrics, run `hashspace pub` (it waits until all
        hubs have subscribed), sample every hub's /metrics every 0.2 s during
        and after publishing until every hub has received everything and every
        consumer's backlog is back to zero; write DIR/samples.json.

    demo_report.py report --count N --out DIR NAME=HOST:PORT...
        Count what the consumers wrote (DIR/NAME.archive.jsonl from the file
        consumer, DIR/NAME.badges.jsonl from the slow exec consumer) by
        msg_id and print who took what, duplicates and losses; then each
        consumer's peak backlog and catch-up time from the samples.
        Exits 1 if a message was lost or handled twice.

Standard library only (Debian's /usr/bin/python3).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

_sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$')
_label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"')


def scrape(addr, timeout=2.0):
    """{(name, frozenset(labels)): value} from http://addr/metrics."""
    with urllib.request.urlopen("http://%s/metrics" % addr, timeout=timeout) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        m = _sample.match(line.strip())
        if not m or line.startswith("#"):
            continue
        labels = frozenset(_label.findall(m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def total(metrics, name):
    return sum(v for (n, _), v in metrics.items() if n == name)


def per_consumer(metrics, name):
    out = {}
    for (n, labels), v in metrics.items():
        if n == name:
            c = dict(labels).get("consumer")
            if c is not None:
                out[c] = out.get(c, 0) + v
    return out


def hubs_arg(items):
    hubs = []
    for item in items:
        name, _, addr = item.partition("=")
        hubs.append((name, addr))
    return hubs


def run(args):
    hubs = hubs_arg(args.hubs)
    deadline = time.monotonic() + 20
    for name, addr in hubs:
        while True:
            try:
                scrape(addr)
                break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit("demo: %s does not answer on %s (see its log)" % (name, addr))
                time.sleep(0.1)
    pub = subprocess.Popen([args.bin, "pub", "--bind", args.bus, "--count", str(args.count),
                            "--rate", str(args.rate), "--keys", "5000", "--dist", "zipf",
                            "--zipf-s", "0.8", "--wait-subscribers", str(len(hubs)),
                            "--topic", "org.fedoraproject.demo.badges.award,"
                                       "org.fedoraproject.demo.git.push",
                            "--quiet"])
    print("demo: publishing %d messages at %s msg/s (keys: msg.user, Zipf over 5000 users)"
          % (args.count, args.rate), flush=True)
    samples = []
    t0 = time.monotonic()
    publish_end = None
    last_line = 0
    limit = t0 + args.timeout
    while time.monotonic() < limit:
        now = time.monotonic()
        if publish_end is None and pub.poll() is not None:
            publish_end = now - t0
            if pub.returncode != 0:
                sys.exit("demo: the publisher failed (exit %d)" % pub.returncode)
            print("demo: publishing done after %.1f s; waiting for the backlogs to drain"
                  % publish_end, flush=True)
        row = {"t": now - t0, "hubs": {}}
        for name, addr in hubs:
            try:
                m = scrape(addr)
            except OSError:
                continue
            row["hubs"][name] = {
                "received": total(m, "hashspace_messages_received_total"),
                "claimed": total(m, "hashspace_messages_claimed_total"),
                "backlog": per_consumer(m, "hashspace_consumer_backlog"),
                "processed": per_consumer(m, "hashspace_consumer_processed_total"),
            }
        samples.append(row)
        if now - last_line >= 5:
            last_line = now
            backlog = {n: int(sum(h["backlog"].values())) for n, h in row["hubs"].items()}
            print("demo: t=%5.1f s  received %s  backlog %s" % (
                row["t"], [int(h["received"]) for h in row["hubs"].values()], backlog),
                flush=True)
        if publish_end is not None and len(row["hubs"]) == len(hubs) and all(
                h["received"] >= args.count and not any(h["backlog"].values())
                and sum(h["processed"].values()) >= h["claimed"] * len(h["backlog"])
                for h in row["hubs"].values()):
            break
        time.sleep(0.2)
    else:
        pub.kill()
        print("demo: gave up waiting after %.0f s" % args.timeout, file=sys.stderr)
    with open(os.path.join(args.out, "samples.json"), "w") as f:
        json.dump({"publish_end": publish_end, "count": args.count, "samples": samples}, f)


def count_outputs(path):
    """msg_ids and the set of keys (msg.user) in a consumer's JSON-lines
    output."""
    ids, users = [], set()
    if not os.path.exists(path):
        return ids, users
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            body = rec.get("body") or {}
            ids.append(body.get("msg_id") or rec.get("msg_id"))
            msg = body.get("msg")
            if isinstance(msg, dict) and "user" in msg:
                users.add(msg["user"])
    return ids, users


def report(args):
    hubs = [name for name, _ in hubs_arg(args.hubs)]
    status = 0
    print()
    for consumer, suffix in (("archive", "archive"), ("badges", "badges")):
        print("Who took which messages (%s consumer, counted by msg_id in %s/*.%s.jsonl):"
              % (consumer, os.path.basename(args.out.rstrip("/")), suffix))
        seen = {}
        owners = {}  # user -> the hubs that took some of its messages
        rows = []
        for hub in hubs:
            ids, users = count_outputs(os.path.join(args.out, "%s.%s.jsonl" % (hub, suffix)))
            for i in ids:
                seen[i] = seen.get(i, 0) + 1
            for u in users:
                owners.setdefault(u, set()).add(hub)
            rows.append((hub, len(ids), len(users)))
        # Users are counted where the output holds the bodies (the archive).
        with_users = bool(owners)
        print("  %-8s %9s %7s%s" % ("hub", "messages", "share", " %7s" % "users" if with_users else ""))
        for hub, n, u in rows:
            print("  %-8s %9d %6.1f%%%s" % (hub, n, 100.0 * n / max(args.count, 1),
                                          " %7d" % u if with_users else ""))
        lines = sum(n for _, n, _ in rows)
        duplicates = sum(c - 1 for c in seen.values() if c > 1)
        lost = args.count - len(seen)
        split = sum(1 for h in owners.values() if len(h) > 1)
        print("  %-8s %9d %6.1f%%%s   sent %d, duplicates %d, lost %d" % (
            "total", lines, 100.0 * lines / max(args.count, 1),
            " %7d" % len(owners) if with_users else "", args.count, duplicates, lost))
        if with_users:
            print("  users whose messages went to more than one hub: %d" % split)
        if duplicates or lost or split:
            status = 1
        print()
    print("The key is msg.user: each user's messages all go to the hub that owns the user,\n"
          "so the shares follow the users, and the publisher's users are Zipf-distributed\n"
          "(a few send much more than the rest): the shares of messages are less even\n"
          "than the shares of users.")
    print()

    with open(os.path.join(args.out, "samples.json")) as f:
        data = json.load(f)
    samples, publish_end = data["samples"], data["publish_end"]
    print("Backlogs (sampled every 0.2 s; publishing ended at t=%.1f s):" % (publish_end or 0))
    print("  %-8s %-9s %12s %14s %18s" % ("hub", "consumer", "peak backlog", "peak at", "catch-up time"))
    for hub in hubs:
        consumers = sorted({c for s in samples for c in s["hubs"].get(hub, {}).get("backlog", {})})
        for c in consumers:
            series = [(s["t"], s["hubs"][hub]["backlog"].get(c, 0))
                      for s in samples if hub in s["hubs"]]
            peak_t, peak = max(series, key=lambda p: p[1]) if series else (0, 0)
            # Catch-up: from the end of publishing to the first sample from which
            # the backlog stays at zero.
            caught = None
            for t, b in series:
                if b == 0 and caught is None and publish_end is not None and t >= publish_end:
                    caught = t
                elif b != 0:
                    caught = None
            if publish_end is None or caught is None:
                catch = "never"
            elif peak == 0 or all(b == 0 for t, b in series if t >= publish_end):
                catch = "0 s (kept up)"
            else:
                catch = "%.1f s" % (caught - publish_end)
            print("  %-8s %-9s %12d %12.1f s %18s" % (hub, c, peak, peak_t, catch))
    return status


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--bin", required=True)
    r.add_argument("--bus", required=True)
    r.add_argument("--count", type=int, required=True)
    r.add_argument("--rate", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--timeout", type=float, default=150)
    r.add_argument("hubs", nargs="+", help="NAME=HOST:PORT of each hub's metrics")
    q = sub.add_parser("report")
    q.add_argument("--count", type=int, required=True)
    q.add_argument("--out", required=True)
    q.add_argument("hubs", nargs="+")
    args = p.parse_args()
    if args.cmd == "run":
        run(args)
        return 0
    return report(args)


if __name__ == "__main__":
    sys.exit(main())
