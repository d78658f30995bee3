"""300 connections open at once, each served; then all of them again on the same connections."""
import os
import resource
import selectors
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bblib  # noqa: E402
from bblib import netstring  # noqa: E402

N = 300
WANT = {
    "relay alice@example.com": b"OK [smtp.mailgun.org]:587, [smtp.eu.mailgun.org]:587",
    "sasl billing@example.com": b"OK AKIAEXAMPLE:ses-secret-2",
    "relay someone@other.org": b"OK [relay.isp.example]:25",
}
REQS = list(WANT)

t = bblib.Tap()
d = bblib.start_daemon(t, extra=["--threads", "2"])


def round_trip(socks, label):
    """Send one request on every connection at once, then collect every reply."""
    sel = selectors.DefaultSelector()
    bufs = {}
    for i, s in enumerate(socks):
        s.setblocking(False)
        s.sendall(netstring(REQS[i % len(REQS)]))
        sel.register(s, selectors.EVENT_READ, i)
        bufs[i] = b""
    good = 0
    deadline = time.time() + 20
    while bufs and time.time() < deadline:
        for key, _ in sel.select(timeout=1):
            i = key.data
            chunk = key.fileobj.recv(4096)
            if not chunk:
                sel.unregister(key.fileobj)
                del bufs[i]
                continue
            bufs[i] += chunk
            b = bufs[i]
            if b.endswith(b","):
                want = WANT[REQS[i % len(REQS)]]
                if b == b"%d:%s," % (len(want), want):
                    good += 1
                sel.unregister(key.fileobj)
                del bufs[i]
    sel.close()
    t.eq(good, len(socks), "%s: %d of %d connections answered correctly" % (label, good, len(socks)))


try:
    socks = []
    try:
        for _ in range(N):
            socks.append(d.connect())
    except OSError as e:
        t.diag("connect: %s" % e)
    t.eq(len(socks), N, "%d connections open at once" % N)
    t0 = time.time()
    round_trip(socks, "first request")
    round_trip(socks, "second request, same persistent connections")
    t.diag("2 x %d requests in %.3f s" % (N, time.time() - t0))
    for s in socks:
        s.close()

    # The daemon promises at least 1024 at once; try 1100 when our own fd limit allows.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    except (ValueError, OSError):
        pass
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= 1200:
        socks = [d.connect() for _ in range(1100)]
        round_trip(socks, "1100 connections at once")
        for s in socks:
            s.close()
    else:
        t.ok(True, "# SKIP open file limit too low for 1100 client sockets")
    s = d.connect()
    s.settimeout(5)
    t.eq(bblib.query(s, "relay", "alice@example.com"), WANT["relay alice@example.com"].decode(),
         "answers after all closed")
    s.close()
finally:
    t.eq(d.stop(), 0, "clean exit")
    d.cleanup()
t.done()
