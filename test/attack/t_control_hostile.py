#!/usr/bin/python3
"""t_control_hostile - the control socket under hostile input, and nothing secret in its answers.

Over-long request lines, non-printable bytes, unknown verbs and a request trickled a byte a
second are answered with ERR or cut off, and the daemon keeps serving status; the deliveries
feed takes only counts it can judge and never turns a name it does not know into a label; no
answer of status, stats, stats prometheus, route or ratelimit show, nor the --metrics
listener's GET /metrics, carries a password (the fixture's passwords are searched for in every output,
as test/attack/t_cli_secrets.sh does for the CLI).
"""
import os
import socket
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.environ.get("SRCDIR", "."), "test", "blackbox"))
import bblib  # noqa: E402

CTL = os.environ.get("SMARTHOSTCTL", "smarthostctl")
SECRETS = ["mg-secret-1", "ses-secret-2"]


def talk(path, data, timeout=10.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    buf = bblib.exchange(s, data, lambda b: b.endswith(b"\n.\n"))
    return buf.decode("utf-8", "replace")


def main():
    t = bblib.Tap()
    d = bblib.start_daemon(t, tmp=tempfile.mkdtemp(prefix="smarthostd-ctlx-"), control=True,
                           metrics=True)
    control, mport = d.control, d.mport
    try:
        for s in ["a@example.com", "billing@example.com"]:
            d.postmap(s, "relay")
            d.postmap(s, "sasl")
        t.ok(talk(control, b"x" * 5000 + b"\n").startswith("ERR malformed"), "5000-byte line: ERR")
        t.ok(talk(control, b"x" * 100000).startswith("ERR malformed"), "100 kB without newline: ERR")
        t.ok(talk(control, b"stat\x00us\n").startswith("ERR malformed"), "NUL byte: ERR")
        t.ok(talk(control, b"\xff\xfe\n").startswith("ERR malformed"), "non-ASCII: ERR")
        t.ok(talk(control, b"shutdown now\n").startswith("ERR unknown request"), "unknown verb: ERR")
        t.ok(talk(control, b"route a b c d\n").startswith("ERR malformed"), "too many words: ERR")
        t.ok(talk(control, b"\n").startswith("ERR malformed"), "empty line: ERR")
        # two requests pipelined on one connection: both answered
        both = talk(control, b"status\nstats\n")
        t.ok(both.count("\n.\n") >= 1 and both.startswith("OK\n"), "pipelined requests answered")
        # slow: one byte a second; cut off after the request timeout (5 s)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(control)
        t.ok(bblib.trickle_cut_off(s, b"status-status-status\n"),
             "a request trickled a byte a second is cut off")
        out = talk(control, b"status\n")
        t.ok(out.startswith("OK\n") and "pid:" in out, "still serving status afterwards", out)

        # deliveries (report --follow's feed): only sane counts, only known names as labels
        for bad in (b"deliveries isp sent 0", b"deliveries isp sent -1", b"deliveries isp sent 1x",
                    b"deliveries isp sent 1000000001", b"deliveries isp sent " + b"9" * 400,
                    b"deliveries isp delivered 1", b"deliveries isp sent", b"deliveries"):
            t.ok(talk(control, bad + b"\n").startswith("ERR"), "%s: ERR" % bad[:48].decode())
        out = talk(control, b"deliveries isp sent 1000000000\n")
        t.ok(out.startswith("OK\n") and "relay=isp" in out, "the largest count is taken", out)
        flood = b"".join(b"deliveries bogus-%d bounced 1\n" % i for i in range(3000))
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        s.connect(control)
        got = bblib.exchange(s, flood, lambda b: b.count(b"\n.\n") >= 3000)
        t.ok(got.count(b"relay=(other)") == 3000, "3000 unknown relay names: all counted as (other)")
        prom = talk(control, b"stats prometheus\n")
        other = [x for x in prom.splitlines() if x.startswith("smarthostd_report_messages_total")]
        t.ok(other == ['smarthostd_report_messages_total{relay="isp",status="sent"} 1000000000',
                       'smarthostd_report_messages_total{relay="(other)",status="bounced"} 3000'],
             "one (other) row, no label per bogus name", "\n".join(other))
        t.ok("smarthostd_counters_overflow_total 0" in prom, "no counter slot overflowed")

        outputs = []
        for args in (["status"], ["stats"], ["stats", "--prometheus"],
                     ["route", "a@example.com"], ["route", "billing@example.com"]):
            p = subprocess.run([CTL] + args[:1] + ["--control", control] + args[1:]
                               if args[0] != "route" else [CTL, "route", "--control", control,
                                                             args[1]],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
            outputs.append(p.stdout.decode())
            t.ok(p.returncode == 0, "smarthostctl %s answers" % " ".join(args), p.stdout.decode())
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport, timeout=10) as r:
            outputs.append(r.read().decode())
        t.ok("smarthostd_credentials_answers_total" in outputs[-1], "GET /metrics answers")
        p = subprocess.run([CTL, "ratelimit", "show", "--control", control],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        outputs.append(p.stdout.decode())
        joined = "\n".join(outputs)
        t.ok("sasl_user=AKIAEXAMPLE" in joined, "route names the sasl user", joined)
        t.ok(not any(x in joined for x in SECRETS), "no password in any control or /metrics answer", joined)
        t.ok(not any(x in d.log_text() for x in SECRETS), "no password in the log")
    finally:
        d.cleanup()
    t.done()


if __name__ == "__main__":
    main()
