#!/bin/bash
# ring_memory.sh - the ring's memory per second of traffic: four dynamic hubs
# (a redis-server of its own) take RATE msg/s of `hashspace pub`'s fedmsg
# messages for SECS seconds (less than --ring-seconds, 30 s by default, so
# nothing is let go of); prints each hub's hashspace_ring_bytes and
# hashspace_ring_messages and the bytes per second of traffic.
#   usage: bench/membership/ring_memory.sh   (RATE=10000 SECS=10)
set -e
H=${HS_BIN:-build/hashspace}
RATE=${RATE:-10000}
SECS=${SECS:-10}
fp() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
P=$(fp); B=$(fp)
redis-server --port $P --bind 127.0.0.1 --save '' --appendonly no >/dev/null & RP=$!; sleep 0.3
pids=(); ports=()
for n in a b c d; do
  M=$(fp); ports+=($M)
  $H hub --connect tcp://127.0.0.1:$B --coordinator redis://127.0.0.1:$P --cluster rm \
    --join-wait 0 --self hub-$n --key json:/msg/user --consumer 'file:/dev/null' \
    --metrics 127.0.0.1:$M --log-level warn >/tmp/hs-ring-mem-hub-$n.log 2>&1 &
  pids+=($!)
done
sleep 6
$H pub --bind tcp://127.0.0.1:$B --count $((RATE * SECS)) --rate $RATE --keys 5000 \
  --wait-subscribers 4 2>&1 | tail -1
sleep 0.5
for M in "${ports[@]}"; do
  curl -s http://127.0.0.1:$M/metrics | awk -v secs=$SECS -v rate=$RATE '
    /^hashspace_ring_bytes / {b=$2} /^hashspace_ring_messages / {m=$2}
    /^hashspace_messages_claimed_total / {c=$2}
    END {printf "ring %d messages, %.1f MB: %.0f bytes each, %.2f MB per second of traffic at %d msg/s (claimed %d)\n", m, b/1e6, b/m, b/1e6/secs, rate, c}'
done
for p in "${pids[@]}"; do kill $p; done; sleep 1; kill $RP
