"""hashspace.serve: an exec consumer of `hashspace hub` as one Python function.

    #!/usr/bin/python3
    import hashspace

    def handle(topic, body, message):
        if body["msg"]["user"] == "nobody":
            raise hashspace.Fail("no such user")   # retried, then dead-lettered
        store(body)                                # returning is "ok"

    hashspace.serve(handle)

and `hashspace hub ... --consumer 'exec:/usr/bin/python3 /srv/handle.py'`.
The protocol (docs/protocol.md, "exec consumers"): one JSON request per line
on stdin, exactly one answer line per request on stdout, in order. serve()
answers `ok` when the handler returns and `fail REASON` when it raises; the
hub retries a failed message up to the consumer's max_tries, then sends it
to the dead-letter file with the last REASON. The protocol has no other
answer: a "retry" is a fail on an attempt that is not the last
(message["attempt"] counts them).
"""
import base64
import json
import sys
import traceback

__all__ = ["Fail", "serve"]

# An answer line is at most 64 KiB; a reason is cut well before that.
REASON_MAX = 4000


class Fail(Exception):
    """Raise it from a handler to fail the message with this reason (no
    traceback in the log)."""


def _reason(text):
    text = " ".join(str(text).split())  # one line
    if len(text) > REASON_MAX:
        text = text[:REASON_MAX - 3] + "..."
    return text or "(no reason given)"


def _decode(request, name):
    """The topic or the body of a request: the JSON value, or bytes when the
    hub sent them in base64 (not UTF-8)."""
    if name + "_base64" in request:
        return base64.b64decode(request[name + "_base64"])
    return request.get(name)


def serve(handler, stdin=None, stdout=None, log=None):
    """Call handler(topic, body, message) for each message the hub sends, and
    answer for it; return at the end of input (the hub's shutdown).

    topic is a str, body the message's JSON value (a dict for fedmsg) or its
    text when it is not JSON, or bytes when it is not UTF-8 either; message
    is the whole request: topic, body, attempt (1, 2, ...), received (Unix
    time), and any key a later hub adds.

    A handler that returns answers "ok", whatever it returns. One that raises
    Fail(reason) answers "fail reason"; any other Exception answers
    "fail TYPE: message" and its traceback goes to the log (stderr). A
    request that is not JSON is failed the same way, so hub and consumer stay
    in step. While the handler runs, sys.stdout is the log: a stray print()
    cannot be taken for an answer. KeyboardInterrupt and SystemExit are not
    caught.

    stdin, stdout (binary files) and log (a text file) default to the
    process's own.
    """
    stdin = stdin if stdin is not None else sys.stdin.buffer
    answers = stdout if stdout is not None else sys.stdout.buffer
    log = log if log is not None else sys.stderr
    saved_stdout = sys.stdout
    sys.stdout = log
    try:
        for line in stdin:
            try:
                request = json.loads(line)
                if not isinstance(request, dict):
                    raise ValueError("a request is a JSON object")
            except ValueError as e:
                answer = "fail bad request: %s" % _reason(e)
            else:
                answer = _handle(handler, request, log)
            answers.write(answer.encode("utf-8") + b"\n")
            answers.flush()
    finally:
        sys.stdout = saved_stdout


def _handle(handler, request, log):
    try:
        handler(_decode(request, "topic"), _decode(request, "body"), request)
    except Fail as e:
        return "fail " + _reason(e)
    except Exception as e:  # the handler's bug fails this message, not the consumer
        traceback.print_exc(file=log)
        log.flush()
        return "fail " + _reason("%s: %s" % (type(e).__name__, e))
    return "ok"
