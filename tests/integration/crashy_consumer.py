#!/usr/bin/python3
"""crashy_consumer.py - an exec consumer for test_hub_exec: the first time it
sees a message whose body's "i" is in --crash-on it dies without answering;
in --hang-on, it hangs (until the hub's timeout kills it). It records every
message it handles.

  --out FILE        append one JSON line per handled message: msg_id, i, attempt, pid
  --state DIR       shared by its restarts: the messages it already crashed or
                    hung on, and a file pid-<pid> per process started
  --crash-on LIST   comma-separated values of the body's "i"
  --hang-on LIST    likewise
"""
import argparse
import json
import os
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--out", required=True)
p.add_argument("--state", required=True)
p.add_argument("--crash-on", default="")
p.add_argument("--hang-on", default="")
a = p.parse_args()
crash_on = {int(x) for x in a.crash_on.split(",") if x}
hang_on = {int(x) for x in a.hang_on.split(",") if x}
open(os.path.join(a.state, "pid-%d" % os.getpid()), "w").close()


def first_time(i):
    marker = os.path.join(a.state, "seen-%d" % i)
    if os.path.exists(marker):
        return False
    open(marker, "w").close()
    return True


with open(a.out, "a", buffering=1) as out:
    for line in sys.stdin:
        request = json.loads(line)
        body = request["body"]
        i = body["i"]
        if i in crash_on and first_time(i):
            print("crashy_consumer: crashing on i=%d" % i, file=sys.stderr, flush=True)
            os._exit(7)
        if i in hang_on and first_time(i):
            print("crashy_consumer: hanging on i=%d" % i, file=sys.stderr, flush=True)
            time.sleep(60)
        out.write(json.dumps({"msg_id": body["msg_id"], "i": i,
                              "attempt": request["attempt"], "pid": os.getpid()}) + "\n")
        print("ok", flush=True)
