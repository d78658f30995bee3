#!/usr/bin/python3
"""ratelimit_flood - distinct senders flood the in-memory rate-limit table (TAP).

Through the daemon's policy socket: 200,000 distinct senders (the table's
size) plus some more, pipelined, all inside one rate-limit window. A flood
must not switch the limits off: once the table is full a new sender is
deferred (4.7.1), whatever rate_fail_mode says, a sender already counted
keeps its budget, the "table full" warning is rate-limited, and once the
window has passed the table is reclaimed and new senders pass again.
"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("SRCDIR", "."), "test", "blackbox"))
import bblib  # noqa: E402

WINDOW = 15
TABLE = 200000  # RL_MEMORY_MAX_KEYS
EXTRA = 2000
BATCH = 2000

CONFIG = """\
log_lookups = false;
policy = {
  rate_limits = ( { name = "flood"; per = "sender"; messages = 2; window = %d; } );
  rate_fail_mode = "allow";
};
""" % WINDOW


def request(sender, state="RCPT"):
    return ("request=smtpd_access_policy\nprotocol_state=%s\nsender=%s\n"
            "recipient=r@example.com\nclient_address=127.0.0.2\n\n" % (state, sender)).encode()


def replies(sock, n, buf):
    """Read N replies ("action=...\\n\\n"); returns (list, leftover)."""
    out = []
    while len(out) < n:
        while b"\n\n" not in buf:
            chunk = sock.recv(1 << 16)
            if not chunk:
                raise EOFError("policy service closed the connection")
            buf += chunk
        line, buf = buf.split(b"\n\n", 1)
        out.append(line.decode())
    return out, buf


def ask(sock, sender, state="RCPT"):
    sock.sendall(request(sender, state))
    return replies(sock, 1, b"")[0][0]


def main():
    t = bblib.Tap()
    d = bblib.start_daemon(t, config=CONFIG, policy=True)
    try:
        # Start at the beginning of a window, so the whole flood falls into one.
        while int(time.time()) % WINDOW != 0:
            time.sleep(0.05)
        start = time.time()
        window_end = (int(start) // WINDOW + 1) * WINDOW
        s = socket.create_connection(("127.0.0.1", d.pport), timeout=30)
        counts = {}
        buf = b""
        for first in range(0, TABLE + EXTRA, BATCH):
            blob = b"".join(request("f%d@flood.test" % i) for i in range(first, first + BATCH))
            s.sendall(blob)
            got, buf = replies(s, BATCH, buf)
            for r in got:
                word = r.split(" ", 1)[0]
                counts[word] = counts.get(word, 0) + 1
        took = time.time() - start
        t.diag("flood of %d senders took %.1f s: %r" % (TABLE + EXTRA, took, counts))
        t.ok(counts.get("action=DUNNO", 0) == TABLE,
             "the table's %d senders are admitted (and counted)" % TABLE, counts)
        t.ok(counts.get("action=DEFER_IF_PERMIT", 0) == EXTRA,
             "every sender past the full table is deferred, not waved on", counts)
        if time.time() >= window_end - 1:
            t.ok(False, "the flood fits in one %d s window (took %.1f s)" % (WINDOW, took))
            t.done()
        fresh = ask(s, "fresh@victim.test")
        t.eq(fresh, "action=DEFER_IF_PERMIT 4.7.1 Rate limit service busy, retry later",
             "a fresh sender after the flood is deferred (fail mode allow notwithstanding)")
        counted = [ask(s, "f7@flood.test", "END-OF-MESSAGE") for _ in range(2)]
        counted.append(ask(s, "f7@flood.test"))
        t.ok(counted[:2] == ["action=DUNNO"] * 2 and
             counted[2].startswith("action=DEFER_IF_PERMIT 4.7.1 Message rate"),
             "a sender counted before the flood keeps its limit (2 per window)", counted)
        full_lines = d.log_text().count("counter table full")
        t.ok(1 <= full_lines <= int(time.time() - start) // 10 + 2,
             "the 'table full' warning is rate-limited (%d lines in %.0f s)"
             % (full_lines, time.time() - start))
        while time.time() < window_end + 0.5:
            time.sleep(0.2)
        t.eq(ask(s, "fresh@victim.test"), "action=DUNNO",
             "after the window the table is reclaimed: the fresh sender passes")
        t.eq(ask(s, "another@victim.test"), "action=DUNNO", "... and so does another")
        s.close()
    finally:
        d.cleanup()
    t.done()


if __name__ == "__main__":
    main()
