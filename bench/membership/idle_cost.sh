#!/bin/bash
# idle_cost.sh - what an idle hub costs: one hub fed 100 messages by a
# publisher that then stays connected and quiet, left idle (its ring empties
# after --ring-seconds 2); prints each thread's CPU time and context
# switches over 5 s (perf stat --per-thread). dynamic (the default)
# registers through a redis-server; static uses --members. (A hub whose
# publisher is gone also pays libzmq's reconnect attempts, 10 a second.)
#   usage: bench/membership/idle_cost.sh [dynamic|static]   (HS_BIN=build/hashspace)
set -e
H=${HS_BIN:-build/hashspace}
MODE=${1:-dynamic}
fp() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
P=$(fp); B=$(fp); W=$(fp)
OUT=$(mktemp -d /tmp/hs-idle-cost-XXXXXX)
if [ "$MODE" = static ]; then
  M="--members a"
else
  redis-server --port $P --bind 127.0.0.1 --save '' --appendonly no >/dev/null & RP=$!; sleep 0.3
  M="--coordinator redis://127.0.0.1:$P --cluster idle --ring-seconds 2"
fi
$H hub --connect tcp://127.0.0.1:$B $M --self a --metrics 127.0.0.1:$W --dead-letter none \
  --consumer "file:$OUT/out.jsonl" --log-level warn > "$OUT/hub.log" 2>&1 & HP=$!
/usr/bin/python3 -c '
import sys, time, zmq
s = zmq.Context().socket(zmq.XPUB)
s.bind("tcp://127.0.0.1:%s" % sys.argv[1])
s.recv()  # the hub subscribed
time.sleep(0.5)
for i in range(1, 101):
    s.send_multipart([b"org.idle", b"{\"msg\":{\"user\":\"u%d\"},\"i\":%d,\"username\":\"idle\"}" % (i, i)])
time.sleep(30)' $B & PP=$!
sleep 6
echo "$MODE hub, idle, 5 s:"
perf stat -e task-clock,context-switches --per-thread -p $HP -- sleep 5 2>&1 |
  grep -E "task-clock|context-switches" | grep -v "not counted" || echo "  no thread ran"
kill $HP; wait $HP || true
kill $PP
[ -n "$RP" ] && kill $RP
rm -rf "$OUT"
