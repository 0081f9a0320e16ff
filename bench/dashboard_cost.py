#!/usr/bin/python3
"""dashboard_cost.py - what the dashboard costs: the page's weight (bytes of
every file it loads, and of one poll), and a hub's CPU time over --seconds
with and without the page open in headless chromium (the threads'
schedstat run time; the hub idle, two consumers, so the difference is the page's
polling: /status and /metrics every second).

    bench/dashboard_cost.py --bin build/hashspace [--seconds 30]
"""
import argparse
import os
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))


def cpu_seconds(pid):
    """CPU time of every thread of pid: /proc/PID/task/*/schedstat (ns; the
    10 ms ticks of /proc/PID/stat are too coarse for a few ms). A thread that
    ended in between is not counted: the hub's threads live as long as it."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total / 1e9


def size(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return len(r.read())


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", default="build/hashspace")
    p.add_argument("--seconds", type=float, default=30)
    args = p.parse_args()
    os.environ["HS_BIN"] = os.path.abspath(args.bin)
    import hubtest
    import browser
    work = tempfile.mkdtemp(prefix="hs-dashcost-")
    pub = hubtest.Publisher()
    hub = hubtest.Hub(["--connect", pub.endpoint, "--self", "a", "--members", "a,b,c",
                       "--metrics", "127.0.0.1:%d" % hubtest.free_port(),
                       "--consumer", "archive=file:%s/a.jsonl" % work,
                       "--consumer", "other=file:%s/b.jsonl" % work], "a", work)
    base = hub.metrics_url.rsplit("/", 1)[0]
    files = ["/", "/dashboard.js", "/dashboard.css", "/vendor/uplot/uPlot.iife.min.js",
             "/vendor/uplot/uPlot.min.css"]
    weights = {f: size(base + f) for f in files}
    poll = {f: size(base + f) for f in ("/status", "/metrics")}
    view = size(base + "/view")
    t0 = time.perf_counter()
    for _ in range(20):
        size(base + "/view")
    view_ms = (time.perf_counter() - t0) / 20 * 1000
    print("page: %d bytes in %d files (%s)" % (sum(weights.values()), len(weights),
          ", ".join("%s %d" % (f, n) for f, n in weights.items())))
    print("one poll: %d bytes (%s); /view %d bytes, %.1f ms a request (once per epoch)"
          % (sum(poll.values()), ", ".join("%s %d" % kv for kv in poll.items()), view, view_ms))
    time.sleep(1)
    c0 = cpu_seconds(hub.proc.pid)
    time.sleep(args.seconds)
    idle = cpu_seconds(hub.proc.pid) - c0
    b = browser.Browser(work)
    b.goto(base + "/")
    time.sleep(3)
    c0 = cpu_seconds(hub.proc.pid)
    polls0 = b.eval("+document.body.dataset.polls")
    time.sleep(args.seconds)
    opened = cpu_seconds(hub.proc.pid) - c0
    polls = b.eval("+document.body.dataset.polls") - polls0
    b.close()
    print("hub CPU over %.0f s: without the page %.3f s (%.3f%%), with it open %.3f s (%.3f%%); "
          "%d polls, %.2f ms of hub CPU a poll"
          % (args.seconds, idle, 100 * idle / args.seconds, opened, 100 * opened / args.seconds,
             polls, 1000 * (opened - idle) / max(polls, 1)))
    hub.stop()
    pub.close()
    hubtest.cleanup()


if __name__ == "__main__":
    main()
