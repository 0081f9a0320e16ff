#!/usr/bin/env bash
# demo.sh - `make demo`: a publisher and four hubs on loopback. Each hub runs
# a fast consumer (file:) and a slow one (a Python exec consumer that spends
# about 1 ms per message); the publisher sends faster than the slow ones can
# follow, so their backlogs grow, then drain once publishing stops. Prints
# who took which share of the messages (counted from the consumers' outputs,
# by msg_id: duplicates and losses), each consumer's peak backlog and its
# catch-up time, then stops the hubs with SIGTERM (they drain and exit 0).
# While it runs, `hashspace dashboard` serves one live page for the four hubs
# (its address is printed first; each hub also serves its own page).
#
# usage: scripts/demo.sh [PATH/TO/hashspace]
# Environment: DEMO_COUNT (default 200000), DEMO_RATE (msg/s, default 10000),
# DEMO_SLEEP (slow consumer's seconds per message, default 0.001),
# DEMO_OUT (output directory, default demo-out next to the binary),
# DEMO_DASHBOARD (the dashboard's HOST:PORT, default 127.0.0.1:9950, or a
# free port when that one is taken), DEMO_HOLD (seconds to keep the hubs and
# the dashboard up after the messages are processed, default 0).
set -euo pipefail

bin=${1:-build/hashspace}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
python=/usr/bin/python3
count=${DEMO_COUNT:-200000}
rate=${DEMO_RATE:-10000}
sleep_s=${DEMO_SLEEP:-0.001}
out=${DEMO_OUT:-$(dirname "$bin")/demo-out}
hubs=(hub-a hub-b hub-c hub-d)
members=$(IFS=,; echo "${hubs[*]}")

if [ ! -x "$bin" ]; then
  echo "demo: $bin is not an executable (build first: make build)" >&2
  exit 1
fi
if ! "$bin" hub --help >/dev/null 2>&1; then
  echo "demo: this hashspace has no 'hub' command yet" >&2
  exit 1
fi

rm -rf "$out"
mkdir -p "$out"
# Free loopback ports: the bus and one metrics port per hub.
read -r -a ports <<<"$("$python" -c '
import socket
ss = [socket.socket() for _ in range(5)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')"
bus=tcp://127.0.0.1:${ports[0]}
dashboard=${DEMO_DASHBOARD:-$("$python" -c '
import socket
s = socket.socket()
try:
    s.bind(("127.0.0.1", 9950))
except OSError:
    s.bind(("127.0.0.1", 0))
print("127.0.0.1:%d" % s.getsockname()[1])')}

pids=()
stop_hubs() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
}
trap 'stop_hubs; wait' EXIT
trap 'exit 130' INT TERM

echo "demo: ${#hubs[@]} hubs ($members) on $bus; output in $out"
metrics=()
for i in "${!hubs[@]}"; do
  name=${hubs[$i]}
  addr=127.0.0.1:${ports[$((i + 1))]}
  metrics+=("$name=$addr")
  "$bin" hub --connect "$bus" --self "$name" --members "$members" \
    --key json:/msg/user --metrics "$addr" --queue-size 100000 \
    --dead-letter "file:$out/$name.dead-letter.jsonl" --log-level warn \
    --consumer "archive@file:$out/$name.archive.jsonl" \
    --consumer "badges@exec:$python $root/examples/consumers/slow_consumer.py --sleep $sleep_s --out $out/$name.badges.jsonl" \
    2>"$out/$name.log" &
  pids+=($!)
done

addrs=()
for m in "${metrics[@]}"; do addrs+=("${m#*=}"); done
"$bin" dashboard --listen "$dashboard" "${addrs[@]}" >"$out/dashboard.log" 2>&1 &
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

# Publish, sample every hub's /metrics until every backlog is back to zero,
# then stop the hubs and count what their consumers wrote.
"$python" "$here/demo_report.py" run --bin "$bin" --bus "$bus" --count "$count" \
  --rate "$rate" --out "$out" "${metrics[@]}"

if [ "${DEMO_HOLD:-0}" != 0 ]; then
  echo "demo: holding for ${DEMO_HOLD} s: http://$dashboard/"
  sleep "$DEMO_HOLD"
fi
echo "demo: stopping the hubs and the dashboard (SIGTERM: drain, then exit)"
stop_hubs
status=0
for i in "${!pids[@]}"; do
  name=${hubs[$i]:-dashboard}
  if wait "${pids[$i]}"; then
    echo "demo: $name exited 0"
  else
    rc=$?
    echo "demo: $name exited $rc (see $out/$name.log)" >&2
    status=1
  fi
done
pids=()
trap - EXIT

"$python" "$here/demo_report.py" report --count "$count" --out "$out" "${metrics[@]}" || status=1
exit $status
