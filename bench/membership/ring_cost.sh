#!/bin/bash
# ring_cost.sh - what dynamic membership costs a hub per message: two hubs
# share a bus and each owns half the keys, once with static --members (no
# ring, no message time) and once through a redis-server (each message's
# time read, the half it does not own kept in the ring); prints hub-a's CPU
# time (all its threads, from /proc) per message. Needs redis-server.
#   usage: bench/membership/ring_cost.sh static|dynamic   (N=200000 RATE=50000)
set -e
H=${HS_BIN:-build/hashspace}
N=${N:-200000}
fp() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
P=$(fp); B=$(fp)
redis-server --port $P --bind 127.0.0.1 --save '' --appendonly no >/dev/null & RP=$!; sleep 0.3
if [ "$1" = static ]; then
  M="--members hub-a,hub-b"
else
  M="--coordinator redis://127.0.0.1:$P --cluster m --heartbeat 0.2 --expiry 1 --lead-time 0.5 --join-wait 0"
fi
for n in a b; do $H hub --connect tcp://127.0.0.1:$B $M --self hub-$n --key json:/msg/user --consumer 'file:/dev/null' --log-level warn > /tmp/hs-ring-cost-hub-$n.log 2>&1 & echo $! > /tmp/hs-ring-cost-hub-$n.pid; done
sleep 2
$H pub --bind tcp://127.0.0.1:$B --count 1000 --rate 1000 --wait-subscribers 2 >/dev/null 2>&1
sleep 1
A=$(cat /tmp/hs-ring-cost-hub-a.pid)
t0=$(awk '{print $14+$15}' /proc/$A/stat)
$H pub --bind tcp://127.0.0.1:$B --count $N --rate ${RATE:-50000} --wait-subscribers 2 2>&1 | tail -1
sleep 2
t1=$(awk '{print $14+$15}' /proc/$A/stat)
echo "$1: hub-a CPU $(( t1 - t0 )) ticks for $N messages: $(echo "($t1-$t0)*10000/$N" | bc -l | cut -c1-6) us/msg"
for n in a b; do kill $(cat /tmp/hs-ring-cost-hub-$n.pid); done; sleep 1; kill $RP
