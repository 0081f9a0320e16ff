"""test_prometheus_kit.py - the operator kit around the hub's metrics:
packaging/prometheus (a scrape config, alert rules and their unit tests) and
packaging/grafana/hashspace.json (a dashboard).

Every metric name in the rules and the dashboard is one a real hub exports
(scraped from a running hub that received a bus, so that the per-publisher
bus series exist too). With promtool (Debian's prometheus package;
HS_DEPS_PROMETHEUS=1 scripts/deps.sh), `promtool check config`, `check rules`
and `test rules` pass, and every dashboard query parses as PromQL. Without
promtool those tests are skipped, or fail when HS_REQUIRE_PROMTOOL=1 (CI).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402

SOURCE = os.environ.get("HS_SOURCE_DIR", ".")
PROM = os.path.join(SOURCE, "packaging", "prometheus")
CONFIG = os.path.join(PROM, "prometheus.yml")
RULES = os.path.join(PROM, "hashspace-rules.yml")
RULE_TESTS = os.path.join(PROM, "hashspace-rules.test.yml")
DASHBOARD = os.path.join(SOURCE, "packaging", "grafana", "hashspace.json")
PROMTOOL = shutil.which("promtool")
# Series that Prometheus itself makes for every target, not the hub.
PROMETHEUS_OWN = {"up"}


def need_promtool():
    if PROMTOOL is None:
        if os.environ.get("HS_REQUIRE_PROMTOOL") == "1":
            raise AssertionError("promtool is not installed and HS_REQUIRE_PROMTOOL=1: "
                                 "run HS_DEPS_PROMETHEUS=1 scripts/deps.sh")
        raise unittest.SkipTest("promtool is not installed (Debian package prometheus: "
                                "HS_DEPS_PROMETHEUS=1 scripts/deps.sh)")


def promtool(*args):
    out = subprocess.run([PROMTOOL] + list(args), capture_output=True, text=True, cwd=PROM)
    return out.returncode, out.stdout + out.stderr


def dashboard_queries():
    with open(DASHBOARD) as f:
        dash = json.load(f)
    queries = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    queries += [v["query"]["query"] for v in dash["templating"]["list"]
                if v["type"] == "query"]
    return dash, queries


def as_promql(query):
    """A dashboard query with Grafana's variables replaced by values."""
    q = query.replace("$__rate_interval", "5m")
    q = re.sub(r"\$\{?(instance|consumer)\}?", ".*", q)
    m = re.match(r"^label_values\((.*), *(\w+)\)$", q)
    return m.group(1) if m else q


def metric_names(text):
    return set(re.findall(r"\b(hashspace_[a-z0-9_]+)\b", text))


_exported = None


def exported():
    """The metric names of a real hub that received a bus."""
    global _exported
    if _exported is None:
        tmp = tempfile.mkdtemp(prefix="hs-promkit-")
        try:
            pub = hubtest.Publisher()
            hub = hubtest.Hub(["--connect", pub.endpoint, "--self", "a", "--members", "a",
                               "--consumer", "archive@org.*=file:archive.jsonl"], "a", tmp)
            hubtest.wait_subscribed(pub, [hub])
            with urllib.request.urlopen(hub.metrics_url, timeout=hubtest.scaled(5)) as r:
                text = r.read().decode()
            hub.stop()
            pub.close()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        names = set()
        for line in text.splitlines():
            m = re.match(r"^# TYPE (\S+) (\S+)", line)
            if m:
                names.add(m.group(1))
                if m.group(2) == "histogram":
                    names |= {m.group(1) + s for s in ("_bucket", "_sum", "_count")}
            elif line and not line.startswith("#"):
                names.add(re.match(r"^[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0))
        _exported = names
    return _exported


class MetricNames(unittest.TestCase):
    def test_the_hub_exports_the_bus_series(self):
        # The check below is only as good as the scrape: it must hold the
        # per-publisher series and the histogram.
        names = exported()
        for name in ("hashspace_bus_missing_total", "hashspace_consumer_backlog",
                     "hashspace_consumer_duration_seconds_bucket"):
            self.assertIn(name, names)

    def test_rules_use_only_exported_metrics(self):
        with open(RULES) as f:
            used = metric_names(f.read())
        self.assertIn("hashspace_consumer_oldest_age_seconds", used)
        self.assertEqual(used - exported(), set())
        with open(RULE_TESTS) as f:
            self.assertEqual(metric_names(f.read()) - exported(), set())

    def test_dashboard_uses_only_exported_metrics(self):
        dash, queries = dashboard_queries()
        self.assertEqual(dash["uid"], "hashspace")
        self.assertTrue(dash["panels"])
        used = set()
        for q in queries:
            found = metric_names(q)
            self.assertTrue(found or "up{" in q, q)
            used |= found
            others = set(re.findall(r"\b([a-z_][a-z0-9_]*)\{", q)) - found - PROMETHEUS_OWN
            self.assertEqual(others, set(), q)
        self.assertEqual(used - exported(), set())
        # Every panel has a unique id and a place on the grid.
        ids = [p["id"] for p in dash["panels"]]
        self.assertEqual(len(ids), len(set(ids)))
        for p in dash["panels"]:
            self.assertEqual(set(p["gridPos"]), {"h", "w", "x", "y"}, p["title"])


class Promtool(unittest.TestCase):
    def setUp(self):
        need_promtool()

    def test_check_config(self):
        rc, out = promtool("check", "config", CONFIG)
        self.assertEqual(rc, 0, out)
        self.assertIn("1 rule files found", out)

    def test_check_rules(self):
        rc, out = promtool("check", "rules", RULES)
        self.assertEqual(rc, 0, out)

    def test_rule_unit_tests(self):
        rc, out = promtool("test", "rules", RULE_TESTS)
        self.assertEqual(rc, 0, out)
        self.assertIn("SUCCESS", out)

    def test_rule_tests_catch_a_wrong_rule(self):
        # The unit tests fail when a rule is wrong: here the bus-gap alert
        # subtracting the wrong counter (so it never fires).
        with tempfile.TemporaryDirectory() as tmp:
            with open(RULES) as f:
                rules = f.read().replace("hashspace_bus_late_total", "hashspace_bus_missing_total")
            with open(os.path.join(tmp, "hashspace-rules.yml"), "w") as f:
                f.write(rules)
            shutil.copy(RULE_TESTS, tmp)
            out = subprocess.run([PROMTOOL, "test", "rules", "hashspace-rules.test.yml"],
                                 capture_output=True, text=True, cwd=tmp)
            self.assertNotEqual(out.returncode, 0)
            self.assertIn("HashspaceBusGaps", out.stdout + out.stderr)

    def test_dashboard_queries_parse(self):
        # promtool parses PromQL in rule files: each query becomes a rule.
        _, queries = dashboard_queries()
        lines = ["groups:", "  - name: dashboard", "    rules:"]
        for i, q in enumerate(queries):
            expr = as_promql(q)
            self.assertNotIn("$", expr, q)
            lines += ["      - record: hashspace:dashboard_query_%d" % i,
                      "        expr: %s" % json.dumps(expr)]
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "dashboard-rules.yml")
            with open(path, "w") as f:
                f.write("\n".join(lines) + "\n")
            rc, out = promtool("check", "rules", path)
            self.assertEqual(rc, 0, out)
            self.assertIn("%d rules found" % len(queries), out)


if __name__ == "__main__":
    unittest.main()
