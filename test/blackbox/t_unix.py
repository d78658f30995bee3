"""unix: endpoint: mode 0660, group, stale socket replaced, live socket refused, unlinked at exit."""
import grp
import os
import socket
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bblib  # noqa: E402

t = bblib.Tap()
tmp = tempfile.mkdtemp(prefix="smarthostd-bb-")
path = os.path.join(tmp, "smarthostd.sock")
group = grp.getgrgid(os.getegid()).gr_name  # a group we may always chown to

# A stale socket left by a crashed daemon: bound, never unlinked.
stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
stale.bind(path)
stale.close()

d = bblib.start_daemon(t, "daemon started over a stale socket", tmp=tmp,
                       endpoints=["unix:" + path], extra=["--socket-group", group])
try:
    st = os.stat(path)
    t.ok(stat.S_ISSOCK(st.st_mode), "socket exists")
    t.eq(oct(stat.S_IMODE(st.st_mode)), oct(0o660), "mode 0660")
    t.eq(st.st_gid, os.getegid(), "group set by --socket-group")
    if os.access(bblib.POSTMAP, os.X_OK):
        rc, out, err = d.postmap("alice@example.com", None, table="socketmap:unix:%s:relay" % path)
        t.ok(rc == 0 and out == "[smtp.mailgun.org]:587, [smtp.eu.mailgun.org]:587",
             "postmap over the unix socket", "rc=%d out=%r err=%r" % (rc, out, err))
    else:
        t.ok(True, "# SKIP postmap not installed")

    # A second daemon must not steal a live socket.
    p = subprocess.run([bblib.SMARTHOSTD, "-f", "-c", d.conf, "--socketmap", "unix:" + path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    t.ok(p.returncode == 1 and b"in use" in p.stderr, "second daemon on a live socket refused",
         p.stderr.decode())
    t.ok(os.path.exists(path), "live socket left alone")

    # A path that is not a socket is never removed.
    plain = os.path.join(tmp, "plain")
    open(plain, "w").close()
    p = subprocess.run([bblib.SMARTHOSTD, "-f", "-c", d.conf, "--socketmap", "unix:" + plain],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    t.ok(p.returncode == 1 and os.path.isfile(plain), "a regular file is not replaced",
         p.stderr.decode())
    # A later endpoint failing removes the unix socket an earlier one made.
    first = os.path.join(tmp, "first.sock")
    p = subprocess.run([bblib.SMARTHOSTD, "-f", "-c", d.conf, "--socket-group", group,
                        "--socketmap", "unix:" + first, "--socketmap", "unix:" + plain],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    t.ok(p.returncode == 1 and not os.path.exists(first),
         "startup failure unlinks the sockets already bound", p.stderr.decode())
    for bad in ["inet:127.0.0.1:0", "inet:127.0.0.1:65536", "inet:127.0.0.1:http",
                "inet:127.0.0.1", "tcp:127.0.0.1:25", "unix:"]:
        p = subprocess.run([bblib.SMARTHOSTD, "-f", "-c", d.conf, "--socketmap", bad],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        t.ok(p.returncode == 1, "endpoint %s refused" % bad, p.stderr.decode())
finally:
    t.eq(d.stop(), 0, "clean exit")
    t.ok(not os.path.exists(path), "socket unlinked at exit")
    d.cleanup()
t.done()
