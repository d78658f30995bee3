"""Hostile input over a raw socket: PERM or disconnect, and the daemon keeps answering."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bblib  # noqa: E402
from bblib import netstring, query, read_netstring, closed_by_peer  # noqa: E402

MAILGUN = "OK [smtp.mailgun.org]:587, [smtp.eu.mailgun.org]:587"

t = bblib.Tap()
d = bblib.start_daemon(t)


def still_answers(label):
    s = d.connect()
    try:
        t.eq(query(s, "relay", "alice@example.com"), MAILGUN, "still answers after " + label)
    finally:
        s.close()


def expect_disconnect(raw, label):
    s = d.connect()
    try:
        s.sendall(raw)
        t.ok(closed_by_peer(s), label + ": disconnected")
    finally:
        s.close()
    still_answers(label)


try:
    # Framing errors: no reply, just a disconnect.
    expect_disconnect(b"hello world\r\n", "garbage")
    expect_disconnect(b"99999999999:relay a@b,", "huge length")
    expect_disconnect(b"2049:" + b"x" * 100, "length one over the 2048 limit")
    expect_disconnect(b"abc:relay a@b,", "non-numeric length")
    expect_disconnect(b"012:relay a@b.cd,", "leading zero")
    expect_disconnect(b"13:relay a@b.com;", "missing comma")
    expect_disconnect(b"\x00\xff\x01:", "binary bytes")
    t.ok("bad netstring" in d.log_text(), "framing errors are logged")

    # Well framed but invalid requests: PERM, and the connection stays usable.
    s = d.connect()
    r = query(s, "nomap", "a@b.com")
    t.ok(r is not None and r.startswith("PERM "), "unknown map -> PERM", r)
    r = query(s, "relay", "x" * 513)
    t.ok(r is not None and r.startswith("PERM "), "key of 513 bytes -> PERM", r)
    key = "a" * (512 - len("@b.com")) + "@b.com"
    t.eq(query(s, "relay", key), "OK [relay.isp.example]:25", "key of exactly 512 bytes is served")
    s.sendall(netstring("relay"))
    r = read_netstring(s)
    t.ok(r is not None and r.startswith("PERM "), "missing space -> PERM", r)
    s.sendall(netstring(" a@b.com"))
    r = read_netstring(s)
    t.ok(r is not None and r.startswith("PERM "), "empty map name -> PERM", r)
    s.sendall(netstring(b"relay a\x00b@example.com"))
    r = read_netstring(s)
    t.ok(r is not None and r.startswith("PERM "), "NUL byte in key -> PERM", r)
    s.sendall(netstring(""))
    r = read_netstring(s)
    t.ok(r is not None and r.startswith("PERM "), "empty request -> PERM", r)
    t.eq(query(s, "relay", "alice@example.com"), MAILGUN, "same connection still served")
    s.close()
    log = d.log_text()
    t.ok("x" * 200 not in log, "long keys are truncated in the log")

    # Postfix's own client on a PERM answer: an error, not a silent NOTFOUND.
    rc, out, err = d.postmap("a@b.com", None, table=d.sockmap("nomap"))
    t.ok(rc != 0 and out == "" and "permanent error" in err, "postmap sees the unknown map as an error",
         "rc=%d out=%r err=%r" % (rc, out, err))

    # Early disconnects: mid-length, mid-payload, and right after a request.
    for raw, label in [(b"20", "inside the length"), (b"20:relay a", "inside the payload"),
                       (netstring("relay alice@example.com"), "before reading the reply")]:
        s = d.connect()
        s.sendall(raw)
        s.close()
        still_answers("early disconnect " + label)

    # Pipelined requests in one write: answered in order.
    s = d.connect()
    s.sendall(netstring("relay alice@example.com") + netstring("sasl [smtp.mailgun.org]:587")
              + netstring("tls [nowhere.example]:25") + netstring("relay x@internal.example"))
    got = [read_netstring(s) for _ in range(4)]
    t.eq(got, [MAILGUN, "OK postmaster@mg.example.com:mg-secret-1", "NOTFOUND ", "NOTFOUND "],
         "four pipelined requests answered in order")
    # A request split into single bytes.
    s.settimeout(5)
    for b in netstring("relay bob@sub.example.com"):
        s.send(bytes([b]))
        time.sleep(0.001)
    t.eq(read_netstring(s), MAILGUN, "request sent one byte at a time")
    s.close()

    # Many pipelined requests without reading: the server must not lose any.
    s = d.connect()
    n = 2000
    s.sendall(netstring("relay alice@example.com") * n)
    got = 0
    s.settimeout(10)
    for _ in range(n):
        if read_netstring(s) == MAILGUN:
            got += 1
    t.eq(got, n, "%d pipelined requests, all answered" % n)
    s.close()
    still_answers("the tests above")

    # A flood of bad requests is answered in full but logged within a budget.
    before = d.log_text().count("unknown map")
    s = d.connect()
    n = 3000
    s.sendall(netstring("nosuchmap alice@example.com") * n)
    s.settimeout(10)
    perms = sum(1 for _ in range(n) if (read_netstring(s) or "").startswith("PERM "))
    s.close()
    t.eq(perms, n, "%d bad requests, every one answered PERM" % n)
    logged = d.log_text().count("unknown map") - before
    t.ok(0 < logged <= 3 * 20, "their warnings are rate-limited: %d lines logged" % logged)
    still_answers("the flood")
    # The budget renews each second: poll (bounded) with one bad request at a time.
    s = d.connect()
    deadline = time.time() + 5
    while "similar warnings suppressed" not in d.log_text() and time.time() < deadline:
        s.sendall(netstring("nosuchmap after@example.com"))
        read_netstring(s)
        time.sleep(0.2)
    s.close()
    t.ok("similar warnings suppressed" in d.log_text(),
         "a later warning reports how many were suppressed")
finally:
    rc = d.stop()
    t.eq(rc, 0, "clean exit")
    d.cleanup()
t.done()
