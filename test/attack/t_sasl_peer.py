#!/usr/bin/python3
"""t_sasl_peer - the sasl map's passwords go to root and Postfix's mail_owner only.

Postfix's own client (postmap -q) run as other users through runuser/setpriv
against the real daemon: over loopback TCP (IPv4 and IPv6) the peer's uid comes
from the kernel's socket table, over the unix socket from SO_PEERCRED. A refused
peer gets TEMP (mail waits), never the password and never NOTFOUND (mail would
go out without AUTH). The relay map stays open to every local user.
"""
import os
import pwd
import shutil
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get("SRCDIR", "."), "test", "blackbox"))
import bblib  # noqa: E402

SECRET = "mg-secret-1"
SASL_ANSWER = "postmaster@mg.example.com:" + SECRET
RELAY_ANSWER = "[smtp.mailgun.org]:587, [smtp.eu.mailgun.org]:587"


def have_ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def main():
    if os.geteuid() != 0:
        bblib.skip_all("needs root to run postmap as other users")
    for tool in ("runuser", "setpriv"):
        if shutil.which(tool) is None:
            bblib.skip_all("no %s" % tool)
    try:
        postfix = pwd.getpwnam("postfix")
    except KeyError:
        bblib.skip_all("no postfix user")
    t = bblib.Tap()
    tmp = __import__("tempfile").mkdtemp(prefix="smarthostd-attack-")
    os.chmod(tmp, 0o755)  # other users' postmap reads main.cf and reaches the socket here
    sock = os.path.join(tmp, "sockmap")
    port6 = bblib.free_port() if have_ipv6_loopback() else None
    extra = ["--socketmap", "unix:" + sock]
    if port6:
        extra += ["--socketmap", "inet:[::1]:%d" % port6]
    d = bblib.start_daemon(t, tmp=tmp, extra=extra)

    def postmap(cmd, key, table):
        p = subprocess.run(cmd + [bblib.POSTMAP, "-c", d.tmp, "-q", key, table],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        return p.returncode, p.stdout.decode().rstrip("\n"), p.stderr.decode()

    as_root = []
    as_postfix = ["runuser", "-u", "postfix", "--"]
    as_nobody = ["runuser", "-u", "nobody", "--"]
    # In group postfix (so the 0660 unix socket lets it connect) but not user postfix.
    nobody_in_postfix_group = ["setpriv", "--reuid=nobody", "--regid=nogroup",
                               "--groups=%d" % postfix.pw_gid]

    def refused(res, name):
        rc, out, err = res
        t.ok(rc != 0 and SECRET not in out and SECRET not in err, name + ": no password",
             "rc=%d out=%r err=%r" % res)
        t.ok("temporary error" in err, name + ": TEMP, not NOTFOUND", err)

    try:
        inet = d.sockmap("sasl")
        unix = "socketmap:unix:%s:sasl" % sock
        refused(postmap(as_nobody, "alice@example.com", inet), "inet, as nobody")
        t.ok(d.wait_log("sasl lookup refused to uid 65534"), "the refusal is logged with the uid")
        refused(postmap(as_nobody, "smtp.mailgun.org", inet), "inet, as nobody, by host")
        t.eq(postmap(as_root, "alice@example.com", inet)[:2], (0, SASL_ANSWER),
             "inet, as root: answered")
        t.eq(postmap(as_postfix, "alice@example.com", inet)[:2], (0, SASL_ANSWER),
             "inet, as postfix: answered")
        t.eq(postmap(as_nobody, "alice@example.com", d.sockmap("relay"))[:2], (0, RELAY_ANSWER),
             "inet, as nobody: the relay map still answers")
        t.eq(postmap(as_nobody, "[smtp.mailgun.org]:587", d.sockmap("tls"))[:2],
             (0, "secure match=nexthop:dot-nexthop"),
             "inet, as nobody: the tls map still answers")
        if port6:
            inet6 = "socketmap:inet:[::1]:%d:sasl" % port6
            refused(postmap(as_nobody, "alice@example.com", inet6), "inet6, as nobody")
            t.eq(postmap(as_postfix, "alice@example.com", inet6)[:2], (0, SASL_ANSWER),
                 "inet6, as postfix: answered")
        else:
            t.ok(True, "# SKIP no ::1")

        t.eq(postmap(as_postfix, "alice@example.com", unix)[:2], (0, SASL_ANSWER),
             "unix, as postfix: answered")
        t.eq(postmap(as_root, "alice@example.com", unix)[:2], (0, SASL_ANSWER),
             "unix, as root: answered")
        rc, out, err = postmap(as_nobody, "alice@example.com", unix)
        t.ok(rc != 0 and SECRET not in out and "Permission denied" in err,
             "unix, as nobody (no group): cannot connect", err)
        refused(postmap(nobody_in_postfix_group, "alice@example.com", unix),
                "unix, as nobody in group postfix")

        # A raw client as nobody that half-closes after its request: still refused.
        pid = os.fork()
        if pid == 0:
            try:
                os.setgid(65534)
                os.setuid(65534)
                s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
                s.sendall(bblib.netstring("sasl alice@example.com"))
                s.shutdown(socket.SHUT_WR)
                reply = bblib.read_netstring(s) or ""
                os._exit(0 if reply.startswith("TEMP ") and SECRET not in reply else 1)
            except BaseException:
                os._exit(2)
        t.eq(os.waitpid(pid, 0)[1], 0, "raw client as nobody, half-closed after the request: TEMP")
    finally:
        t.eq(d.stop(), 0, "clean exit")
        d.cleanup()

    # --sasl-users narrows the list to root alone; the daemon runs as an
    # unprivileged user (as packaged), and the kernel still names its peers.
    tmp = __import__("tempfile").mkdtemp(prefix="smarthostd-attack-")
    os.chmod(tmp, 0o755)
    d = bblib.Daemon(tmp=tmp, extra=["--sasl-users", "root", "-u", "nobody"])
    try:
        if t.ok(d.wait_ready(), "daemon with --sasl-users root -u nobody started"):
            refused(postmap(as_postfix, "alice@example.com", d.sockmap("sasl")),
                    "--sasl-users root: as postfix")
            t.eq(postmap(as_root, "alice@example.com", d.sockmap("sasl"))[:2], (0, SASL_ANSWER),
                 "--sasl-users root: as root answered")
        else:
            t.diag(d.log_text())
    finally:
        d.cleanup()
    t.done()


main()
