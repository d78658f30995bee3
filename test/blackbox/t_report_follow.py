#!/usr/bin/env python3
"""t_report_follow - `smarthostctl report --follow` feeds a running smarthostd's metrics with
what `smarthostctl report` says of the same log lines (TAP).

The log is the committed excerpt of a real Postfix run (test/golden/report/maillog), written
the way a syslog daemon writes it: in pieces cut mid-line, rotated by rename (the writer still
appending to the old file for a moment) and by copytruncate, with a line too long to keep, and
before the daemon is there to take the counts. After each step the daemon's report_* counters
must equal `report --prometheus` over exactly the lines written since follow started, with
rows that are no relay of the daemon's config summed as "(other)".
"""
import os
import re
import signal
import subprocess
import tempfile
import time

import bblib

CTL = os.environ.get("SMARTHOSTCTL", "smarthostctl")
HERE = os.path.join(os.environ.get("SRCDIR", "."), "test", "golden", "report")
FAMILY = re.compile(r'^smarthostd_report_(messages|deferrals)_total\{relay="([^"]*)"'
                    r'(?:,status="([a-z]+)")?\} (\d+)$')
CONFIGURED = {"alpha", "beta", "strict", "dead", "direct"}


def samples(text, known=CONFIGURED):
    """{(family, relay, status): n} of the report_* families, unknown rows as (other)."""
    out = {}
    for line in text.splitlines():
        m = FAMILY.match(line)
        if not m or int(m.group(4)) == 0:
            continue
        relay = m.group(2) if m.group(2) in known else "(other)"
        key = (m.group(1), relay, m.group(3) or "")
        out[key] = out.get(key, 0) + int(m.group(4))
    return out


def ctl(*args, **kw):
    return subprocess.run([CTL] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=30, **kw)


def expected(conf, text, known=CONFIGURED):
    p = ctl("-c", conf, "report", "--prometheus", "-", input=text.encode())
    return samples(p.stdout.decode(), known)


def daemon_counts(control, known=CONFIGURED):
    p = ctl("stats", "--prometheus", "--control", control)
    return samples(p.stdout.decode(), known)


def settle(control, want, known=CONFIGURED, timeout=10.0):
    deadline = time.time() + timeout
    got = None
    while time.time() < deadline:
        got = daemon_counts(control, known)
        if got == want:
            return got
        time.sleep(0.2)
    return got


class Follower:
    def __init__(self, conf, control, log, tmp, user=None):
        self.err = os.path.join(tmp, "follow.err")
        self.out = os.path.join(tmp, "follow.out")
        cmd = [CTL, "-c", conf, "report", "--follow", "--control", control, log]
        if user:
            cmd = ["runuser", "-u", user, "-g", "nogroup", "--",
                   bblib.runnable_by(user, CTL) or CTL] + cmd[1:]
        with open(self.out, "wb") as o, open(self.err, "wb") as e:
            self.proc = subprocess.Popen(cmd, stdout=o, stderr=e)
        deadline = time.time() + 10
        while time.time() < deadline and "following" not in self.stdout():
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)

    def stdout(self):
        with open(self.out) as f:
            return f.read()

    def stderr(self):
        with open(self.err) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None


def append(path, text, pieces=1):
    """Write TEXT in PIECES writes cut anywhere, a moment apart, as a busy writer does."""
    step = max(1, len(text) // pieces)
    with open(path, "a") as f:
        for i in range(0, len(text), step):
            f.write(text[i:i + step])
            f.flush()
            time.sleep(0.05)


def daemon(tmp, name, conf_text, control, group=True):
    os.mkdir(os.path.join(tmp, name))
    extra = ["--control", "unix:" + control] + (["--control-group", "nogroup"] if group else [])
    return bblib.Daemon(config=conf_text, tmp=os.path.join(tmp, name), extra=extra)


def main():
    t = bblib.Tap()
    tmp = tempfile.mkdtemp(prefix="smarthostd-follow-")
    os.chmod(tmp, 0o755)
    conf = os.path.join(tmp, "report.conf")
    with open(os.path.join(HERE, "report.conf")) as f:
        conf_text = f.read()
    with open(conf, "w") as f:
        f.write(conf_text)
    with open(os.path.join(HERE, "maillog")) as f:
        lines = f.read().splitlines(keepends=True)
    first, second = "".join(lines[:30]), "".join(lines[30:])
    control = os.path.join(tmp, "control")
    log = os.path.join(tmp, "mail.log")
    with open(log, "w") as f:
        f.write(first)  # before follow starts: not counted
    d = daemon(tmp, "d", conf_text, control)
    fol = None
    try:
        if not t.ok(d.wait_ready(), "daemon started", d.log_text()):
            t.done()
        fol = Follower(conf, control, log, tmp)
        t.ok("following %s from its end" % log in fol.stdout(), "follow says what it reads",
             fol.stdout() + fol.stderr())
        fed = ""

        append(log, second, pieces=9)
        fed += second
        want = expected(conf, fed)
        t.ok(want.get(("messages", "alpha", "sent"), 0) > 0, "the excerpt has alpha deliveries",
             str(want))
        got = settle(control, want)
        t.eq(got, want, "lines written in pieces cut mid-line: the daemon has what report says")

        # A line longer than any log line, then whole lines: skipped, the rest counted.
        block = "Nov 30 19:45:01 lab postfix/smtp[1]: " + "x" * 20000 + "\n" + first
        append(log, block, pieces=4)
        fed += block
        want = expected(conf, fed)
        t.eq(settle(control, want), want, "a 20 kB line is skipped, what follows is counted")

        # Rotation by rename: the writer keeps the old file a moment, then a new one appears.
        os.rename(log, log + ".1")
        append(log + ".1", second)
        time.sleep(0.5)
        with open(log, "w") as f:
            f.write(first)
        fed += second + first
        want = expected(conf, fed)
        t.eq(settle(control, want), want,
             "rotated by rename: the old file read to its end, the new one from its start")

        # copytruncate: the same file cut to nothing, then written again.
        with open(log, "r+") as f:
            f.truncate(0)
        time.sleep(0.6)
        append(log, second)
        fed += second
        want = expected(conf, fed)
        t.eq(settle(control, want), want, "copytruncate: read again from the start")

        # The daemon goes away: counts are kept and fed when it is back.
        before_restart = daemon_counts(control)
        d.stop()
        append(log, first)
        time.sleep(1.5)
        t.ok("no smarthostd answers on" in fol.stderr(), "follow says the daemon is gone",
             fol.stderr())
        d = daemon(tmp, "d2", conf_text, control, group=False)
        t.ok(d.wait_ready(), "daemon started again", d.log_text())
        want = expected(conf, first)  # a new daemon counts from zero: what it missed
        t.eq(settle(control, want), want, "the counts kept while it was away reach the new daemon")
        t.ok("answers again" in fol.stderr(), "follow says it is back", fol.stderr())
        t.ok(before_restart != want, "(the restarted daemon did start from zero)")

        # A relay added to the config: follow reloads; the daemon counts it once it has it too.
        gamma_conf = conf_text.replace("};\nsenders", '    gamma = { host = "127.0.0.1"; port = 2609; };\n};\nsenders', 1)
        with open(conf + ".new", "w") as f:
            f.write(gamma_conf)
        os.rename(conf + ".new", conf)
        time.sleep(1.5)  # follow notices the change on its next second
        gline = ("Nov 30 19:46:01 lab postfix/smtp[2]: ABCDEF12345: to=<r@[127.0.0.2]>, "
                 "relay=127.0.0.1[127.0.0.1]:2609, delay=1, delays=0/0/0/0, dsn=2.0.0, "
                 "status=sent (250 ok)\n")
        append(log, gline)
        want = dict(want)
        want[("messages", "(other)", "sent")] = want.get(("messages", "(other)", "sent"), 0) + 1
        t.eq(settle(control, want), want, "a relay the daemon has not loaded yet counts as (other)")
        t.ok('has no relay "gamma"' in fol.stderr(), "and follow says why", fol.stderr())
        d.write_config(gamma_conf)
        d.signal(signal.SIGHUP)
        d.wait_log("reloaded configuration", 1)
        time.sleep(0.3)
        append(log, gline)
        known = CONFIGURED | {"gamma"}
        want[("messages", "gamma", "sent")] = 1
        t.eq(settle(control, want, known), want, "reloaded: the new relay has its own row")

        rc = fol.stop()
        t.ok(rc == 0 and "fed " in fol.stdout(), "SIGTERM: follow feeds what is left and exits 0",
             "rc=%s %s %s" % (rc, fol.stdout(), fol.stderr()))
        fol = None

        # Standing in for `tail -F | report --follow -`: a pipe, fed until it ends.
        d.stop()
        d = daemon(tmp, "d3", gamma_conf, control)
        t.ok(d.wait_ready(), "daemon started for the pipe and group checks", d.log_text())
        p = ctl("-c", conf, "report", "--follow", "--control", control, "-", input=second.encode())
        want = expected(conf, second, known)
        t.ok(p.returncode == 0, "stdin: exits 0 at its end", p.stderr.decode())
        t.eq(daemon_counts(control, known), want, "stdin: everything fed before exiting")

        # The control group may read stats, not feed counts: follow stops and says why.
        nob = Follower(conf, control, log, tmp, user="nobody")
        append(log, second)
        try:
            rc = nob.proc.wait(10)
        except subprocess.TimeoutExpired:
            rc = None
        nob.stop()
        t.ok(rc == 1 and "permission denied" in nob.stderr(),
             "a control-group member cannot feed counts (exit 1, says why)",
             "rc=%s %s" % (rc, nob.stderr()))
        t.eq(daemon_counts(control, known), want, "and nothing was counted from it")
        p = ctl("stats", "--prometheus", "--control", control)
        bblib.promtool_check(t, p.stdout.decode())

        # No LOGFILE and no /var/log/mail.log: journalctl -f, here a stand-in that records
        # its arguments, prints two short-iso lines and stays, as -f does.
        if os.path.exists("/var/log/mail.log"):
            t.ok(True, "journal follow # SKIP /var/log/mail.log exists here")
        else:
            os.mkdir(os.path.join(tmp, "bin"))
            fake = os.path.join(tmp, "bin", "journalctl")
            with open(fake, "w") as f:
                f.write("#!/bin/sh\nprintf '%%s\\n' \"$*\" >%s/journal-args\n"
                        "echo '2026-11-30T19:50:00+0000 mail postfix/qmgr[3]: ABCDEF12: "
                        "from=<a@alpha.test>, size=1, nrcpt=1 (queue active)'\n"
                        "echo '2026-11-30T19:50:01+0000 mail postfix/smtp[4]: ABCDEF12: to=<u@x>, "
                        "relay=127.0.0.1[127.0.0.1]:2601, dsn=2.0.0, status=sent (250 ok)'\n"
                        "exec sleep 60\n" % tmp)
            os.chmod(fake, 0o755)
            before = daemon_counts(control, known).get(("messages", "alpha", "sent"), 0)
            env = dict(os.environ, PATH=os.path.join(tmp, "bin") + ":" + os.environ["PATH"])
            j = subprocess.Popen([CTL, "-c", conf, "report", "--follow", "--control", control],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
            want_j = dict(daemon_counts(control, known))
            want_j[("messages", "alpha", "sent")] = before + 1
            got = settle(control, want_j, known)
            j.send_signal(signal.SIGTERM)
            out, err = j.communicate(timeout=10)
            with open(os.path.join(tmp, "journal-args")) as f:
                args = f.read().strip()
            t.eq(args, "-q --no-pager -o short-iso -u postfix* -f -n 0",
                 "the journal is followed from now on")
            t.eq(got, want_j, "journal lines are fed")
            t.ok(j.returncode == 0 and b"journalctl -f" in out,
                 "stopped with SIGTERM: exit 0, journalctl stopped too", (out + err).decode())
    finally:
        if fol:
            fol.stop()
        d.cleanup()
    t.done()


if __name__ == "__main__":
    main()
