#!/usr/bin/python3
"""policy_log_flood - malformed policy requests must not flood the log (TAP).

2,500 connections each send one malformed request; the daemon disconnects
each. Its warnings share one rate-limited budget (msg_warn_rate: at most
MSG_RATE_BURST lines a second, plus one "suppressed" line), so the log grows
by a bounded number of lines, not one per connection.
"""
import math
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("SRCDIR", "."), "test", "blackbox"))
import bblib  # noqa: E402

CONNECTIONS = 2500
BURST = 20  # MSG_RATE_BURST in policy/util/msg.h

CONFIG = 'log_lookups = false;\npolicy = { require_auth = [ "@example.com" ]; };\n'


def main():
    t = bblib.Tap()
    d = bblib.start_daemon(t, config=CONFIG, policy=True)
    try:
        before = len(d.log_text().splitlines())
        start = time.time()
        closed = 0
        for i in range(CONNECTIONS):
            s = socket.create_connection(("127.0.0.1", d.pport), timeout=10)
            s.sendall(b"no equals sign on this line %d\n\n" % i)
            try:
                closed += s.recv(100) == b""
            except OSError:
                closed += 1
            s.close()
        took = time.time() - start
        time.sleep(0.5)  # the last lines reach the log
        lines = len(d.log_text().splitlines()) - before
        bound = BURST * (math.ceil(took) + 1) + math.ceil(took) + 1
        t.diag("%d malformed connections in %.1f s: %d log lines (bound %d)"
               % (CONNECTIONS, took, lines, bound))
        t.eq(closed, CONNECTIONS, "every malformed request is answered by a disconnect")
        t.ok(lines <= bound, "log lines are bounded by the warning budget (%d <= %d)"
             % (lines, bound), "\n".join(d.log_text().splitlines()[-5:]))
        s = socket.create_connection(("127.0.0.1", d.pport), timeout=10)
        s.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a@example.com\n\n")
        t.ok(s.recv(200).startswith(b"action=REJECT 5.7.1"), "the service still answers")
        s.close()
    finally:
        d.cleanup()
    t.done()


if __name__ == "__main__":
    main()
