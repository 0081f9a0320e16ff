#!/usr/bin/env bash
# demo.sh - `make demo`: dynamic membership on loopback. A redis-server the
# demo starts on a free port is the coordinator; four hubs (hub-a..hub-d)
# share a publisher's stream by msg.user; mid-stream a fifth (hub-e) joins,
# hub-b leaves with SIGTERM and hub-c is SIGKILLed. Every hub's file
# consumer appends to one shared file (in the order the hubs finished the
# messages) and to its own; the report counts every msg_id: sent,
# processed, lost, duplicates against the possible duplicates the hubs
# reported, per-user order (from the publisher's sequence number `i`), and
# how long each change took. While it runs, `hashspace dashboard` serves one
# live page for the five hubs and the coordinator's views (its address is
# printed first; each hub also serves its own page). Redis, the dashboard and
# the hubs are stopped by PID at the end.
#
# usage: scripts/demo.sh [PATH/TO/hashspace]
# Environment: DEMO_COUNT (default 180000), DEMO_RATE (msg/s, default 4000),
# DEMO_OUT (output directory, default demo-out next to the binary),
# DEMO_DASHBOARD (the dashboard's HOST:PORT, default 127.0.0.1:9950, or a
# free port when that one is taken), DEMO_HOLD (seconds to keep the hubs and
# the dashboard up after the messages are processed, default 0),
# DEMO_REDIS (the redis-server binary, default redis-server on PATH).
set -euo pipefail

bin=${1:-build/hashspace}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=/usr/bin/python3
count=${DEMO_COUNT:-180000}
rate=${DEMO_RATE:-4000}
out=${DEMO_OUT:-$(dirname "$bin")/demo-out}
hubs=(hub-a hub-b hub-c hub-d hub-e)
redis_bin=${DEMO_REDIS:-$(command -v redis-server || echo /usr/bin/redis-server)}

if [ ! -x "$bin" ]; then
  echo "demo: $bin is not an executable (build first: make build)" >&2
  exit 1
fi
if ! "$bin" hub --help 2>&1 | grep -- --coordinator >/dev/null; then
  echo "demo: this hashspace has no 'hub --coordinator' yet" >&2
  exit 1
fi
if [ ! -x "$redis_bin" ]; then
  echo "demo: redis-server not found (scripts/deps.sh installs it as root:" \
    "apt-get install redis-server)" >&2
  exit 1
fi

rm -rf "$out"
mkdir -p "$out"
# Free loopback ports: the bus, Redis and one metrics port per hub.
read -r -a ports <<<"$("$python" -c '
import socket
ss = [socket.socket() for _ in range(7)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')"
bus=tcp://127.0.0.1:${ports[0]}
redis_port=${ports[1]}
coordinator=redis://127.0.0.1:$redis_port
dashboard=${DEMO_DASHBOARD:-$("$python" -c '
import socket
s = socket.socket()
try:
    s.bind(("127.0.0.1", 9950))
except OSError:
    s.bind(("127.0.0.1", 0))
print("127.0.0.1:%d" % s.getsockname()[1])')}

pids=()
cleanup() {
  # The hubs demo_report.py started (it writes their PIDs), the dashboard,
  # then Redis: each by its PID.
  if [ -f "$out/hub-pids" ]; then
    while read -r pid; do kill -TERM "$pid" 2>/dev/null || true; done <"$out/hub-pids"
  fi
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$redis_bin" --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$out" >"$out/redis.log" 2>&1 &
pids+=($!)
echo "demo: redis-server (the coordinator) on $coordinator; output in $out"

metrics=()
addrs=()
for i in "${!hubs[@]}"; do
  addr=127.0.0.1:${ports[$((i + 2))]}
  metrics+=("${hubs[$i]}=$addr")
  addrs+=("$addr")
done
"$bin" dashboard --listen "$dashboard" --coordinator "$coordinator" --cluster demo \
  "${addrs[@]}" >"$out/dashboard.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
  grep -q "dashboard on" "$out/dashboard.log" 2>/dev/null && break
  sleep 0.1
done
if grep -q "dashboard on" "$out/dashboard.log"; then
  echo "demo: dashboard on http://$dashboard/ (each hub's own page: http://${addrs[0]}/ ...)"
else
  echo "demo: the dashboard did not start (see $out/dashboard.log); going on without it" >&2
fi

# Start four hubs, publish, let hub-e join, hub-b leave and hub-c crash,
# sample every hub's /metrics, then stop the hubs and count what they wrote.
status=0
"$python" "$here/demo_report.py" run --bin "$bin" --bus "$bus" --coordinator "$coordinator" \
  --count "$count" --rate "$rate" --out "$out" --hold "${DEMO_HOLD:-0}" "${metrics[@]}" ||
  status=1
"$python" "$here/demo_report.py" report --out "$out" || status=1
exit $status
