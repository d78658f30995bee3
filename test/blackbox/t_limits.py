"""Idle timeout, connection cap and pidfile."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bblib  # noqa: E402
from bblib import query, closed_by_peer  # noqa: E402

MAILGUN = "OK [smtp.mailgun.org]:587, [smtp.eu.mailgun.org]:587"
t = bblib.Tap()
tmp = __import__("tempfile").mkdtemp(prefix="smarthostd-bb-")
pidfile = os.path.join(tmp, "smarthostd.pid")
d = bblib.start_daemon(t, tmp=tmp, extra=["--idle-timeout", "2", "--max-connections", "5",
                                          "--threads", "1", "--pidfile", pidfile])
try:
    with open(pidfile) as f:
        t.eq(f.read().strip(), str(d.proc.pid), "pidfile holds the daemon's pid")

    socks = [d.connect() for _ in range(5)]
    t.ok(all(query(s, "relay", "alice@example.com") == MAILGUN for s in socks), "5 connections served")
    extra = d.connect()
    t.ok(closed_by_peer(extra, 5), "a 6th connection over --max-connections 5 is closed")
    extra.close()
    t.ok(d.wait_log("refusing more"), "the refusal is logged")
    socks[0].close()
    time.sleep(0.2)
    s = d.connect()
    t.eq(query(s, "relay", "alice@example.com"), MAILGUN, "a slot frees up when a client leaves")
    socks[0] = s

    # Activity keeps a connection open; silence closes it after --idle-timeout.
    busy, idle = socks[1], socks[2]
    for _ in range(4):
        time.sleep(0.8)
        t.eq(query(busy, "relay", "alice@example.com"), MAILGUN, "busy connection still served")
    t.ok(closed_by_peer(idle, 3), "idle connection closed after the timeout")
    for s in socks:
        s.close()
finally:
    t.eq(d.stop(), 0, "clean exit")
    t.ok(not os.path.exists(pidfile), "pidfile removed at exit")
    d.cleanup()
t.done()
