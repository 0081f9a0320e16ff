#!/usr/bin/python3
"""exec_child.py - a configurable exec consumer for test_consumer_exec.

Reads one JSON line per message on stdin, answers one line on stdout.

  --answer TEXT      the answer line (default: ok)
  --env-answer       answer {"ok": false, "error": "consumer=C worker=W"}
  --record FILE      append every request line, as received, to FILE
  --pidfile FILE     append this process's pid to FILE at start
  --crash-every N    exit(3) without answering on this process's Nth message
  --exit-after N     exit(0) right after answering this process's Nth message
  --chatter          after each answer, also write an unsolicited line
  --sleep S          sleep S seconds before answering
  --hang-topic T     sleep 60 s before answering a message whose topic is T
  --ignore-term      ignore SIGTERM (the hub must then use SIGKILL)
  --answer-len N     answer {"ok": true, "pad": "xx..."}, padded to N bytes
                     (the newline not counted)
"""
import argparse
import json
import os
import signal
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--answer", default="ok")
p.add_argument("--env-answer", action="store_true")
p.add_argument("--record")
p.add_argument("--pidfile")
p.add_argument("--crash-every", type=int, default=0)
p.add_argument("--exit-after", type=int, default=0)
p.add_argument("--chatter", action="store_true")
p.add_argument("--sleep", type=float, default=0.0)
p.add_argument("--hang-topic")
p.add_argument("--ignore-term", action="store_true")
p.add_argument("--answer-len", type=int, default=0)
a = p.parse_args()

if a.ignore_term:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if a.pidfile:
    with open(a.pidfile, "a") as f:
        f.write("%d\n" % os.getpid())

seen = 0
for line in sys.stdin:
    seen += 1
    request = json.loads(line)  # a request that is not JSON kills us: the test sees it
    if a.record:
        with open(a.record, "a") as f:
            f.write(line)
    if a.crash_every and seen % a.crash_every == 0:
        sys.exit(3)
    if a.sleep:
        time.sleep(a.sleep)
    if a.hang_topic is not None and request.get("topic") == a.hang_topic:
        time.sleep(60)
    if a.env_answer:
        answer = json.dumps({"ok": False, "error": "consumer=%s worker=%s" % (
            os.environ.get("HASHSPACE_CONSUMER"), os.environ.get("HASHSPACE_WORKER"))})
    elif a.answer_len:
        frame = '{"ok": true, "pad": ""}'
        answer = frame[:-2] + "x" * (a.answer_len - len(frame)) + frame[-2:]
    else:
        answer = a.answer
    sys.stdout.write(answer + "\n")
    if a.chatter:
        sys.stdout.write("unsolicited\n")
    sys.stdout.flush()
    if a.exit_after and seen == a.exit_after:
        sys.exit(0)
