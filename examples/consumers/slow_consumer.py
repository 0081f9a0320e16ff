#!/usr/bin/python3
"""slow_consumer.py - an example exec consumer, and a stand-in for a slow one.

    hashspace hub ... --consumer 'exec:/usr/bin/python3 examples/consumers/slow_consumer.py --sleep 0.2'

Speaks the exec protocol of docs/protocol.md: reads one JSON request per line
on stdin, answers one line per request on stdout, logs on stderr, exits at
end of input. For each message it sleeps --sleep seconds (default 0.1, or
$SLOW_CONSUMER_SLEEP), then answers `ok`; with --out FILE it first appends
one JSON line per message to FILE: the consumer and worker names the hub gave
it, the attempt, the topic and the body's msg_id when there is one.
"""
import argparse
import json
import os
import sys
import time


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sleep", type=float,
                   default=float(os.environ.get("SLOW_CONSUMER_SLEEP", "0.1")),
                   help="seconds to spend on each message")
    p.add_argument("--out", help="append one JSON line per message to this file")
    args = p.parse_args()

    consumer = os.environ.get("HASHSPACE_CONSUMER", "?")
    worker = os.environ.get("HASHSPACE_WORKER", "?")
    out = open(args.out, "a", buffering=1) if args.out else None
    print("slow_consumer: consumer %s worker %s pid %d, %.3f s per message"
          % (consumer, worker, os.getpid(), args.sleep), file=sys.stderr)

    for line in sys.stdin:
        try:
            request = json.loads(line)
        except ValueError as e:
            # Answering keeps us in step with the hub; the message is retried.
            print(json.dumps({"ok": False, "error": "bad request: %s" % e}), flush=True)
            continue
        time.sleep(args.sleep)
        if out is not None:
            body = request.get("body")
            out.write(json.dumps({
                "consumer": consumer,
                "worker": worker,
                "attempt": request.get("attempt"),
                "topic": request.get("topic"),
                "msg_id": body.get("msg_id") if isinstance(body, dict) else None,
            }) + "\n")
        print("ok", flush=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
