#!/usr/bin/python3
"""t_slowloris - a request must arrive whole within the request timeout.

Clients trickling one byte a second into a socketmap and a policy request are
closed once the request timeout (default 5 s) has passed since their first
byte, although every byte restarts the idle timer; a Postfix-like client that
sends whole requests seconds apart, and one whose request arrives in two parts
within the deadline, keep their connection and get answers.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("SRCDIR", "."), "test", "blackbox"))
sys.path.insert(0, os.path.join(os.environ.get("SRCDIR", "."), "test", "policy"))
import bblib  # noqa: E402
from t_policy_daemon import request  # noqa: E402

REQUEST_TIMEOUT = 5  # smarthostd's default --request-timeout
BOUND = REQUEST_TIMEOUT + 4  # closed by then, allowing for the once-a-second scan
RELAY_ANSWER = "OK [smtp.mailgun.org]:587, [smtp.eu.mailgun.org]:587"
POLICY_REQUEST = request(protocol_state="RCPT", protocol_name="ESMTP",
                         client_address="127.0.0.1", sender="alice@example.com",
                         recipient="bob@example.org")


def is_closed(s):
    """Non-blocking: True once the server has closed S."""
    s.setblocking(False)
    try:
        data = s.recv(4096)
        return data == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        s.setblocking(True)


def main():
    t = bblib.Tap()
    d = bblib.start_daemon(t, policy=True)
    try:
        # The trickled requests never finish within BOUND seconds.
        drips = {
            "socketmap": (socket.create_connection(("127.0.0.1", d.port), timeout=5),
                          bblib.netstring("relay " + "a" * 40 + "@example.com")),
            "policy": (socket.create_connection(("127.0.0.1", d.pport), timeout=5), POLICY_REQUEST),
        }
        steady = d.connect()  # Postfix-like: whole requests, idle in between
        split = d.connect()
        closed_at = {}
        answers = []
        start = time.monotonic()
        for second in range(BOUND + 1):
            for name, (s, data) in drips.items():
                if name in closed_at:
                    continue
                if is_closed(s):
                    closed_at[name] = time.monotonic() - start
                    continue
                try:
                    s.sendall(data[second:second + 1])
                except OSError:
                    closed_at[name] = time.monotonic() - start
            if second % 3 == 0:  # whole requests 3 s apart
                answers.append(bblib.query(steady, "relay", "alice@example.com"))
            if second == 1:
                split.sendall(bblib.netstring("relay alice@example.com")[:10])
            if second == 3:  # 2 s later, well within the deadline
                split.sendall(bblib.netstring("relay alice@example.com")[10:])
                answers.append(bblib.read_netstring(split))
            if len(closed_at) == len(drips) and second >= 7:
                break
            time.sleep(max(0.0, start + second + 1 - time.monotonic()))
        t.diag("closed after (s): %s" % closed_at)
        for name in drips:
            t.ok(name in closed_at and closed_at[name] <= BOUND,
                 "%s: a client sending 1 byte/s is closed within %d s" % (name, BOUND),
                 "closed after %s s" % closed_at.get(name))
            t.ok(closed_at.get(name, REQUEST_TIMEOUT) >= REQUEST_TIMEOUT - 1,
                 "%s: ... but not before the request timeout" % name,
                 "closed after %s s" % closed_at.get(name))
        t.ok(len(answers) >= 3 and all(a == RELAY_ANSWER for a in answers),
             "whole requests seconds apart and a request in two parts are all answered",
             answers)
        t.eq(bblib.query(steady, "relay", "alice@example.com"), RELAY_ANSWER,
             "the Postfix-like connection is still open")
        t.ok(d.wait_log("request incomplete after"), "the closed trickles are logged")
        for s, _ in drips.values():
            s.close()
        steady.close()
        split.close()
    finally:
        t.eq(d.stop(), 0, "clean exit")
        d.cleanup()
    t.done()


main()
