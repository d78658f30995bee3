#!/usr/bin/python3
"""t_metrics_hostile - the --metrics HTTP listener under hostile requests.

A request line past the head bound, a head that never ends its line, POST and other methods,
path traversal and look-alike targets, HTTP/2 and garbage, control characters, and a request
trickled a byte a second: each gets 400/404/405/431 or is cut off within the request
timeout; the daemon keeps answering GET /metrics and counts the protocol errors (TAP).
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("SRCDIR", "."), "test", "blackbox"))
import bblib  # noqa: E402


def raw(port, data, timeout=10.0):
    return bblib.exchange(socket.create_connection(("127.0.0.1", port), timeout=timeout), data)


def main():
    t = bblib.Tap()
    d = bblib.start_daemon(t, metrics=True)
    port = d.mport
    try:
        cases = [
            (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n\r\n", b"HTTP/1.0 431 ", "5000-byte target"),
            (b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 5000 + b"\r\n\r\n", b"HTTP/1.0 431 ",
             "5000-byte header"),
            (b"GET /metrics HTTP/1.1" + b"x" * 5000, b"HTTP/1.0 431 ", "no CRLF, 5 kB"),
            (b"POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", b"HTTP/1.1 405 ", "POST"),
            (b"PUT /metrics HTTP/1.0\r\n\r\n", b"HTTP/1.0 405 ", "PUT"),
            (b"DELETE /metrics HTTP/1.0\r\n\r\n", b"HTTP/1.0 405 ", "DELETE"),
            (b"GET /../../etc/passwd HTTP/1.1\r\n\r\n", b"HTTP/1.1 404 ", "path traversal"),
            (b"GET /metrics/../../etc/shadow HTTP/1.1\r\n\r\n", b"HTTP/1.1 404 ",
             "traversal behind /metrics"),
            (b"GET /metrics%00 HTTP/1.1\r\n\r\n", b"HTTP/1.1 404 ", "encoded NUL"),
            (b"GET http://127.0.0.1/metrics HTTP/1.1\r\n\r\n", b"HTTP/1.1 404 ", "absolute form"),
            (b"GET /metrics HTTP/2.0\r\n\r\n", b"HTTP/1.0 400 ", "HTTP/2.0"),
            (b"GET /metrics\r\n\r\n", b"HTTP/1.0 400 ", "HTTP/0.9 style"),
            (b"GET /metr\x00ics HTTP/1.1\r\n\r\n", b"HTTP/1.0 400 ", "NUL in the line"),
            (b"GET /metrics HTTP/1.1\r\nX: a\rb\r\n\r\n", b"HTTP/1.0 400 ", "bare CR"),
            (b"GET /metrics HTTP/1.1\r\n folded\r\n\r\n", b"HTTP/1.0 400 ", "line folding"),
            (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n", b"HTTP/1.0 400 ", "TLS hello"),
            (b"get /metrics HTTP/1.1\r\n\r\n", b"HTTP/1.0 400 ", "lowercase method"),
        ]
        for req, want, name in cases:
            got = raw(port, req)
            t.ok(got.startswith(want) and b"smarthostd_" not in got, "%s: %s" % (name, want.decode()),
                 got[:200])
        # no line end at all, below the bound: cut off after the request timeout (5 s)
        s = socket.create_connection(("127.0.0.1", port), timeout=12)
        t0 = time.time()
        s.sendall(b"GET /metrics HTTP/1.1")
        try:
            closed = s.recv(100) == b""
        except OSError:
            closed = True
        s.close()
        t.ok(closed and time.time() - t0 < 8, "unfinished line: cut off after about 5 s")
        # slow: one byte a second
        s = socket.create_connection(("127.0.0.1", port), timeout=12)
        t.ok(bblib.trickle_cut_off(s, b"GET /metrics HTTP/1.1\r\n\r\n"),
             "a request trickled a byte a second is cut off")
        # pipelined: one answer, then closed
        got = raw(port, b"GET /metrics HTTP/1.1\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n")
        t.eq(got.count(b"HTTP/1.1 200 OK"), 1, "two pipelined requests: one answer, then close")
        got = raw(port, b"GET /metrics HTTP/1.0\r\n\r\n")
        t.ok(got.startswith(b"HTTP/1.0 200 OK"), "still serving afterwards", got[:200])
        name = "metrics inet:127.0.0.1:%d" % port
        t.ok(('smarthostd_listener_protocol_errors_total{listener="%s"}' % name).encode() in got
             and b'smarthostd_listener_timeouts_total{listener="' + name.encode() + b'"} 2' in got,
             "protocol errors and timeouts counted", got[-3000:])
    finally:
        d.cleanup()
    t.done()


if __name__ == "__main__":
    main()
