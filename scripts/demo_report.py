#!/usr/bin/python3
"""demo_report.py - the running and measuring half of `make demo`
(scripts/demo.sh): dynamic membership, with Redis as the coordinator.

    demo_report.py run --bin HASHSPACE --bus EP --coordinator URL --count N
                       --rate R --out DIR [--hold S] NAME=HOST:PORT...
        Start the first four hubs (the fifth NAME joins later) with
        --coordinator URL --cluster demo, wait until each has the view of
        four in force, run `hashspace pub`, and while it publishes: start
        the fifth hub (a planned join), SIGTERM the second (a planned leave)
        and SIGKILL the third (a crash). Sample every hub's /metrics every
        0.1 s until every message is processed, then SIGTERM the hubs still
        running. Writes DIR/run.json (the events, the samples, the final
        metrics and the exit statuses) and DIR/hub-pids (for demo.sh's
        clean-up).

    demo_report.py report --out DIR
        Count what the hubs' file consumers wrote, by msg_id: each hub's
        DIR/NAME.archive.jsonl (who took what) and DIR/all.jsonl (all hubs
        append to it, so its lines are in the order they finished: the
        per-user order is checked there, from the publisher's sequence
        number `i`). Prints sent, processed, lost, duplicates against the
        possible duplicates the hubs reported, reordered, and how long each
        change took. Exits 1 if a message was lost, if there are more
        duplicates than the hubs reported as possible, or if a user's
        messages were reordered.

Standard library only (Debian's /usr/bin/python3).
"""
import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

_sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$')
_label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"')

CLUSTER = "demo"
# What each sample keeps of a hub's /metrics: (key, metric name).
GAUGES = [
    ("received", "hashspace_messages_received_total"),
    ("claimed", "hashspace_messages_claimed_total"),
    ("epoch", "hashspace_view_epoch"),
    ("members", "hashspace_view_members"),
    ("pending", "hashspace_view_pending"),
    ("newest", "hashspace_view_newest_epoch"),
    ("crashes", "hashspace_crashes_total"),
    ("held", "hashspace_held"),
    ("held_total", "hashspace_held_total"),
    ("hold_seconds", "hashspace_hold_seconds_total"),
    ("replayed", "hashspace_replayed_total"),
    ("taken_over", "hashspace_taken_over_total"),
    ("possible_duplicates", "hashspace_possible_duplicates_total"),
    ("ring_misses", "hashspace_ring_misses_total"),
    ("ring_bytes", "hashspace_ring_bytes"),
    ("fenced", "hashspace_fenced"),
]


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


def redis_ping(url, deadline):
    host, _, port = url.split("://", 1)[1].split("/")[0].partition(":")
    while True:
        try:
            with socket.create_connection((host, int(port or 6379)), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            sys.exit("demo: redis-server does not answer at %s (see redis.log)" % url)
        time.sleep(0.1)


class Demo:
    def __init__(self, args):
        self.args = args
        self.hubs = hubs_arg(args.hubs)
        self.addr = dict(self.hubs)
        self.procs = {}
        self.exits = {}
        self.t0 = time.monotonic()
        self.events = []
        self.samples = []
        self.last = {}  # name -> the latest sample of that hub

    def now(self):
        return time.monotonic() - self.t0

    def event(self, what, **extra):
        e = dict(t=round(self.now(), 3), what=what, **extra)
        self.events.append(e)
        print("demo: t=%5.1f s  %s" % (e["t"], what), flush=True)

    def start_hub(self, name):
        a, out = self.args, self.args.out
        log = open(os.path.join(out, "%s.log" % name), "wb")
        cmd = [a.bin, "hub", "--connect", a.bus, "--coordinator", a.coordinator,
               "--cluster", CLUSTER, "--self", name, "--key", "json:/msg/user",
               "--metrics", self.addr[name], "--queue-size", "100000",
               "--dead-letter", "file:%s/%s.dead-letter.jsonl" % (out, name),
               "--consumer", "all@file:%s/all.jsonl" % out,
               "--consumer", "archive@file:%s/%s.archive.jsonl" % (out, name)]
        self.procs[name] = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log,
                                            stdin=subprocess.DEVNULL)
        with open(os.path.join(out, "hub-pids"), "a") as f:
            f.write("%d\n" % self.procs[name].pid)

    def running(self):
        return [n for n, p in self.procs.items() if p.poll() is None]

    def sample(self):
        row = {"t": round(self.now(), 3), "hubs": {}}
        for name in self.running():
            try:
                m = scrape(self.addr[name], timeout=1.0)
            except OSError:
                continue
            h = {key: total(m, metric) for key, metric in GAUGES}
            h["backlog"] = sum(per_consumer(m, "hashspace_consumer_backlog").values())
            row["hubs"][name] = h
            self.last[name] = h
        self.samples.append(row)
        return row

    def wait(self, pred, timeout, what):
        """Sample every 0.1 s until pred(row) holds; the time it held."""
        limit = time.monotonic() + timeout
        while time.monotonic() < limit:
            row = self.sample()
            if pred(row):
                return row["t"]
            time.sleep(0.1)
        print("demo: gave up waiting %.0f s for %s" % (timeout, what), file=sys.stderr)
        return None

    def view_made(self, names):
        """A predicate: every hub named knows a view newer than the newest
        it knows now (pending or in force)."""
        base = {n: self.last.get(n, {}).get("newest", 0) for n in names}

        def ok(row):
            return all(row["hubs"].get(n, {}).get("newest", 0) > base[n] for n in names)
        return ok

    def view_of(self, names):
        """A predicate: every hub named has a view of exactly these in force."""
        def ok(row):
            return all(n in row["hubs"] and row["hubs"][n]["members"] == len(names)
                       and row["hubs"][n]["pending"] == 0 for n in names)
        return ok


def run(args):
    d = Demo(args)
    names = [n for n, _ in d.hubs]
    first, joiner, leaver, victim = names[:4], names[4], names[1], names[2]
    open(os.path.join(args.out, "hub-pids"), "w").close()
    redis_ping(args.coordinator, time.monotonic() + 10)
    for name in first:
        d.start_hub(name)
    if d.wait(d.view_of(first), 30, "the first view") is None:
        return stop(d, 1)
    d.event("%s have the view of four in force" % ", ".join(first))

    pub = subprocess.Popen([args.bin, "pub", "--bind", args.bus, "--count", str(args.count),
                            "--rate", str(args.rate), "--keys", "5000", "--dist", "zipf",
                            "--zipf-s", "0.8", "--wait-subscribers", str(len(first)),
                            "--topic", "org.fedoraproject.demo.badges.award,"
                                       "org.fedoraproject.demo.git.push",
                            "--quiet"])
    seconds = args.count / float(args.rate)
    d.event("publishing %d messages at %s msg/s for %.0f s (key msg.user, Zipf over 5000 users)"
            % (args.count, args.rate, seconds))
    # The changes, spread over the stream; each is given time to settle
    # before the next.
    t_pub = d.now()
    d.wait(lambda row: d.now() >= t_pub + 0.2 * seconds, seconds, "the join")
    t = d.now()
    d.start_hub(joiner)
    d.event("%s starts (planned join)" % joiner)
    all5 = first + [joiner]
    made = d.wait(d.view_made(first), 30, "the join's view")
    done = d.wait(d.view_of(all5), 30, "the join's view in force")
    d.changes = [{"change": "join of %s" % joiner, "start": t, "made": made, "done": done}]

    d.wait(lambda row: d.now() >= t_pub + 0.45 * seconds, seconds, "the leave")
    rest = [n for n in all5 if n != leaver]
    is_made = d.view_made(rest)
    t = d.now()
    d.procs[leaver].send_signal(signal.SIGTERM)
    d.event("%s gets SIGTERM (planned leave)" % leaver)
    made = d.wait(is_made, 30, "the leave's view")
    done = d.wait(d.view_of(rest), 30, "the leave's view in force")
    d.procs[leaver].wait(timeout=60)
    d.exits[leaver] = d.procs[leaver].returncode
    exited = d.now()
    d.event("%s exited %d" % (leaver, d.exits[leaver]))
    d.changes.append({"change": "leave of %s (SIGTERM)" % leaver, "start": t, "made": made,
                      "done": done, "exited": exited})

    d.wait(lambda row: d.now() >= t_pub + 0.7 * seconds, seconds, "the crash")
    survivors = [n for n in rest if n != victim]
    base = {n: d.last[n]["crashes"] for n in survivors}
    is_made = d.view_made(survivors)
    t = d.now()
    d.procs[victim].send_signal(signal.SIGKILL)
    d.procs[victim].wait()
    d.exits[victim] = "SIGKILL"
    d.event("%s gets SIGKILL (crash)" % victim)
    found = d.wait(lambda row: all(row["hubs"].get(n, {}).get("crashes", 0) > base[n]
                                   for n in survivors), 30, "the survivors to find the crash")
    made = d.wait(is_made, 30, "the crash's view")
    done = d.wait(d.view_of(survivors), 30, "the crash's view in force")
    d.changes.append({"change": "crash of %s (SIGKILL)" % victim, "start": t, "found": found,
                      "made": made, "done": done})
    for c in d.changes:
        parts = ["%s %.2f s" % (k, c[k] - c["start"]) for k in ("found", "made", "done", "exited")
                 if c.get(k) is not None]
        d.event("%s: %s after it started" % (c["change"], ", ".join(parts)))

    d.wait(lambda row: pub.poll() is not None, seconds + 60, "the publisher")
    if pub.returncode != 0:
        print("demo: the publisher failed (exit %d)" % pub.returncode, file=sys.stderr)
    d.event("publishing done; waiting until every message is processed")
    quiet = []

    def drained(row):
        quiet.append(all(h["backlog"] == 0 and h["held"] == 0 for h in row["hubs"].values())
                     and len(row["hubs"]) == len(survivors))
        return len(quiet) >= 10 and all(quiet[-10:])
    d.wait(drained, 60, "the backlogs to drain")
    if args.hold > 0:
        d.event("holding for %.0f s" % args.hold)
        time.sleep(args.hold)
    return stop(d, 0 if pub.returncode == 0 else 1)


def stop(d, status):
    d.final = d.running()
    for name in d.running():
        d.procs[name].send_signal(signal.SIGTERM)
    for name, p in d.procs.items():
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        d.exits.setdefault(name, p.returncode)
    d.event("hubs stopped: " + ", ".join("%s %s" % (n, d.exits[n]) for n in d.procs))
    with open(os.path.join(d.args.out, "run.json"), "w") as f:
        json.dump({"count": d.args.count, "rate": d.args.rate, "events": d.events,
                   "changes": getattr(d, "changes", []), "last": d.last, "exits": d.exits,
                   "hubs": [n for n, _ in d.hubs], "final": d.final, "samples": d.samples}, f)
    bad = [n for n, rc in d.exits.items() if rc not in (0, "SIGKILL")]
    return 1 if bad or status else 0


def read_lines(path):
    """(msg_id, user, i) of each line of a consumer's JSON-lines output."""
    if not os.path.exists(path):
        return
    with open(path) as f:
        for line in f:
            body = json.loads(line).get("body") or {}
            msg = body.get("msg") if isinstance(body.get("msg"), dict) else {}
            yield body.get("msg_id"), msg.get("user"), body.get("i")


def report(args):
    with open(os.path.join(args.out, "run.json")) as f:
        run = json.load(f)
    hubs, count, last = run["hubs"], run["count"], run["last"]
    status = 0
    print()
    print("Who took which messages (counted by msg_id in %s/NAME.archive.jsonl):"
          % os.path.basename(args.out.rstrip("/")))
    print("  %-7s %9s %7s %7s  %s" % ("hub", "messages", "share", "users", "what happened"))
    fate = {hubs[1]: "left (SIGTERM), exit %s" % run["exits"].get(hubs[1]),
            hubs[2]: "SIGKILLed", hubs[4]: "joined mid-stream"}
    for hub in hubs:
        ids = set()
        users = set()
        n = 0
        for msg_id, user, _ in read_lines(os.path.join(args.out, "%s.archive.jsonl" % hub)):
            n += 1
            ids.add(msg_id)
            users.add(user)
        print("  %-7s %9d %6.1f%% %7d  %s" % (hub, n, 100.0 * n / max(count, 1), len(users),
                                              fate.get(hub, "")))
    print()

    seen, last_i, reordered = {}, {}, 0
    for msg_id, user, i in read_lines(os.path.join(args.out, "all.jsonl")):
        seen[msg_id] = seen.get(msg_id, 0) + 1
        if seen[msg_id] > 1:
            continue
        if i is not None and i < last_i.get(user, 0):
            reordered += 1
        last_i[user] = max(last_i.get(user, 0), i or 0)
    processed = len(seen)
    duplicates = sum(c - 1 for c in seen.values() if c > 1)
    lost = count - processed
    possible = sum(h.get("possible_duplicates", 0) for h in last.values())
    replayed = sum(h.get("replayed", 0) for h in last.values())
    taken = sum(h.get("taken_over", 0) for h in last.values())
    misses = sum(h.get("ring_misses", 0) for h in last.values())
    held = sum(h.get("held_total", 0) for h in last.values())
    hold_s = sum(h.get("hold_seconds", 0) for h in last.values())
    print("Every message (all hubs append to %s/all.jsonl):"
          % os.path.basename(args.out.rstrip("/")))
    print("  sent %d, processed %d, lost %d" % (count, processed, lost))
    print("  duplicates %d; possible duplicates reported by the hubs %d" % (duplicates, possible))
    print("  (replayed from rings %d, taken over live %d, ring misses %d)"
          % (replayed, taken, misses))
    print("  per-user order: %s (%d users; messages held for a handover %d, %.2f s each)"
          % ("kept" if reordered == 0 else "%d reordered" % reordered, len(last_i), held,
             hold_s / held if held else 0))
    print()
    print("How long each change took, from the signal or the start (the hubs' /metrics,\n"
          "sampled every 0.1 s; \"in force on all\": every live hub decides by the new view):")
    for c in run["changes"]:
        parts = []
        if c.get("found") is not None:
            parts.append("crash found %.1f s" % (c["found"] - c["start"]))
        if c.get("made") is not None:
            parts.append("view made %.1f s" % (c["made"] - c["start"]))
        if c.get("done") is not None:
            parts.append("in force on all %.1f s" % (c["done"] - c["start"]))
        if c.get("exited") is not None:
            parts.append("exited %.1f s" % (c["exited"] - c["start"]))
        print("  %-25s %s" % (c["change"], ", ".join(parts) or "did not finish"))
    epochs = sorted({int(last[n].get("epoch", 0)) for n in run["final"] if n in last})
    print("  final view epoch %s; heartbeat 1 s, expiry 3 s, lead time 2 s (the defaults)"
          % "/".join(str(e) for e in epochs))
    if lost or misses or duplicates > possible or reordered:
        status = 1
    if any(c.get("done") is None for c in run["changes"]) or len(run["changes"]) < 3:
        status = 1
    print()
    print("demo: %s" % ("OK: nothing lost, every duplicate reported, per-user order kept"
                        if status == 0 else "FAILED (see above and the hubs' logs in %s)"
                        % args.out))
    return status


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--bin", required=True)
    r.add_argument("--bus", required=True)
    r.add_argument("--coordinator", required=True)
    r.add_argument("--count", type=int, required=True)
    r.add_argument("--rate", type=int, required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--hold", type=float, default=0)
    r.add_argument("hubs", nargs=5, help="NAME=HOST:PORT of each hub's metrics")
    q = sub.add_parser("report")
    q.add_argument("--out", required=True)
    args = p.parse_args()
    if args.cmd == "run":
        return run(args)
    return report(args)


if __name__ == "__main__":
    sys.exit(main())
