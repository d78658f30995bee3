#!/usr/bin/python3
"""t_listener_caps - a flood of idle connections on one listener cannot lock out another.

The real daemon with a socketmap port, a policy port and a unix socketmap, all
capped at 100 connections. 120 idle clients on the policy port: the socketmap
still answers Postfix's own client 10 of 10. Then 120 idle clients on the inet
socketmap port: the policy port and the unix socketmap still answer 10 of 10.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("SRCDIR", "."), "test", "blackbox"))
sys.path.insert(0, os.path.join(os.environ.get("SRCDIR", "."), "test", "policy"))
import bblib  # noqa: E402
from t_policy_daemon import read_reply, request  # noqa: E402

CAP = 100
FLOOD = 120
RELAY_ANSWER = "[smtp.mailgun.org]:587, [smtp.eu.mailgun.org]:587"
POLICY_REQUEST = request(protocol_state="RCPT", protocol_name="ESMTP",
                         client_address="127.0.0.1", sender="alice@example.com",
                         recipient="bob@example.org")


def flood(port):
    """FLOOD idle connections (those over the cap get closed by the server)."""
    socks = []
    for _ in range(FLOOD):
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=10))
    return socks


def at_cap(port):
    """The server closes one more client: the connections before it, accepted
    first from the same queue, filled the cap."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        return bblib.closed_by_peer(s, 5)


def policy_ask(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(POLICY_REQUEST)
            return read_reply(s)
    except OSError:
        return None


def main():
    t = bblib.Tap()
    tmp = __import__("tempfile").mkdtemp(prefix="smarthostd-attack-")
    sock = os.path.join(tmp, "sockmap")
    d = bblib.start_daemon(t, tmp=tmp, policy=True,
                           extra=["--socketmap", "unix:" + sock,
                                  "--max-connections", str(CAP), "--threads", "2"])
    pport = d.pport
    try:
        t.ok(policy_ask(pport) is not None, "policy port answers before the flood")

        idle = flood(pport)
        t.ok(at_cap(pport), "the policy port is at its cap")
        answered = sum(d.postmap("alice@example.com", "relay")[:2] == (0, RELAY_ANSWER)
                       for _ in range(10))
        t.eq(answered, 10, "%d idle policy clients: socketmap answers postmap -q 10 of 10" % FLOOD)
        t.ok(policy_ask(pport) is None, "a further policy client is refused meanwhile")
        for s in idle:
            s.close()
        time.sleep(0.5)
        t.ok(policy_ask(pport) is not None, "policy port answers again after the flood")

        idle = flood(d.port)
        t.ok(at_cap(d.port), "the inet socketmap is at its cap")
        answered = sum((policy_ask(pport) or "").startswith("action=") for _ in range(10))
        t.eq(answered, 10, "%d idle socketmap clients: policy answers 10 of 10" % FLOOD)
        unix = "socketmap:unix:%s:relay" % sock
        answered = sum(d.postmap("alice@example.com", "relay", unix)[:2] == (0, RELAY_ANSWER)
                       for _ in range(10))
        t.eq(answered, 10, "%d idle inet socketmap clients: the unix socketmap answers 10 of 10"
             % FLOOD)
        rc = d.postmap("alice@example.com", "relay")[0]
        t.ok(rc != 0, "a further inet socketmap client is refused meanwhile")
        for s in idle:
            s.close()
    finally:
        t.eq(d.stop(), 0, "clean exit")
        d.cleanup()
    t.done()


main()
