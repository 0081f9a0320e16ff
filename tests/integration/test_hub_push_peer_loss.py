"""test_hub_push_peer_loss.py - a push: consumer whose PULL peer (real
pyzmq) stops mid-stream. PUSH cannot confirm delivery, so what the hub had
handed to ZeroMQ for that peer is counted as possibly lost when the peer
disconnects: every message is received by the peer, dead-lettered (failed
or left at the drain deadline), or covered by
hashspace_consumer_possibly_lost_total, and the log says so."""
import os
import re
import sys
import tempfile
import time

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hubtest  # noqa: E402
from hubtest import Hub, Publisher, fedmsg_body, free_port, log, read_jsonl, wait_until  # noqa

N = 5000
READ = 1000  # the peer stops after this many


def main():
    work = tempfile.mkdtemp(prefix="hs-push-loss-")
    dead = os.path.join(work, "dead.jsonl")
    port = free_port()
    ctx = zmq.Context()
    peer = ctx.socket(zmq.PULL)
    peer.bind("tcp://127.0.0.1:%d" % port)
    pub = Publisher()
    hub = Hub(["--connect", pub.endpoint, "--self", "a", "--members", "a",
               "--key", "json:/msg/user", "--drain-timeout", "1", "--dead-letter", "file:" + dead,
               "--consumer", "fwd,timeout=0.2,max_tries=1@org.*=push:tcp://127.0.0.1:%d" % port],
              "push", work)
    try:
        hubtest.wait_subscribed(pub, [hub])
        sent = []
        for i in range(1, N + 1):
            body = fedmsg_body("org.push", {"user": "u%d" % (i % 50)}, i=i)
            sent.append(body.split(b'"msg_id":"')[1].split(b'"')[0].decode())
            pub.send("org.push", body)
        received = []
        peer.setsockopt(zmq.RCVTIMEO, int(hubtest.scaled(10) * 1000))
        while len(received) < READ:
            topic, body = peer.recv_multipart()
            received.append(re.search(rb'"msg_id":"([^"]+)"', body).group(1).decode())
        # Stop mid-stream: what libzmq holds for us is thrown away.
        peer.close(linger=0)
        wait_until(lambda: hub.metric("hashspace_consumer_possibly_lost_total",
                                      consumer="fwd") > 0, 10,
                   "the hub to count the disconnected peer's messages")

        def fwd():
            return [c for c in hub.status()["consumers"] if c["name"] == "fwd"][0]

        # Every message reaches the consumer's queue (slower under TSan: wait
        # for it rather than expect it at the moment the peer went away).
        wait_until(lambda: fwd()["routed"] == N, 30, "every message routed to fwd")
        status = fwd()
        assert status["possibly_lost"] > 0, status
        rc = hub.stop(timeout=30)
        text = hub.log()
        m = re.search(r"consumer fwd: ok (\d+), failed (\d+), dropped (\d+), left (\d+), "
                      r"restarts \d+, possibly lost (\d+)", text)
        assert m, "no summary with possibly lost in the log:\n" + text[-2000:]
        ok, failed, dropped, left, possibly_lost = map(int, m.groups())
        dead_ids = [r["body"]["msg_id"] for r in read_jsonl(dead)]
        got, dl = set(received), set(dead_ids)
        lost = set(sent) - got - dl
        log("push: sent %d; peer read %d then stopped; hub ok %d, failed %d, left %d, "
            "possibly lost %d; dead-lettered %d; actually lost %d" % (
                N, len(received), ok, failed, left, possibly_lost, len(dead_ids), len(lost)))
        assert rc == 0, text[-2000:]
        assert "may not have been delivered" in text
        assert len(got) == len(received), "the peer received a message twice"
        assert len(dl) == len(dead_ids), "a message was dead-lettered twice"
        assert not (got & dl), "a message both delivered and dead-lettered"
        assert ok + failed + left == N, (ok, failed, left)
        assert len(lost) <= possibly_lost, \
            "%d messages vanished, only %d counted possibly lost" % (len(lost), possibly_lost)
        assert got | dl | lost == set(sent)
    finally:
        hub.kill()
        pub.close()
        ctx.destroy(linger=0)
        hubtest.cleanup()


if __name__ == "__main__":
    main()
