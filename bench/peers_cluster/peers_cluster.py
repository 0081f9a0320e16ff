#!/usr/bin/python3
"""peers_cluster.py - one keyed workload through hashspace and through what
users would pick instead: NATS (a queue group, and subjects partitioned by
key hash) and RabbitMQ (the consistent-hash exchange), 4 consumers each,
every msg_id counted at the consumers.

    bench/peers_cluster/peers_cluster.py --hashspace build/hashspace
        [--bin-dir build/bench/peers_cluster] [--plugin PATH/libpc_plugin.so]
        [--count 200000] [--users 5000] [--rounds 3] [--rate 10000]
        [--latency-count 20000] [--systems a,b,...] [--out DIR] [--doc] [--quick]

Starts its own servers on free loopback ports in a temporary directory
(nats-server; rabbitmq-server as a private node with its bundled
rabbitmq_consistent_hash_exchange plugin; four `hashspace hub` per run) and
stops each by its PID at the end. A peer that cannot start is skipped, with
the reason. Each round runs every system once, in an order that rotates
from round to round; then each system once more at a steady --rate for
--latency-count messages (publish-to-consumer latency, CPU at that pace).

--out DIR writes cluster.csv (the table), cluster_runs.csv (every run) and
cluster.json; --doc writes them to docs/data, draws docs/img/cluster.svg with
gnuplot (cluster.gp) and rewrites the cluster section of docs/benchmarks.md
(between its own markers, after bench/plots.sh's sections, which it leaves
alone); --redoc does the last two from docs/data/cluster.json alone.
--quick is the ctest smoke run: tiny counts, one round, and it fails unless
every system that ran delivered every message exactly once (and, where keys
are partitioned, each key to one consumer); it exits 77 (skipped) when
neither NATS nor RabbitMQ could be started.
"""
import argparse
import csv
import json
import os
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
CONSUMERS = 4
RECORD = 64
HEADER = 64
SKIP = 77

# One line per system: name, what the table calls it, the server it needs,
# and how it is run (publisher's --system, consumer's --system, hub key,
# hub consumer kind).
SYSTEMS = [
    ("nats-queue", "NATS queue group (4 subscribers, one group)", "nats",
     dict(pub="nats-queue", sub="nats-queue", partitioned=False)),
    ("nats-subjects", "NATS subjects partitioned by key hash", "nats",
     dict(pub="nats-subjects", sub="nats-subjects", partitioned=True)),
    ("rabbitmq", "RabbitMQ consistent-hash exchange, manual ack", "rabbitmq",
     dict(pub="amqp", sub="amqp", partitioned=True)),
    ("hashspace-plugin", "hashspace, 4 hubs, plugin: consumer, --key json:/msg/user", "hashspace",
     dict(pub="zmq", key="json:/msg/user", kind="plugin", partitioned=True)),
    ("hashspace-push", "hashspace, 4 hubs, push: consumer, --key json:/msg/user", "hashspace",
     dict(pub="zmq", key="json:/msg/user", kind="push", partitioned=True)),
    ("hashspace-topic", "hashspace, 4 hubs, plugin: consumer, --key topic", "hashspace",
     dict(pub="zmq-topic", key="topic", kind="plugin", partitioned=True)),
    # Not a product: 4 bare libzmq SUB loops on the hubs' bus, each keeping
    # the quarter of the users it is given and dropping the rest. The floor
    # of a broadcast design: every receiver gets every message.
    ("zmq-broadcast", "4 bare libzmq SUB loops on the same bus, each keeping a quarter "
     "(the floor of any broadcast design)", "zmq",
     dict(pub="zmq", sub="zmq-sub", partitioned=True)),
]
BY_NAME = {s[0]: s for s in SYSTEMS}


def log(msg):
    print(f"peers_cluster: {msg}", file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def tail(path, lines=6):
    try:
        with open(path, errors="replace") as f:
            return " | ".join(l.strip() for l in f.read().splitlines()[-lines:] if l.strip())
    except OSError:
        return ""


# --- CPU time from /proc ---

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    """utime + stime of one process (all its threads), in seconds; 0 if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def tree(pid):
    """pid and all its descendants."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_tree_s(pids):
    return sum(cpu_s(p) for root in pids for p in tree(root))


# --- processes this program starts and stops ---

class Proc:
    """A child process, stopped by its PID."""

    def __init__(self, argv, log_path, env=None, stdout=None):
        self.log_path = log_path
        self.logf = open(log_path, "wb")
        self.p = subprocess.Popen(argv, stdout=stdout if stdout is not None else self.logf,
                                  stderr=self.logf, stdin=subprocess.DEVNULL, env=env)
        self.pid = self.p.pid

    def alive(self):
        return self.p.poll() is None

    def stop(self, timeout=15):
        if self.p.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"pid {self.pid} did not stop in {timeout} s after SIGTERM: killed")
                os.kill(self.pid, signal.SIGKILL)
                self.p.wait()
        self.logf.close()
        return self.p.returncode


def wait_port(port, proc, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port):
            return True
        if not proc.alive():
            return False
        time.sleep(0.1)
    return False


class Nats:
    name = "nats"

    def __init__(self, tmp, exe):
        exe = exe or shutil.which("nats-server") or "/usr/sbin/nats-server"
        if not os.access(exe, os.X_OK):
            raise RuntimeError(f"no nats-server at {exe} (apt-get install nats-server, "
                               "or HS_DEPS_PEERS=1 scripts/deps.sh)")
        self.version = subprocess.run([exe, "--version"], capture_output=True,
                                      text=True).stdout.strip().split()[-1]
        self.port = free_port()
        self.proc = Proc([exe, "-a", "127.0.0.1", "-p", str(self.port)], f"{tmp}/nats-server.log")
        if not wait_port(self.port, self.proc, 20):
            self.stop()
            raise RuntimeError(f"nats-server did not listen on port {self.port} within 20 s: "
                               f"{tail(self.proc.log_path)}")
        self.url = f"nats://127.0.0.1:{self.port}"
        self.pids = [self.proc.pid]

    def stop(self):
        self.proc.stop()


class Rabbit:
    """A private RabbitMQ node: its own name, ports, epmd, data and logs."""
    name = "rabbitmq"

    def __init__(self, tmp, script):
        # The script itself, not /usr/sbin/rabbitmq-server, which would switch
        # to the rabbitmq user and hide the node's PID behind su.
        script = script or "/usr/lib/rabbitmq/bin/rabbitmq-server"
        epmd = shutil.which("epmd")
        if not os.access(script, os.X_OK) or epmd is None:
            raise RuntimeError(f"no RabbitMQ at {script} or no epmd (apt-get install rabbitmq-server, "
                               "or HS_DEPS_PEERS=1 scripts/deps.sh)")
        lib = "/usr/lib/rabbitmq/lib"
        plugins = [d for d in os.listdir(lib) if d.startswith("rabbitmq_server-")] \
            if os.path.isdir(lib) else []
        self.version = plugins[0].split("-", 1)[1] if plugins else "?"
        home = f"{tmp}/rabbitmq"
        os.makedirs(home)
        self.epmd_port, self.port, dist_port = free_port(), free_port(), free_port()
        with open(f"{home}/enabled_plugins", "w") as f:
            f.write("[rabbitmq_consistent_hash_exchange].\n")
        with open(f"{home}/rabbitmq.conf", "w") as f:
            f.write(f"listeners.tcp.1 = 127.0.0.1:{self.port}\n"
                    "loopback_users.guest = true\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("RABBITMQ_")}
        env.update(HOME=home, ERL_EPMD_PORT=str(self.epmd_port), ERL_EPMD_ADDRESS="127.0.0.1",
                   RABBITMQ_NODENAME=f"pc{os.getpid()}@localhost",
                   RABBITMQ_NODE_IP_ADDRESS="127.0.0.1", RABBITMQ_NODE_PORT=str(self.port),
                   RABBITMQ_DIST_PORT=str(dist_port),
                   RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}",
                   RABBITMQ_MNESIA_BASE=f"{home}/mnesia", RABBITMQ_LOG_BASE=f"{home}/log",
                   RABBITMQ_ENABLED_PLUGINS_FILE=f"{home}/enabled_plugins",
                   RABBITMQ_CONFIG_FILE=f"{home}/rabbitmq", RABBITMQ_CONF_ENV_FILE="/dev/null",
                   RABBITMQ_PID_FILE=f"{home}/rabbitmq.pid")
        # epmd of our own, in the foreground, so that we hold its PID.
        self.epmd = Proc([epmd, "-port", str(self.epmd_port), "-address", "127.0.0.1"],
                         f"{tmp}/epmd.log", env=env)
        if not wait_port(self.epmd_port, self.epmd, 10):
            self.epmd.stop()
            raise RuntimeError(f"epmd did not listen on port {self.epmd_port}: "
                               f"{tail(self.epmd.log_path)}")
        t0 = time.monotonic()
        self.proc = Proc([script], f"{tmp}/rabbitmq-server.log", env=env)
        if not wait_port(self.port, self.proc, 90):
            self.stop()
            raise RuntimeError(f"rabbitmq-server did not listen on port {self.port} within 90 s: "
                               f"{tail(self.proc.log_path)}")
        self.boot_s = time.monotonic() - t0
        self.url = f"amqp://127.0.0.1:{self.port}"
        self.pids = [self.proc.pid, self.epmd.pid]

    def stop(self):
        self.proc.stop(30)
        self.epmd.stop()


# --- record files (recorder.h) ---

def rec_header(path):
    try:
        with open(path, "rb") as f:
            head = f.read(HEADER)
    except OSError:
        return None
    if len(head) < HEADER or head[:7] != b"PCREC01":
        return None
    _, cap, ready, count, last_ns, bad = struct.unpack_from("<8sQQQQQ", head)
    return dict(cap=cap, ready=ready, count=count, last_ns=last_ns, bad=bad)


def rec_read(path):
    h = rec_header(path)
    n = min(h["count"], h["cap"])
    with open(path, "rb") as f:
        f.seek(HEADER)
        data = f.read(n * RECORD)
    out = []
    for off in range(0, len(data), RECORD):
        mid = data[off:off + 40].rstrip(b"\0")
        user = data[off + 40:off + 56].rstrip(b"\0")
        (lat,) = struct.unpack_from("<Q", data, off + 56)
        out.append((mid, user, lat))
    return h, out


def percentile(sorted_values, q):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


# --- one run ---

class Bench:
    def __init__(self, args, tmp):
        self.a = args
        self.tmp = tmp
        self.servers = {}
        self.skipped = {}
        self.seq = 0

    def start_servers(self, needed):
        for name, cls, exe in (("nats", Nats, self.a.nats_server),
                               ("rabbitmq", Rabbit, self.a.rabbitmq_server)):
            if name not in needed:
                continue
            try:
                self.servers[name] = cls(self.tmp, exe)
                log(f"{name} started (pids {self.servers[name].pids})")
            except (RuntimeError, OSError) as e:
                self.skipped[name] = str(e)
                log(f"skipping {name}: {e}")
        if "hashspace" in needed:
            if not os.access(self.a.hashspace, os.X_OK):
                self.skipped["hashspace"] = f"no hashspace binary at {self.a.hashspace} (--hashspace)"
            elif not os.path.exists(self.a.plugin):
                self.skipped["hashspace"] = f"no recorder plugin at {self.a.plugin} (--plugin)"
            if "hashspace" in self.skipped:
                log(f"skipping hashspace: {self.skipped['hashspace']}")

    def stop_servers(self):
        for s in self.servers.values():
            s.stop()

    def run(self, system, n, rate, seed):
        name, _, server, how = BY_NAME[system]
        self.seq += 1
        d = f"{self.tmp}/{self.seq:03d}-{system}"
        os.makedirs(d)
        cap = n + n // 2 + 100
        recs = [f"{d}/rec{i}" for i in range(CONSUMERS)]
        consumers, hubs, pub = [], [], None
        bus = None
        try:
            if server in ("nats", "rabbitmq"):
                url = self.servers[server].url
                for i in range(CONSUMERS):
                    consumers.append(Proc([f"{self.a.bin_dir}/pc_sub", "--system", how["sub"],
                                           "--url", url, "--index", str(i), "--out", recs[i],
                                           "--cap", str(cap)], f"{d}/sub{i}.log"))
                server_pids = self.servers[server].pids
            elif server == "zmq":
                bus = f"tcp://127.0.0.1:{free_port()}"
                for i in range(CONSUMERS):
                    consumers.append(Proc([f"{self.a.bin_dir}/pc_sub", "--system", how["sub"],
                                           "--url", bus, "--index", str(i), "--out", recs[i],
                                           "--cap", str(cap)], f"{d}/sub{i}.log"))
                server_pids = []
            else:
                bus = f"tcp://127.0.0.1:{free_port()}"
                members = ",".join(f"h{i}" for i in range(CONSUMERS))
                for i in range(CONSUMERS):
                    if how["kind"] == "push":
                        pull = f"tcp://127.0.0.1:{free_port()}"
                        consumers.append(Proc([f"{self.a.bin_dir}/pc_sub", "--system", "pull",
                                               "--url", pull, "--index", str(i), "--out", recs[i],
                                               "--cap", str(cap)], f"{d}/pull{i}.log"))
                        spec = f"push:{pull}"
                    else:
                        spec = f"plugin:{self.a.plugin},out={recs[i]},cap={cap}"
                    hubs.append(Proc([self.a.hashspace, "hub", "--connect", bus, "--self", f"h{i}",
                                      "--members", members, "--key", how["key"], "--consumer", spec,
                                      "--metrics", "none", "--log-level", "warn",
                                      "--dead-letter", "stderr", "--drain-timeout", "5"],
                                     f"{d}/hub{i}.log"))
                server_pids = [h.pid for h in hubs]
            self._wait_ready(recs, consumers + hubs, d)
            pub_argv = [f"{self.a.bin_dir}/pc_pub", "--system", how["pub"],
                        "--url", bus if bus else self.servers[server].url,
                        "--count", str(n), "--rate", str(rate), "--users", str(self.a.users),
                        "--size", str(self.a.size), "--partitions", str(CONSUMERS),
                        "--subscribers", str(CONSUMERS), "--ids", f"{d}/ids", "--seed", str(seed),
                        "--hwm", str(self.a.zmq_hwm)]
            pub = Proc(pub_argv, f"{d}/pub.log", stdout=subprocess.PIPE)
            line = pub.p.stdout.readline().decode()
            if line.strip() != "go":
                raise RuntimeError(f"the publisher did not start: {tail(pub.log_path)}")
            client_pids = [c.pid for c in consumers]
            srv0, cli0 = cpu_tree_s(server_pids), cpu_tree_s(client_pids)
            done_ns, total = self._wait_done(recs, n, pub, consumers + hubs)
            srv1, cli1 = cpu_tree_s(server_pids), cpu_tree_s(client_pids)
            out, _ = pub.p.communicate()
            if pub.p.returncode != 0:
                raise RuntimeError(f"the publisher failed: {tail(pub.log_path)}")
            f = out.decode().split()
            start_ns, pub_cpu_s = int(f[1]), int(f[5]) / 1e9
            time.sleep(0.2)  # a late duplicate still lands in the files
        finally:
            for p in ([pub] if pub else []) + hubs + consumers:
                p.stop()
        # Count every msg_id.
        with open(f"{d}/ids", "rb") as fh:
            raw = fh.read()
        sent = {raw[o:o + 40].rstrip(b"\0") for o in range(0, len(raw), 40)}
        seen, owner, lat, bad, overflow = {}, {}, [], 0, 0
        for i, path in enumerate(recs):
            h, rows = rec_read(path)
            bad += h["bad"]
            overflow += max(0, h["count"] - h["cap"])
            skip = len(rows) // 10  # the first tenth of each consumer: warming up
            for k, (mid, user, l) in enumerate(rows):
                seen[mid] = seen.get(mid, 0) + 1
                owner.setdefault(user, set()).add(i)
                if k >= skip and l:
                    lat.append(l)
        lat.sort()
        delivered = sum(seen.values())
        unique = sum(1 for m in seen if m in sent)
        res = dict(system=system, rate_target=rate, count=n, seed=seed,
                   delivered=delivered, unique=unique, lost=len(sent) - unique,
                   duplicated=delivered - len(seen), unknown=sum(1 for m in seen if m not in sent),
                   bad=bad, overflow=overflow, keys=len(owner),
                   keys_split=sum(1 for s in owner.values() if len(s) > 1),
                   seconds=(done_ns - start_ns) / 1e9 if done_ns > start_ns else float("nan"),
                   server_cpu_s=srv1 - srv0, client_cpu_s=cli1 - cli0 + pub_cpu_s,
                   pub_cpu_s=pub_cpu_s,
                   p50_us=percentile(lat, 0.50) / 1e3, p99_us=percentile(lat, 0.99) / 1e3)
        res["msg_per_s"] = unique / res["seconds"] if res["seconds"] > 0 else float("nan")
        per = max(unique, 1)
        res["server_cpu_us"] = res["server_cpu_s"] * 1e6 / per
        res["client_cpu_us"] = res["client_cpu_s"] * 1e6 / per
        if not self.a.keep:
            shutil.rmtree(d, ignore_errors=True)
        return res

    def _wait_ready(self, recs, procs, d):
        deadline = time.monotonic() + 30
        while True:
            heads = [rec_header(p) for p in recs]
            if all(h is not None and h["ready"] for h in heads):
                return
            dead = [p for p in procs if not p.alive()]
            if dead or time.monotonic() > deadline:
                why = tail(dead[0].log_path) if dead else "timeout"
                raise RuntimeError(f"the consumers did not get ready within 30 s: {why}")
            time.sleep(0.05)

    def _wait_done(self, recs, n, pub, procs):
        """Until n messages arrived, or nothing arrived for --idle seconds after
        the publisher finished. Returns the time (CLOCK_MONOTONIC ns) of the
        last message and the count."""
        last_total, last_change = -1, time.monotonic()
        while True:
            heads = [rec_header(p) for p in recs]
            total = sum(h["count"] for h in heads)
            now = time.monotonic()
            if total != last_total:
                last_total, last_change = total, now
            if total >= n:
                break
            if pub.p.poll() is not None and now - last_change > self.a.idle:
                log(f"{total} of {n} messages arrived; nothing more for {self.a.idle} s")
                break
            dead = [p for p in procs if not p.alive()]
            if dead:
                raise RuntimeError(f"a consumer exited during the run: {tail(dead[0].log_path)}")
            time.sleep(0.01)
        return max(h["last_ns"] for h in heads), total


def median(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def summarise(runs, system):
    full = [r for r in runs if r["system"] == system and r["rate_target"] == 0]
    paced = [r for r in runs if r["system"] == system and r["rate_target"] > 0]
    if not full:
        return None
    s = dict(system=system, label=BY_NAME[system][1], rounds=len(full),
             msg_per_s=median([r["msg_per_s"] for r in full]),
             msg_per_s_min=min(r["msg_per_s"] for r in full),
             msg_per_s_max=max(r["msg_per_s"] for r in full),
             lost=sum(r["lost"] for r in full + paced),
             duplicated=sum(r["duplicated"] for r in full + paced),
             keys_split=max(r["keys_split"] for r in full), keys=max(r["keys"] for r in full),
             server_cpu_us=median([r["server_cpu_us"] for r in full]),
             client_cpu_us=median([r["client_cpu_us"] for r in full]))
    s["p50_us"] = median([r["p50_us"] for r in paced])
    s["p99_us"] = median([r["p99_us"] for r in paced])
    s["server_cpu_us_paced"] = median([r["server_cpu_us"] for r in paced])
    s["client_cpu_us_paced"] = median([r["client_cpu_us"] for r in paced])
    return s


COLUMNS = [("system", "system", "{}"), ("msg_per_s", "delivered msg/s, median (range)", "{:,.0f}"),
           ("lost", "lost", "{}"), ("duplicated", "dup", "{}"),
           ("keys_split", "keys on >1 consumer", "{}"),
           ("server_cpu_us", "CPU µs/msg servers/hubs", "{:.1f}"),
           ("client_cpu_us", "CPU µs/msg clients", "{:.1f}"),
           ("p50_us", "p50 µs @rate", "{:.0f}"), ("p99_us", "p99 µs @rate", "{:.0f}"),
           ("server_cpu_us_paced", "CPU µs/msg servers/hubs @rate", "{:.1f}")]


def fmt(col, s):
    key, _, f = col
    v = s[key]
    if key == "system":
        return f"{s['label']} (`{s['system']}`)"
    if key == "keys_split":
        return f"{v} of {s['keys']}"
    if key == "msg_per_s" and s["rounds"] > 1:
        return f"{v:,.0f} ({s['msg_per_s_min']:,.0f}–{s['msg_per_s_max']:,.0f})"
    if isinstance(v, float) and v != v:
        return "-"
    return f.format(v)


def markdown_table(summary, rate):
    head = [c[1].replace("@rate", f"at {rate:,.0f} msg/s") for c in COLUMNS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(COLUMNS)]
    for s in summary:
        lines.append("| " + " | ".join(fmt(c, s) for c in COLUMNS) + " |")
    return "\n".join(lines)


def ratios(summary):
    by = {s["system"]: s for s in summary}
    out = []
    for hs in ("hashspace-plugin", "hashspace-push", "hashspace-topic"):
        for peer in ("nats-subjects", "nats-queue", "rabbitmq", "zmq-broadcast"):
            if hs in by and peer in by and by[peer]["msg_per_s"] > 0:
                out.append(dict(system=hs, peer=peer,
                                rate_ratio=by[hs]["msg_per_s"] / by[peer]["msg_per_s"],
                                server_cpu_ratio=by[hs]["server_cpu_us"] / by[peer]["server_cpu_us"]
                                if by[peer]["server_cpu_us"] > 0 else float("nan")))
    return out


def xfmt(ratio):
    return "-" if ratio != ratio else f"{ratio:.2f}x"


def machine():
    cpu = open("/proc/cpuinfo").read()
    model = next((l.split(":", 1)[1].strip() for l in cpu.splitlines()
                  if l.startswith("model name")), "?")
    return dict(cpu=model, nproc=os.cpu_count(), kernel=os.uname().release)


def loadavg():
    return open("/proc/loadavg").read().split()[0]


def write_outputs(outdir, summary, runs, meta):
    os.makedirs(outdir, exist_ok=True)
    with open(f"{outdir}/cluster.csv", "w", newline="") as f:
        keys = ["system", "rounds", "msg_per_s", "msg_per_s_min", "msg_per_s_max", "lost",
                "duplicated", "keys_split", "keys", "server_cpu_us", "client_cpu_us", "p50_us",
                "p99_us", "server_cpu_us_paced", "client_cpu_us_paced", "label"]
        w = csv.DictWriter(f, keys, extrasaction="ignore")
        w.writeheader()
        for s in summary:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in s.items()})
    with open(f"{outdir}/cluster_runs.csv", "w", newline="") as f:
        w = csv.DictWriter(f, list(runs[0].keys()) if runs else ["system"])
        w.writeheader()
        for r in runs:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    with open(f"{outdir}/cluster.json", "w") as f:
        json.dump(dict(meta=meta, summary=summary, ratios=ratios(summary), runs=runs), f, indent=1)


BEGIN = "<!-- begin: bench/peers_cluster section -->"
END = "<!-- end: bench/peers_cluster section -->"


def write_doc(path, summary, meta):
    a = meta["args"]
    rs = ratios(summary)
    ratio_lines = "\n".join(
        f"- `{r['system']}` / `{r['peer']}`: **{r['rate_ratio']:.2f}x** the delivered rate, "
        f"{xfmt(r['server_cpu_ratio'])} the server CPU per message"
        for r in rs if r["peer"] in ("nats-subjects", "rabbitmq", "zmq-broadcast"))
    by = {x["system"]: x for x in summary}
    floor_line = ""
    if "zmq-broadcast" in by and "nats-subjects" in by and by["nats-subjects"]["msg_per_s"] > 0:
        f = by["zmq-broadcast"]["msg_per_s"] / by["nats-subjects"]["msg_per_s"]
        floor_line = (f"The broadcast floor itself, four bare SUB loops, reached **{f:.2f}x** NATS "
                      "subject partitioning in this run: the bound of any design that sends "
                      "every message to every consumer over libzmq on this machine.")
    goal = next((r for r in rs if r["system"] == "hashspace-plugin"
                 and r["peer"] == "nats-subjects"), None)
    goal_line = ("Issue 13's goal, 4 hubs with `--key json:/msg/user` at ≥ 0.5x the delivered "
                 f"rate of NATS subject partitioning: **{'met' if goal['rate_ratio'] >= 0.5 else 'not met'}"
                 f"** in this run ({goal['rate_ratio']:.2f}x)." if goal else "")
    skipped = "\n".join(f"- {k}: {v}" for k, v in meta["skipped"].items()) or "- none"
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
    text = f"""{BEGIN}
<!-- Generated by bench/peers_cluster/peers_cluster.py --doc; edit the prose there. -->

## Cluster: hashspace against NATS and RabbitMQ

`bench/peers_cluster` runs one keyed workload through four hashspace hubs and
through what users would pick instead, on this machine, with every message
counted by its `msg_id` at the consumers. The workload: {a['count']:,} fedmsg-shaped
{a['size']}-byte JSON messages per run, {a['users']:,} users, key = `msg.user`,
{CONSUMERS} consumers; {a['rounds']} rounds, each running every system once in an order
that rotates from round to round. The systems:

- **NATS queue group**: 4 subscribers in one queue group on one subject; the
  server spreads messages, so every key lands on every consumer (the column
  "keys on >1 consumer" shows what a queue group does to per-key order).
- **NATS subjects partitioned by key hash**: the publisher sends to
  `p.<fnv1a64(user) % 4>`, one subscriber per subject.
- **RabbitMQ consistent-hash exchange**: `x-consistent-hash` (the bundled
  `rabbitmq_consistent_hash_exchange` plugin), routing key = user, 4
  exclusive queues bound with weight 1, manual acknowledgements (prefetch
  500, one `basic.ack` with `multiple` per 50 messages), no publisher
  confirms, transient messages.
- **hashspace**: 4 `hashspace hub` processes (members h0..h3, default hash
  and placement) on one ZeroMQ bus (the publisher's XPUB with
  `ZMQ_XPUB_NODROP`: it waits once a hub has {a.get('zmq_hwm', 1000):,} messages
  queued, `--zmq-hwm`, a bounded queue like the other clients'); each
  receives every message and keeps its share, with a
  `plugin:` consumer (`bench/peers_cluster/pc_plugin.c`, one worker) or a
  `push:` consumer to a PULL receiver; `--key json:/msg/user`, and
  `--key topic` with the user appended to the topic.
- **zmq-broadcast** (not a product, a yardstick): 4 bare libzmq SUB loops
  (`pc_sub --system zmq-sub`) on the same bus and publisher as the hubs,
  each keeping the users of its quarter (`fnv1a64(user) % 4`, the user
  found with `memmem`) and dropping the rest. What any design in which every
  consumer receives every message costs with no work beyond finding the
  key: the hubs' floor.

Every consumer, whichever the system, does the same with a message
(`recorder.c`: find `msg_id` and `user`, note the latency) and the publisher
(`pc_pub.c`) is one C program sending pre-built bodies; both use the
systems' C clients (libnats, rabbitmq-c, libzmq). **Delivered msg/s** is
the number of distinct msg_ids delivered over the time from the first send
to the last message at a consumer, median of the rounds. **CPU µs/msg** is
utime+stime from `/proc/PID/stat` before and after the run, over the
messages: servers/hubs (nats-server; RabbitMQ's beam.smp and its epmd;
the four hubs, which run the consumers' code in-process with `plugin:`)
and clients (publisher and the consumer processes). The latency columns
come from one more run per round at a steady {a['rate']:,.0f} msg/s for {a['latency_count']:,}
messages: the publisher writes its CLOCK_MONOTONIC send time into the body,
the consumer subtracts it from its own clock (the first tenth of each
consumer's messages left out).

Command (this run; load average {meta['load_before']} before, {meta['load_after']} after):

```sh
{meta['command']}
```

Machine: {meta['machine']['nproc']} vCPUs ({meta['machine']['cpu']}), kernel
{meta['machine']['kernel']}; {versions}. **The machine is shared with other
work and noisy**: single runs differ by tens of percent; compare systems
within one run, not across runs.

{markdown_table(summary, a['rate'])}

![Delivered msg/s and server CPU per message](img/cluster.svg)

Ratios of the medians:

{ratio_lines}

{goal_line} {floor_line}

Skipped in this run:

{skipped}

The data: `docs/data/cluster.csv` (this table), `docs/data/cluster_runs.csv`
(every run), `docs/data/cluster.json`. After changing the hub, run the same
command with `--hashspace PATH` for the binary to measure.
{END}
"""
    with open(path) as f:
        page = f.read()
    if BEGIN in page and END in page:
        before, rest = page.split(BEGIN, 1)
        after = rest.split(END, 1)[1].lstrip("\n")
        page = before + text + ("\n" + after if after else "")
    else:
        page = page.rstrip("\n") + "\n\n" + text
    with open(path, "w") as f:
        f.write(page)


def publish_doc(data, summary, meta):
    gp = shutil.which("gnuplot")
    if gp:
        subprocess.run([gp, "-e", f"data='{data}'; out='{TOP}/docs/img'", f"{HERE}/cluster.gp"],
                       check=True)
    else:
        log("gnuplot not found: docs/img/cluster.svg not drawn")
    write_doc(f"{TOP}/docs/benchmarks.md", summary, meta)
    log("docs/benchmarks.md: cluster section rewritten")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hashspace", default=f"{TOP}/build/hashspace", help="the hashspace binary")
    ap.add_argument("--bin-dir", default=f"{TOP}/build/bench/peers_cluster",
                    help="where pc_pub and pc_sub are")
    ap.add_argument("--plugin", default=None, help="libpc_plugin.so (default: in --bin-dir)")
    ap.add_argument("--nats-server", help="the nats-server binary (default: on PATH)")
    ap.add_argument("--rabbitmq-server",
                    help="RabbitMQ's start script (default /usr/lib/rabbitmq/bin/rabbitmq-server)")
    ap.add_argument("--count", type=int, default=200000, help="messages per run")
    ap.add_argument("--users", type=int, default=5000)
    ap.add_argument("--size", type=int, default=300, help="body bytes")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rate", type=float, default=10000, help="msg/s of the latency runs")
    ap.add_argument("--latency-count", type=int, default=20000)
    ap.add_argument("--zmq-hwm", type=int, default=1000,
                    help="messages the ZeroMQ publisher queues per hub before a send waits "
                         "(default 1000, ZeroMQ's default; before 2026-12-02 this bench used "
                         "1000000)")
    ap.add_argument("--idle", type=float, default=10,
                    help="seconds without a message, after the publisher ended, before a run "
                         "counts what is missing as lost")
    ap.add_argument("--systems", default=",".join(s[0] for s in SYSTEMS))
    ap.add_argument("--out", help="write cluster.csv, cluster_runs.csv, cluster.json here")
    ap.add_argument("--doc", action="store_true",
                    help="--out docs/data, draw docs/img/cluster.svg, rewrite docs/benchmarks.md's "
                         "cluster section")
    ap.add_argument("--redoc", action="store_true",
                    help="run nothing: redraw the plot and rewrite the docs section from "
                         "docs/data/cluster.json")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--quick", action="store_true", help="the ctest smoke run")
    a = ap.parse_args()
    if a.redoc:
        with open(f"{TOP}/docs/data/cluster.json") as f:
            saved = json.load(f)
        write_outputs(f"{TOP}/docs/data", saved["summary"], saved["runs"], saved["meta"])
        publish_doc(f"{TOP}/docs/data", saved["summary"], saved["meta"])
        return 0
    if a.quick:
        a.count, a.rounds, a.latency_count, a.idle = 3000, 1, 1000, 5
    a.plugin = a.plugin or f"{a.bin_dir}/libpc_plugin.so"
    a.hashspace = os.path.abspath(a.hashspace)
    systems = [s.strip() for s in a.systems.split(",") if s.strip()]
    for s in systems:
        if s not in BY_NAME:
            sys.exit(f"peers_cluster: unknown system '{s}' (expected one of: "
                     f"{', '.join(BY_NAME)})")
    for prog in ("pc_pub", "pc_sub"):
        if not os.access(f"{a.bin_dir}/{prog}", os.X_OK):
            sys.exit(f"peers_cluster: no {prog} in {a.bin_dir} (build the project with libnats-dev "
                     "and librabbitmq-dev installed, or pass --bin-dir)")
    if a.doc:
        a.out = f"{TOP}/docs/data"
    command = " ".join(["bench/peers_cluster/peers_cluster.py"] + [
        x for x in sys.argv[1:]])
    load_before = loadavg()
    tmp = tempfile.mkdtemp(prefix="peers_cluster.")
    bench = Bench(a, tmp)
    runs, failed = [], {}
    try:
        bench.start_servers({BY_NAME[s][2] for s in systems})
        active = [s for s in systems if BY_NAME[s][2] not in bench.skipped]
        for rnd in range(a.rounds):
            k = rnd % len(active) if active else 0
            order = active[k:] + active[:k]
            for mode in ("full", "paced"):
                for s in order:
                    if s in failed:
                        continue
                    n, rate = (a.count, 0) if mode == "full" else (a.latency_count, a.rate)
                    try:
                        r = bench.run(s, n, rate, seed=1000 * rnd + 1 + (mode == "paced"))
                    except (RuntimeError, OSError, ValueError, IndexError) as e:
                        failed[s] = str(e)
                        log(f"{s}: {e}; left out of the remaining rounds")
                        continue
                    r["round"] = rnd + 1
                    runs.append(r)
                    log(f"round {rnd + 1} {mode} {s}: {r['msg_per_s']:,.0f} msg/s, "
                        f"lost {r['lost']}, dup {r['duplicated']}, keys split {r['keys_split']}, "
                        f"CPU µs/msg server {r['server_cpu_us']:.1f} client {r['client_cpu_us']:.1f}"
                        + (f", p50 {r['p50_us']:.0f} µs p99 {r['p99_us']:.0f} µs" if rate else ""))
    finally:
        bench.stop_servers()
        if a.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    skipped = dict(bench.skipped)
    for s, why in failed.items():
        skipped[s] = f"failed: {why}"
    summary = [x for x in (summarise(runs, s) for s in systems) if x is not None]
    versions = {}
    if os.access(a.hashspace, os.X_OK):
        versions["hashspace"] = subprocess.run(
            [a.hashspace, "--version"], capture_output=True, text=True).stdout.strip().split()[-1] \
            + f" ({a.hashspace})"
    for name, srv in bench.servers.items():
        versions[name] = getattr(srv, "version", "?")
    if "rabbitmq" in bench.servers:
        versions["rabbitmq"] = f"{versions['rabbitmq']} (booted in {bench.servers['rabbitmq'].boot_s:.1f} s)"
    meta = dict(args=vars(a), command=command, machine=machine(), load_before=load_before,
                load_after=loadavg(), skipped=skipped, versions=versions)
    print(markdown_table(summary, a.rate))
    for r in ratios(summary):
        print(f"{r['system']} / {r['peer']}: {r['rate_ratio']:.2f}x delivered msg/s, "
              f"{xfmt(r['server_cpu_ratio'])} server CPU per message")
    for k, v in skipped.items():
        print(f"skipped {k}: {v}")
    if a.out:
        write_outputs(a.out, summary, runs, meta)
        log(f"data in {a.out}")
    if a.doc:
        publish_doc(a.out, summary, meta)
    # Counting is what the smoke run checks.
    bad = [f"{s['system']}: {s['lost']} lost, {s['duplicated']} duplicated"
           for s in summary if s["lost"] or s["duplicated"]]
    bad += [f"{s['system']}: {s['keys_split']} keys on more than one consumer"
            for s in summary if BY_NAME[s["system"]][3]["partitioned"] and s["keys_split"]]
    bad += [f"{s}: {why}" for s, why in failed.items()]
    for b in bad:
        log(f"CHECK FAILED {b}")
    if a.quick:
        if bad:
            return 1
        if not any(BY_NAME[s["system"]][2] in ("nats", "rabbitmq") for s in summary):
            log("skipped: neither NATS nor RabbitMQ could be started, nothing to compare with")
            return SKIP
    return 0


if __name__ == "__main__":
    sys.exit(main())
