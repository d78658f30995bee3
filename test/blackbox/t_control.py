#!/usr/bin/env python3
"""t_control - smarthostctl status/stats/route read a running smarthostd over its control
socket after real lookups (postmap -q) and policy requests; the numbers match what was
sent; the Prometheus text passes promtool; the socket is root's (TAP)."""
import os
import re
import socket
import stat
import subprocess

import bblib

CTL = os.environ.get("SMARTHOSTCTL", "smarthostctl")

POLICY = """
policy = {
    require_auth = [ "@example.com" ];
    rate_limits = ( { name = "per_sender"; per = "sender"; messages = 2; window = 3600; } );
};
"""


def ctl(*args, user=None):
    cmd = [CTL] + list(args)
    if user:
        cmd = ["runuser", "-u", user, "--", bblib.runnable_by(user, CTL) or CTL] + list(args)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def policy_request(port, sender, sasl="", state="RCPT"):
    req = ("request=smtpd_access_policy\nprotocol_state=%s\nsender=%s\nrecipient=x@y.example\n"
           "client_address=192.0.2.1\nsasl_username=%s\nsize=100\n\n" % (state, sender, sasl))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(req.encode())
        buf = b""
        while not buf.endswith(b"\n\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
    return buf.decode()


def value(stats, family, labels):
    for line in stats.splitlines():
        f = line.split()
        if len(f) >= 3 and f[0] == family and " ".join(f[1:-1]) == labels:
            return int(f[-1])
    return 0


def main():
    t = bblib.Tap()
    d = bblib.start_daemon(t, config=bblib.config_text(log_lookups=False) + POLICY,
                           tmp=__import__("tempfile").mkdtemp(prefix="smarthostd-ctl-"),
                           policy=True, control=True)
    pport, control = d.pport, d.control
    try:
        st = os.stat(control)
        t.eq((stat.S_IMODE(st.st_mode), st.st_uid), (0o600, 0), "control socket is 0600 root")

        # 5 relay lookups: 3 -> mailgun (2 by @example.com, 1 by @.example.com), 1 -> ses, 1 default
        senders = ["a@example.com", "b@example.com", "c@sub.example.com", "billing@example.com",
                   "x@other.example"]
        for s in senders:
            rc, out, err = d.postmap(s, "relay")
            t.ok(rc == 0, "postmap -q %s relay" % s, err)
        rc, out, _ = d.postmap("nobody@internal.example", "relay")  # direct: NOTFOUND
        for _ in range(2):
            d.postmap("a@example.com", "sasl")
        # policy: 1 require_auth reject, 3 authenticated messages (END-OF-MESSAGE) by one
        # sender: the third is over the limit of 2 messages
        policy_request(pport, "a@example.com")
        answers = [policy_request(pport, "u@other.example", "u", "END-OF-MESSAGE") for _ in range(3)]
        t.ok("DEFER_IF_PERMIT" in answers[2], "third request deferred by the rate limit", answers)

        rc, out, err = ctl("stats", "--control", control)
        t.eq(rc, 0, "smarthostctl stats exits 0")
        t.diag(out)
        t.eq(value(out, "lookups_total", "map=relay outcome=found"), 5, "5 relay lookups found")
        t.eq(value(out, "lookups_total", "map=relay outcome=notfound"), 1, "1 relay notfound")
        t.eq(value(out, "lookups_total", "map=sasl outcome=found"), 2, "2 sasl lookups")
        t.eq(value(out, "relay_routes_total", "relay=mailgun"), 3, "mailgun routed 3")
        t.eq(value(out, "relay_routes_total", "relay=ses"), 1, "ses routed 1")
        t.eq(value(out, "relay_routes_total", "relay=isp"), 1, "isp (default) routed 1")
        t.eq(value(out, "sender_rule_hits_total", "rule=@example.com"), 2, "rule @example.com 2")
        t.eq(value(out, "sender_rule_hits_total", "rule=@.example.com"), 1, "rule @.example.com 1")
        t.eq(value(out, "sender_rule_hits_total", "rule=default"), 1, "default relay 1")
        t.eq(value(out, "relay_routes_total", "relay=direct"), 1,
             "a direct route counts, though answered NOTFOUND")
        t.eq(value(out, "sender_rule_hits_total", "rule=@internal.example"), 1,
             "... and so does its rule")
        t.eq(value(out, "credentials_answers_total", "credentials=mailgun"), 2, "mailgun creds 2")
        t.eq(value(out, "relay_credentials_answers_total", "relay=mailgun"), 2,
             "credentials answered for relay mailgun 2")
        t.eq(value(out, "policy_rule_verdicts_total", "reason=require_auth rule=@example.com"), 1,
             "require_auth verdict by its rule @example.com")
        t.eq(value(out, "policy_rule_verdicts_total", "reason=rate-limit rule=per_sender"), 1,
             "rate-limit verdict by its limit per_sender")
        t.eq(value(out, "policy_rule_verdicts_total", "reason=none rule=-"), 0,
             "DUNNO has no rule row")
        t.eq(value(out, "policy_verdicts_total", "reason=require_auth"), 1, "1 require_auth")
        t.eq(value(out, "policy_verdicts_total", "reason=rate-limit"), 1, "1 rate-limit verdict")
        t.eq(value(out, "policy_verdicts_total", "reason=none"), 2, "2 DUNNO")
        t.eq(value(out, "ratelimit_deferrals_total", "limit=per_sender"), 1, "per_sender deferred 1")
        t.ok(value(out, "listener_accepted_total",
                   "listener=socketmap inet:127.0.0.1:%d" % d.port) >= 8, "socketmap accepted")
        t.ok("secret" not in out, "no password in stats")

        rc, prom, err = ctl("stats", "--prometheus", "--control", control)
        t.eq(rc, 0, "stats --prometheus exits 0")
        t.ok('smarthostd_relay_routes_total{relay="mailgun"} 3' in prom, "prometheus relay label")
        t.ok("# TYPE smarthostd_lookups_total counter" in prom, "prometheus TYPE line")
        bblib.promtool_check(t, prom)

        rc, out, err = ctl("status", "--control", control)
        t.eq(rc, 0, "smarthostctl status exits 0")
        t.diag(out)
        t.ok(re.search(r"^pid: %d$" % d.proc.pid, out, re.M), "status: pid", out)
        t.ok("relays: 4" in out and "credentials: 2" in out, "status: counts", out)
        t.ok(re.search(r"listener: socketmap inet:127.0.0.1:%d connections=\d+ max=4096" % d.port,
                       out), "status: listener with connections and cap", out)
        t.ok("last_reload: ok" in out, "status: last reload ok", out)

        # a broken reload shows in status, the counters stay
        d.write_config("relays = {")
        d.signal(__import__("signal").SIGHUP)
        d.wait_log("reload failed")
        rc, out, err = ctl("status", "--control", control)
        t.ok("last_reload: failed" in out and "last_reload_error: " in out, "status: failed reload",
             out)
        d.write_config(bblib.config_text(log_lookups=False) + POLICY)
        d.signal(__import__("signal").SIGHUP)
        d.wait_log("reloaded configuration")
        rc, out, err = ctl("stats", "--control", control)
        t.eq(value(out, "relay_routes_total", "relay=mailgun"), 3, "relay count survives reload")
        t.eq(value(out, "sender_rule_hits_total", "rule=@example.com"), 2,
             "rule count survives reload")

        rc, out, err = ctl("route", "--control", control, "billing@example.com")
        t.ok(rc == 0 and "source=daemon" in out and "relay_name=ses" in out,
             "route asks the daemon", out + err)

        # SIGUSR1: one summary line in the log
        d.signal(__import__("signal").SIGUSR1)
        t.ok(d.wait_log("stats: lookups=8 "), "SIGUSR1 logs a summary", d.log_text()[-2000:])

        # Postfix's host-keyed sasl lookups: a relay's nexthop is answered, a bare host never
        rc, out, err = d.postmap("[smtp.mailgun.org]:587", "sasl")
        t.ok(rc == 0 and out.startswith("postmaster@mg.example.com:"), "sasl by nexthop", err)
        rc, out, err = d.postmap("smtp.mailgun.org", "sasl")
        t.ok(rc == 1 and out == "", "sasl by bare host: not found", err)
        rc, out, err = ctl("stats", "--control", control)
        t.eq(value(out, "relay_credentials_answers_total", "relay=mailgun"), 3,
             "a nexthop key counts for its relay")
        t.ok("(host key)" not in out, "no bare host counter", out)

        # not root: refused (the socket's mode, and the daemon's uid check behind it)
        rc, out, err = ctl("status", "--control", control, user="nobody")
        t.ok(rc != 0 and "relays:" not in out, "nobody is refused", out + err)
    finally:
        d.cleanup()
    t.done()


if __name__ == "__main__":
    main()
