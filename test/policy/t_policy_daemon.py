#!/usr/bin/python3
"""t_policy_daemon - black-box tests of smarthostd --policy (SMTPD_POLICY_README).

Starts the real daemon on loopback ports in a temp dir and speaks the policy
protocol over raw sockets: framing, pipelining, unknown and repeated
attributes, oversized lines, garbage, early disconnect, the rule replies, a
reload, and 1,000 concurrent connections.
"""
import os
import resource
import selectors
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("SRCDIR", "."), "test", "blackbox"))
import bblib  # noqa: E402

CONFIG = """\
relays = { isp = { host = "relay.isp.example"; }; ses = { host = "ses.example"; port = 587; }; };
default_relay = "isp";
senders = ( { match = "@ses.test"; relay = "ses"; } );
log_lookups = false;
policy = {
  logins = ( { user = "alice@example.com"; senders = [ "alice@example.com", "@example.org" ]; } );
  require_auth = [ "@example.com" ];
  require_tls = [ "@secure.test" ];
  relay_guard = true;
  local_domains = [ "example.com" ];
  trusted_networks = [ "10.0.0.0/8", "::1" ];
  rate_limits = ( { name = "ses"; per = "relay"; relay = "ses"; messages = %(ses)d; window = 3600; } );
  max_size = ( { match = "@small.test"; bytes = 1000; } );
};
"""


def request(**attrs):
    lines = ["request=smtpd_access_policy"]
    lines += ["%s=%s" % (k, v) for k, v in attrs.items()]
    return ("\n".join(lines) + "\n\n").encode()


def read_reply(sock):
    """One reply as str (without the empty line); None when the server closed."""
    buf = b""
    while not buf.endswith(b"\n\n"):
        chunk = sock.recv(1)
        if not chunk:
            return None
        buf += chunk
    return buf[:-2].decode()


def ask(sock, **attrs):
    sock.sendall(request(**attrs))
    return read_reply(sock)


def main():
    t = bblib.Tap()
    d = bblib.start_daemon(t, config=CONFIG % {"ses": 2}, policy=True,
                           extra=["--max-connections", "1100"])
    try:
        def conn():
            return socket.create_connection(("127.0.0.1", d.pport), timeout=10)

        s = conn()
        t.eq(ask(s, sender="x@y.test", recipient="r@example.com", client_address="192.0.2.1"),
             "action=DUNNO", "plain request: DUNNO")
        t.eq(ask(s, sender="x@y.test", recipient="r@example.com", foo="bar", ccert_subject="CN=x",
                 client_address="192.0.2.1"),
             "action=DUNNO", "unknown attributes ignored, connection persistent")
        t.eq(ask(s, sender="bob@example.com", sasl_username="alice@example.com", queue_id="4F2A1B"),
             "action=REJECT 5.7.1 <bob@example.com>: Sender address rejected: not owned by user alice@example.com",
             "forged sender: REJECT with Postfix's wording")
        t.ok(d.wait_log("4F2A1B: policy: sender=<bob@example.com>"), "decision logged with the queue id",
             d.log_text())
        t.eq(ask(s, sender="carol@example.com"),
             "action=REJECT 5.7.1 <carol@example.com>: Sender address rejected: authentication required",
             "require_auth")
        t.eq(ask(s, sender="carol@secure.test", encryption_protocol=""),
             "action=REJECT 5.7.1 <carol@secure.test>: Sender address rejected: must use STARTTLS",
             "require_tls without TLS")
        t.eq(ask(s, sender="carol@secure.test", encryption_protocol="TLSv1.3"), "action=DUNNO",
             "require_tls with TLS")
        t.eq(ask(s, sender="x@y.test", recipient="r@gmail.test", client_address="198.51.100.9"),
             "action=REJECT 5.7.1 Relay access denied", "relay guard")
        t.eq(ask(s, sender="x@y.test", recipient="r@gmail.test", client_address="::1"),
             "action=DUNNO", "trusted IPv6 client may relay")

        # Repeated attribute: the last one wins.
        s.sendall(b"request=smtpd_access_policy\nsender=bob@example.com\nsender=alice@example.com\n"
                  b"sasl_username=alice@example.com\n\n")
        t.eq(read_reply(s), "action=DUNNO", "repeated attribute: last wins (own address)")
        s.sendall(b"request=smtpd_access_policy\nsender=alice@example.com\nsender=bob@example.com\n"
                  b"sasl_username=alice@example.com\n\n")
        t.ok((read_reply(s) or "").startswith("action=REJECT 5.7.1 <bob@example.com>"),
             "repeated attribute: last wins (forged)")

        # Pipelining and byte-at-a-time framing.
        s.sendall(request(sender="a@y.test") + request(sender="carol@example.com") + request(sender="b@y.test"))
        got = [read_reply(s) for _ in range(3)]
        t.ok(got[0] == "action=DUNNO" and got[1].startswith("action=REJECT") and got[2] == "action=DUNNO",
             "three pipelined requests answered in order", got)
        for b in request(sender="carol@example.com"):
            s.sendall(bytes([b]))
        t.ok((read_reply(s) or "").startswith("action=REJECT 5.7.1 <carol@example.com>"),
             "request sent one byte at a time")

        # Rate limit: relay ses allows 2 messages per hour.
        eom = dict(protocol_state="END-OF-MESSAGE", sender="a@ses.test")
        rcpt = dict(protocol_state="RCPT", sender="a@ses.test", recipient="r@example.com")
        got = [ask(s, **rcpt), ask(s, **eom), ask(s, **rcpt), ask(s, **eom), ask(s, **rcpt)]
        t.eq(got, ["action=DUNNO"] * 4 + ["action=DEFER_IF_PERMIT 4.7.1 Message rate limit exceeded, retry later"],
             "relay limit: the third message is deferred")

        # max_size at END-OF-MESSAGE (size = the actual message size there).
        big = dict(protocol_state="END-OF-MESSAGE", sender="a@small.test", queue_id="5B3C2D")
        t.eq(ask(s, size="1000", **big), "action=DUNNO", "max_size: at the limit")
        t.eq(ask(s, size="1001", **big), "action=REJECT 5.3.4 Message size exceeds fixed limit",
             "max_size: over the limit, smtpd's wording")
        t.ok(d.wait_log("5B3C2D: policy: sender=<a@small.test>"), "size decision logged with the queue id",
             d.log_text())
        s.close()

        # Malformed input: disconnect without a reply, and the daemon lives on.
        bad = {
            "oversized line": b"request=smtpd_access_policy\nhelo_name=" + b"a" * 5000 + b"\n\n",
            "line without '='": b"request=smtpd_access_policy\ngarbage\n\n",
            "binary garbage": bytes(range(256)) * 4,
            "NUL byte": b"request=smtpd_access_policy\nsender=a\x00b\n\n",
            "too many attributes": b"".join(b"x%d=1\n" % i for i in range(200)) + b"\n",
            "empty request": b"\n",
            "no request attribute": b"sender=a@b.test\nprotocol_state=RCPT\n\n",
            "another request type": b"request=junk_policy\nsender=a@b.test\n\n",
            "no newline, over the request limit": b"sender=" + b"x" * 20000,
        }
        for name, data in bad.items():
            c = conn()
            try:
                c.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
            closed = bblib.closed_by_peer(c)
            t.ok(closed, "%s: disconnected without a reply" % name)
            c.close()
        # Early disconnect mid-request.
        c = conn()
        c.sendall(b"request=smtpd_access_policy\nsender=half")
        c.close()
        s = conn()
        t.eq(ask(s, sender="x@y.test"), "action=DUNNO", "still serving after garbage and early disconnects")
        t.ok("malformed request" in d.log_text(), "malformed input is logged")
        t.ok('unrecognized request type "junk_policy"' in d.log_text(), "the request type is logged")

        # 1,000 concurrent connections, each with one request in flight.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = 1200
        if soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard) if hard > 0 else want, hard))
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        n = 1000 if soft >= 1100 else soft - 100
        socks = []
        t0 = time.time()
        for _ in range(n):
            socks.append(conn())
        for i, c in enumerate(socks):
            c.sendall(request(sender="u%d@example.org" % i, sasl_username="alice@example.com"))
        sel = selectors.DefaultSelector()
        bufs = {}
        for c in socks:
            c.setblocking(False)
            sel.register(c, selectors.EVENT_READ)
            bufs[c] = b""
        done = 0
        deadline = time.time() + 30
        while done < n and time.time() < deadline:
            for key, _ in sel.select(timeout=1):
                c = key.fileobj
                data = c.recv(4096)
                bufs[c] += data
                if not data or bufs[c].endswith(b"\n\n"):
                    sel.unregister(c)
                    done += 1
        good = sum(1 for c in socks if bufs[c] == b"action=DUNNO\n\n")
        t.eq(good, n, "%d concurrent connections all answered (%.2f s)" % (n, time.time() - t0))
        for c in socks:
            c.close()

        # Reload: a new policy takes effect on the open connection.
        d.write_config(CONFIG.replace('"@example.com" ];\n  require_tls', '"@example.com", "@y.test" ];\n  require_tls') % {"ses": 2})
        d.signal(signal.SIGHUP)
        t.ok(d.wait_log("reloaded configuration"), "reload")
        t.ok((ask(s, sender="x@y.test") or "").startswith("action=REJECT 5.7.1 <x@y.test>: Sender address rejected: authentication required"),
             "reloaded rule applies on a persistent connection")
        s.close()
        t.ok(d.proc.poll() is None, "daemon still running")
    finally:
        rc = d.stop()
        t.ok(rc == 0, "clean exit on SIGTERM (rc=%s)" % rc)
        if t.failed:
            t.diag(d.log_text()[-3000:])
        d.cleanup()
    t.done()


if __name__ == "__main__":
    main()
