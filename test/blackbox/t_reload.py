"""Reload under traffic: every answer is one of the configured values, never an error,
and each reload serves its new value at once;
a broken config keeps the old answers and the log says why."""
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bblib  # noqa: E402
from bblib import query  # noqa: E402

RELOADS = 8
KEY = "someone@other.org"  # served by the default relay, whose host we rewrite


def answer(host):
    return "OK [%s]:25" % host


t = bblib.Tap()
d = bblib.start_daemon(t, config=bblib.config_text("relay-0.example", log_lookups=False))
stop = threading.Event()
seen = {}       # answer -> count
bad = []        # unexpected answers
lock = threading.Lock()
allowed = {answer("relay-0.example")}


def traffic(persistent):
    """Ask in a loop, on one persistent connection or a new one per request."""
    deadline = time.time() + 60
    s = d.connect() if persistent else None
    try:
        while not stop.is_set() and time.time() < deadline:
            c = s or d.connect()
            try:
                r = query(c, "relay", KEY)
            except OSError as e:
                r = "socket error: %s" % e
            finally:
                if not persistent:
                    c.close()
            with lock:
                seen[r] = seen.get(r, 0) + 1
                if r not in allowed:
                    bad.append(r)
    finally:
        if s:
            s.close()


try:
    workers = [threading.Thread(target=traffic, args=(p,)) for p in (True, True, False)]
    for w in workers:
        w.start()
    time.sleep(0.2)
    for i in range(1, RELOADS + 1):
        host = "relay-%d.example" % i
        with lock:
            allowed.add(answer(host))  # old and new are both fine while it switches
        d.write_config(bblib.config_text(host, log_lookups=False))
        d.signal(signal.SIGHUP)
        if not d.wait_log("reloaded configuration", count=i):
            break
        # Once logged, the new snapshot serves even long-lived connections at once.
        s = d.connect()
        r = query(s, "relay", KEY)
        s.close()
        t.eq(r, answer(host), "reload %d: new answer at once" % i)
        time.sleep(0.1)

    # A broken config: the old snapshot stays.
    d.write_config(bblib.config_text("relay-x.example") + "\nthis is not libconfig\n")
    d.signal(signal.SIGHUP)
    t.ok(d.wait_log("reload failed: "), "broken config: reload failure logged")
    log = d.log_text()
    line = [l for l in log.splitlines() if "reload failed" in l]
    t.ok(line and d.conf + ":" in line[-1] and "keeping previous configuration" in line[-1],
         "the log line names FILE:LINE and keeps the old config", line)
    time.sleep(0.3)
    s = d.connect()
    t.eq(query(s, "relay", KEY), answer("relay-%d.example" % RELOADS), "old answers after a failed reload")
    s.close()

    # A good config again.
    d.write_config(bblib.config_text("relay-y.example", log_lookups=False))
    with lock:
        allowed.add(answer("relay-y.example"))
    d.signal(signal.SIGHUP)
    t.ok(d.wait_log("reloaded configuration", count=RELOADS + 1), "recovers with the next good config")
    s = d.connect()
    t.eq(query(s, "relay", KEY), answer("relay-y.example"), "new answer after recovery")
    s.close()
    time.sleep(0.2)
finally:
    stop.set()
    for w in workers if "workers" in dir() else []:
        w.join(30)
    total = sum(seen.values())
    t.ok(total > 100, "traffic ran during the reloads (%d lookups)" % total)
    t.ok(not bad, "every answer was an old or a new value, never an error",
         "%d bad, e.g. %r" % (len(bad), bad[:5]))
    t.diag("answers: %s" % sorted(seen.items()))
    t.eq(d.stop(), 0, "clean exit")
    d.cleanup()
t.done()
