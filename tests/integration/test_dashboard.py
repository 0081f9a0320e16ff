"""test_dashboard.py - the live dashboard in a real browser (Debian's headless
chromium over the DevTools protocol). A hub of a three-member view runs a
fast and a slow consumer; the page at / on its metrics port must show the
hub's members with their shares of the hash space (those of /view, about a
third each) and the hub's consumers, and the slow consumer's backlog chart
must rise when a burst arrives and fall as it catches up. Then `hashspace
dashboard` shows two hubs (and one that does not answer) side by side with
the cluster's total backlog. Screenshots (1280x800, a phone, dark mode) go
to the build directory (HS_BUILD_DIR).

Skipped (exit 77) without chromium or python3-websocket, unless
HS_REQUIRE_BROWSER=1 (CI), which makes that a failure."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import Hub, Publisher, fedmsg_body, free_port, log, wait_until  # noqa: E402

SOURCE = os.environ.get("HS_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
BUILD = os.environ.get("HS_BUILD_DIR") or os.path.join(SOURCE, "build")
SLOW = os.path.join(SOURCE, "examples", "consumers", "slow_consumer.py")
MEMBERS = ["hub-a", "hub-b", "hub-c"]
BURST = 1500


def skip(reason):
    if os.environ.get("HS_REQUIRE_BROWSER") == "1":
        raise SystemExit("test_dashboard: %s (HS_REQUIRE_BROWSER=1)" % reason)
    print("test_dashboard: SKIPPED: %s (HS_DEPS_BROWSER=1 scripts/deps.sh installs "
          "chromium and python3-websocket)" % reason)
    sys.exit(77)


def consumers_js():
    return ("[...document.querySelectorAll('.consumer')].map(e => ({name: e.dataset.consumer,"
            " backlog: +e.dataset.backlog, max: +e.dataset.backlogMax, points: +e.dataset.points,"
            " charts: e.querySelectorAll('canvas').length}))")


def by_name(rows):
    return {r["name"]: r for r in rows}


def start_hub(pub, name, work, slow_sleep):
    return Hub(["--connect", pub.endpoint, "--self", name, "--members", ",".join(MEMBERS),
                "--key", "json:/msg/user", "--metrics", "127.0.0.1:%d" % free_port(),
                "--drain-timeout", "1",
                "--consumer", "archive@org.*=file:%s/%s-archive.jsonl" % (work, name),
                "--consumer", "badges,queue=100000@org.*=exec:/usr/bin/python3 %s --sleep %s"
                % (SLOW, slow_sleep)], name, work)


def hub_page(browser, hub, shots):
    addr = hub.metrics_url.split("/")[2]
    browser.viewport(1280, 800)
    browser.goto("http://%s/" % addr)
    wait_until(lambda: browser.eval("+(document.body.dataset.polls || 0)") >= 2, 15,
               "the page to poll the hub twice")
    # The members shown are the view's, with /view's shares, and this hub is marked.
    with urllib.request.urlopen("http://%s/view" % addr, timeout=5) as r:
        view = json.loads(r.read())
    shown = browser.eval("[...document.querySelectorAll('.members li[data-member]')].map(e =>"
                         " ({name: e.dataset.member, share: +e.dataset.share,"
                         " self: e.classList.contains('self')}))")
    assert [m["name"] for m in shown] == MEMBERS == [m["name"] for m in view["members"]], shown
    assert [m["self"] for m in shown] == [n == "hub-a" for n in MEMBERS], shown
    for m, v in zip(shown, view["members"]):
        assert abs(m["share"] - v["share"]) < 1e-9 and abs(m["share"] - 1 / 3) < 0.02, (m, v)
    assert len(view["arcs"]) == 720 and set(view["arcs"]) == {0, 1, 2}, view["arcs"][:20]
    status = hub.status()
    rows = browser.eval(consumers_js())
    assert [r["name"] for r in rows] == [c["name"] for c in status["consumers"]] == \
        ["archive", "badges"], rows
    assert all(r["charts"] >= 3 for r in rows), rows  # backlog, rates, processing time
    # /status leaves consumers' arguments out unless status-args: nothing on
    # the page may read "undefined" or "null" for them.
    text = browser.eval("document.body.innerText")
    assert "undefined" not in text and "null" not in text, text[:2000]
    assert by_name(rows)["badges"]["max"] == 0, rows
    points_before = by_name(rows)["badges"]["points"]

    # A burst the slow consumer cannot follow: its backlog chart must rise.
    pub = hub.pub
    for i in range(BURST):
        pub.send("org.burst", fedmsg_body("org.burst", {"user": "user-%d" % i}, i=i + 1))
    claimed = wait_until(lambda: hub.metric("hashspace_messages_claimed_total") >=
                         hub.baseline + BURST / 6 and hub.metric(
                             "hashspace_messages_claimed_total"), 20, "hub-a to claim its share")
    risen = wait_until(lambda: [r for r in browser.eval(consumers_js())
                                if r["name"] == "badges" and r["backlog"] > 50], 15,
                       "the page to show the slow consumer's backlog rising")[0]
    log("dashboard: hub-a claimed %d; page shows badges backlog %d (max %d, %d points)"
        % (claimed, risen["backlog"], risen["max"], risen["points"]))
    assert risen["points"] > points_before, (risen, points_before)
    browser.screenshot(os.path.join(BUILD, "dashboard-hub-1280x800.png"))
    shots.append("dashboard-hub-1280x800.png")
    browser.color_scheme("dark")
    time.sleep(1.2)
    browser.screenshot(os.path.join(BUILD, "dashboard-hub-dark-1280x800.png"))
    shots.append("dashboard-hub-dark-1280x800.png")
    assert browser.eval("matchMedia('(prefers-color-scheme: dark)').matches") is True
    dark_bg = browser.eval("getComputedStyle(document.body).backgroundColor")
    assert dark_bg == "rgb(20, 20, 22)", dark_bg
    browser.color_scheme("light")
    browser.viewport(390, 844, mobile=True, scale=2)
    time.sleep(1.2)
    width = browser.eval("document.documentElement.scrollWidth")
    assert width <= 390, "the page is %d px wide on a 390 px phone" % width
    browser.screenshot(os.path.join(BUILD, "dashboard-hub-phone-390x844.png"), full_page=True)
    shots.append("dashboard-hub-phone-390x844.png")

    # ... and fall as it catches up.
    peak = risen["max"]
    fallen = wait_until(lambda: [r for r in browser.eval(consumers_js())
                                 if r["name"] == "badges" and r["backlog"] < peak / 2], 30,
                        "the page to show the slow consumer catching up")[0]
    assert fallen["max"] >= peak, (fallen, peak)
    browser.viewport(1280, 800)
    return claimed


def start_redis(work):
    """A redis-server on a free port holding two views of cluster "demo": epoch
    1 in force since 30 s, epoch 2 (a fourth member) pending, from 120 s on.
    None without redis-server."""
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        log("test_dashboard: no redis-server: the coordinator part is skipped")
        return None, None
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", work],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    hubtest._procs.append(proc)
    cli = ["redis-cli", "-h", "127.0.0.1", "-p", str(port)]
    wait_until(lambda: subprocess.run(cli + ["PING"], capture_output=True).stdout.strip()
               == b"PONG", 10, "redis-server to answer")
    now = int(time.time() * 1e9)
    for epoch, offset, members in ((1, -30, MEMBERS), (2, 120, MEMBERS + ["hub-d"])):
        view = {"epoch": epoch, "effective_from": now + offset * 10**9,
                "created": now + (offset - 2) * 10**9,
                "members": [{"name": m, "weight": 1} for m in members]}
        text = json.dumps(view, separators=(",", ":"))  # the form the scripts read
        subprocess.run(cli + ["RPUSH", "hashspace:{demo}:views", text], check=True,
                       capture_output=True)
    return proc, "redis://127.0.0.1:%d" % port


def cluster_page(browser, hubs, shots, work):
    port = free_port()
    dead = "127.0.0.1:%d" % free_port()  # nobody listens there
    addrs = [h.metrics_url.split("/")[2] for h in hubs] + [dead]
    redis, coordinator = start_redis(work)
    extra = ["--coordinator", coordinator, "--cluster", "demo"] if coordinator else []
    log_path = os.path.join(work, "dashboard.log")
    with open(log_path, "wb") as out:
        proc = subprocess.Popen([hubtest.HS_BIN, "dashboard", "--listen", "127.0.0.1:%d" % port]
                                + extra + addrs, stdout=out, stderr=subprocess.STDOUT)
    hubtest._procs.append(proc)
    try:
        wait_until(lambda: "dashboard on http://" in open(log_path).read(), 10,
                   "hashspace dashboard to start")
        browser.goto("http://127.0.0.1:%d/" % port)
        wait_until(lambda: browser.eval("+(document.body.dataset.polls || 0)") >= 2, 15,
                   "the cluster page to poll twice")
        shown = browser.eval("[...document.querySelectorAll('.hub')].map(e => ({key:"
                             " e.dataset.key, self: e.dataset.self || null,"
                             " down: e.classList.contains('down'),"
                             " consumers: [...e.querySelectorAll('.consumer')].map(c =>"
                             " c.dataset.consumer)}))")
        assert [s["key"] for s in shown] == addrs, shown
        assert [s["self"] for s in shown[:2]] == [h.name for h in hubs], shown
        assert [s["down"] for s in shown] == [False, False, True], shown
        assert all(s["consumers"] == ["archive", "badges"] for s in shown[:2]), shown
        up = browser.eval("document.querySelector('[data-total=hubs] b').textContent")
        assert up == "2/3", up
        # A burst: the cluster's total backlog rises, and is the sum of the hubs'.
        pub = hubs[0].pub
        for i in range(BURST):
            pub.send("org.burst", fedmsg_body("org.burst", {"user": "again-%d" % i}, i=BURST + i + 1))
        js = ("({total: +document.getElementById('cluster').dataset.backlog, sum:"
              " [...document.querySelectorAll('.hub .consumer')].reduce((a, e) =>"
              " a + +e.dataset.backlog, 0)})")
        seen = wait_until(lambda: [v for v in [browser.eval(js)] if v["total"] > 50], 15,
                          "the cluster page to show the total backlog rising")[0]
        assert seen["total"] == seen["sum"], seen
        log("dashboard: cluster page shows total backlog %d" % seen["total"])
        if coordinator:
            # The pending view is a handover in progress; view 1 is marked on the charts.
            text = wait_until(lambda: browser.eval(
                "+document.getElementById('handovers').dataset.count > 0 &&"
                " document.getElementById('handovers').textContent"), 10,
                "the pending view among the handovers")
            assert "pending: view 2 in " in text and "hub-d" in text, text
            source = browser.eval("document.getElementById('source').textContent")
            assert "cluster demo" in source and coordinator in source, source
            marks = browser.eval("document.getElementById('cluster').dataset.marks")
            assert marks == "1", marks  # view 1 took effect 30 s ago: marked; view 2 not yet
        browser.screenshot(os.path.join(BUILD, "dashboard-cluster-1280x800.png"))
        shots.append("dashboard-cluster-1280x800.png")
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0, open(log_path).read()
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)


def main():
    import browser as browser_mod
    if browser_mod.find_chromium() is None:
        skip("chromium is not installed")
    try:
        import websocket  # noqa: F401
    except ImportError:
        skip("python3-websocket is not installed")
    work = tempfile.mkdtemp(prefix="hs-dashboard-")
    pub = Publisher()
    shots = []
    try:
        hub_a = start_hub(pub, "hub-a", work, 0.004)
        hub_b = start_hub(pub, "hub-b", work, 0.004)
        hubtest.wait_subscribed(pub, [hub_a, hub_b])
        base = hubtest.settled([hub_a, hub_b], "hashspace_messages_claimed_total")
        hub_a.pub, hub_a.baseline = pub, base["hub-a"]
        b = browser_mod.Browser(work)
        try:
            hub_page(b, hub_a, shots)
            cluster_page(b, [hub_a, hub_b], shots, work)
            errors = [c for c in b.console if "exception" in c or "rror" in c]
            assert not errors, errors
        finally:
            b.close()
        for h in (hub_a, hub_b):
            assert h.stop() == 0, h.log()[-2000:]
        log("dashboard: screenshots in %s: %s" % (BUILD, ", ".join(shots)))
    finally:
        pub.close()
        hubtest.cleanup()


if __name__ == "__main__":
    main()
