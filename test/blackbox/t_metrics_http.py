#!/usr/bin/env python3
"""t_metrics_http - smarthostd --metrics inet:127.0.0.1:PORT: GET /metrics over HTTP/1.0 and
1.1 (python urllib and raw sockets) answers the Prometheus text after real lookups, with the
counts that were sent; promtool check metrics passes on the body (TAP)."""
import os
import socket
import urllib.error
import urllib.request

import bblib



def raw(port, data, timeout=10.0):
    return bblib.exchange(socket.create_connection(("127.0.0.1", port), timeout=timeout), data)


def main():
    t = bblib.Tap()
    d = bblib.start_daemon(t, config=bblib.config_text(log_lookups=False), metrics=True)
    mport = d.mport
    try:
        t.ok("listening on inet:127.0.0.1:%d (metrics)" % mport in d.log_text(),
             "the log names the metrics listener", d.log_text())
        for s in ["a@example.com", "b@example.com", "x@other.example"]:
            d.postmap(s, "relay")
        url = "http://127.0.0.1:%d/metrics" % mport
        with urllib.request.urlopen(url, timeout=10) as r:
            status, ctype, body = r.status, r.headers.get("Content-Type"), r.read().decode()
        t.eq(status, 200, "GET /metrics: 200")
        t.eq(ctype, "text/plain; version=0.0.4; charset=utf-8", "Content-Type of the text format")
        t.ok('smarthostd_relay_routes_total{relay="mailgun"} 2' in body, "mailgun routed 2", body)
        t.ok('smarthostd_lookups_total{map="relay",outcome="found"} 3' in body,
             "3 relay lookups found", body)
        t.ok("# HELP smarthostd_lookups_total " in body and
             "# TYPE smarthostd_lookups_total counter" in body, "HELP and TYPE lines")
        bblib.promtool_check(t, body)

        r10 = raw(mport, b"GET /metrics HTTP/1.0\r\n\r\n")
        head, _, b10 = r10.partition(b"\r\n\r\n")
        t.ok(head.startswith(b"HTTP/1.0 200 OK\r\n") and b"Connection: close" in head,
             "HTTP/1.0: 200, closed after the reply", head)
        cl = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
        t.ok(cl and int(cl[0].split(b":")[1]) == len(b10), "Content-Length matches the body")
        r11 = raw(mport, b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n")
        t.ok(r11.startswith(b"HTTP/1.1 200 OK\r\n"), "HTTP/1.1 with headers: 200", r11[:200])
        t.ok(raw(mport, b"GET /metrics HTTP/1.1\n\n").startswith(b"HTTP/1.1 200 OK"),
             "bare LF line ends accepted")
        for req, want, name in [
            (b"HEAD /metrics HTTP/1.1\r\n\r\n", b"HTTP/1.1 405 ", "HEAD: 405"),
            (b"GET / HTTP/1.1\r\n\r\n", b"HTTP/1.1 404 ", "GET /: 404"),
        ]:
            got = raw(mport, req)
            t.ok(got.startswith(want), name, got[:200])
        try:
            urllib.request.urlopen(urllib.request.Request(url, data=b"x", method="POST"),
                                   timeout=10)
            t.ok(False, "POST: 405")
        except urllib.error.HTTPError as e:
            t.ok(e.code == 405 and e.headers.get("Allow") == "GET", "POST: 405 with Allow: GET")
        with urllib.request.urlopen(url, timeout=10) as r:
            later = r.read().decode()
        t.ok('smarthostd_listener_accepted_total{listener="metrics inet:127.0.0.1:%d"}' % mport
             in later, "the metrics listener counts its own connections", later)
    finally:
        d.cleanup()
    t.done()


if __name__ == "__main__":
    main()
