"""bblib - shared helpers for the smarthostd black-box tests (TAP, daemon, clients).

The tests start the real daemon in the foreground on a loopback port or a
unix socket in a temp dir, and query it with Postfix's own postmap client or a
raw socket. Nothing here touches the host's /etc/postfix or the network.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SMARTHOSTD = os.environ.get("SMARTHOSTD", "smarthostd")
POSTMAP = shutil.which("postmap") or "/usr/sbin/postmap"

BASE_CONFIG = """\
recipient_delimiter = "+";
implicit_tls_transport = "smarthost-smtps";
log_lookups = %(log_lookups)s;
default_relay = "isp";
credentials = {
    mailgun = { user = "postmaster@mg.example.com"; password = "mg-secret-1"; };
    ses     = { user = "AKIAEXAMPLE"; password = "ses-secret-2"; };
};
relays = {
    isp = { host = "%(isp_host)s"; port = 25; tls = "may"; };
    mailgun = {
        host = "smtp.mailgun.org"; port = 587; tls = "secure";
        tls_match = [ "nexthop", "dot-nexthop" ];
        credentials = "mailgun"; failover = [ "mailgun-eu" ];
    };
    mailgun-eu = { host = "smtp.eu.mailgun.org"; port = 587; tls = "secure"; credentials = "mailgun"; };
    ses = {
        host = "email-smtp.eu-west-1.amazonaws.com"; port = 465; implicit_tls = true;
        tls = "verify"; credentials = "ses";
    };
};
senders = (
    { match = [ "@example.com", "@.example.com" ]; relay = "mailgun"; },
    { match = "billing@example.com"; relay = "ses"; },
    { match = "@internal.example"; relay = "direct"; },
    { match = "<>"; relay = "isp"; }
);
transports = (
    { domain = "gmail.com"; transport = "slow:"; },
    { domain = ".lists.example"; transport = "bulk:[bulk.example]:25"; }
);
"""


def config_text(isp_host="relay.isp.example", log_lookups=True):
    return BASE_CONFIG % {"isp_host": isp_host, "log_lookups": "true" if log_lookups else "false"}


class Tap:
    """Minimal TAP producer; plan printed at the end."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        if not cond:
            self.failed += 1
        print("%sok %d - %s" % ("" if cond else "not ", self.n, name), flush=True)
        if not cond and diag is not None:
            for line in str(diag).splitlines()[:40]:
                print("# " + line, flush=True)
        return cond

    def eq(self, got, want, name):
        return self.ok(got == want, name, "got:  %r\nwant: %r" % (got, want))

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        sys.exit(1 if self.failed else 0)


def skip_all(reason):
    print("1..0 # SKIP %s" % reason, flush=True)
    sys.exit(0)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Daemon:
    """smarthostd -f in a temp dir; stderr captured to DIR/daemon.log.

    POLICY and METRICS add a --policy or --metrics listener on a free loopback port
    (self.pport, self.mport); CONTROL adds --control on DIR/control (self.control)."""

    def __init__(self, config=None, endpoints=None, extra=(), tmp=None, policy=False,
                 metrics=False, control=False):
        self.tmp = tmp or tempfile.mkdtemp(prefix="smarthostd-bb-")
        self.conf = os.path.join(self.tmp, "smarthostd.conf")
        self.log = os.path.join(self.tmp, "daemon.log")
        main_cf = os.path.join(self.tmp, "main.cf")
        with open(main_cf, "w"):
            pass  # postmap -c needs a main.cf, an empty one will do
        # Dated an hour back, as test/lib/postfix-lab.sh's lab_backdate does: Postfix
        # programs re-read a main.cf changed within the last two seconds until it is older.
        an_hour_ago = time.time() - 3600
        os.utime(main_cf, (an_hour_ago, an_hour_ago))
        if config is None:
            config = config_text()
        self.write_config(config)
        self.port = None
        if endpoints is None:
            self.port = free_port()
            endpoints = ["inet:127.0.0.1:%d" % self.port]
        self.endpoints = endpoints
        args = [SMARTHOSTD, "-f", "-c", self.conf]
        for ep in endpoints:
            args += ["--socketmap", ep]
        self.pport = self.mport = self.control = None
        if policy:
            self.pport = free_port()
            args += ["--policy", "inet:127.0.0.1:%d" % self.pport]
        if metrics:
            self.mport = free_port()
            args += ["--metrics", "inet:127.0.0.1:%d" % self.mport]
        if control:
            self.control = os.path.join(self.tmp, "control")
            args += ["--control", "unix:" + self.control]
        args += list(extra)
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(args, stdout=self.logf, stderr=self.logf)

    def write_config(self, text):
        """Replace the config atomically, as an operator's editor or deploy would."""
        tmp = self.conf + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.conf)

    def wait_ready(self, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            if "started with configuration" in self.log_text():
                return True
            time.sleep(0.02)
        return False

    def log_text(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, needle, count=1, timeout=10.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.log_text().count(needle) >= count:
                return True
            time.sleep(0.02)
        return False

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=10.0):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        return self.proc.returncode

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def sockmap(self, name):
        return "socketmap:inet:127.0.0.1:%d:%s" % (self.port, name)

    def postmap(self, key, name, table=None):
        """(exit code, stdout) of Postfix's own socketmap client."""
        p = subprocess.run([POSTMAP, "-c", self.tmp, "-q", key, table or self.sockmap(name)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        return p.returncode, p.stdout.decode().rstrip("\n"), p.stderr.decode()

    def connect(self, timeout=10.0):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        return s


def start_daemon(t, name="daemon started", **kwargs):
    """Daemon(**kwargs), once it has logged its start: one TAP point NAME. When it does not
    start, the point fails with its log, the daemon is stopped and the test ends."""
    d = Daemon(**kwargs)
    if not t.ok(d.wait_ready(), name, d.log_text()):
        d.cleanup()
        t.done()
    return d


def netstring(payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return b"%d:%s," % (len(payload), payload)


def read_netstring(sock):
    """One reply frame as str; None when the server closed the connection."""
    buf = b""
    while b":" not in buf:
        chunk = sock.recv(1)
        if not chunk:
            return None
        buf += chunk
    n = int(buf[:-1])
    data = b""
    while len(data) < n + 1:
        chunk = sock.recv(n + 1 - len(data))
        if not chunk:
            return None
        data += chunk
    if data[-1:] != b",":
        raise ValueError("reply without comma: %r" % data)
    return data[:-1].decode("utf-8", "replace")


def query(sock, name, key):
    sock.sendall(netstring("%s %s" % (name, key)))
    return read_netstring(sock)


def closed_by_peer(sock, timeout=5.0):
    """True when the server closed the connection (EOF or reset) within TIMEOUT."""
    sock.settimeout(timeout)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def promtool_check(t, text):
    """One TAP point: `promtool check metrics` accepts TEXT (a SKIP without promtool)."""
    promtool = shutil.which("promtool")
    if not promtool:
        return t.ok(True, "promtool check metrics # SKIP no promtool")
    p = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    return t.ok(p.returncode == 0, "promtool check metrics", p.stdout.decode())


def trickle_cut_off(sock, data, limit=12.0):
    """Send DATA a byte a second on SOCK; True when the server closed the connection
    before LIMIT seconds (a request timeout), False when it let the trickle run."""
    t0, closed = time.time(), False
    for b in data:
        try:
            sock.send(bytes([b]))
            time.sleep(1)
        except OSError:
            closed = True
            break
        if time.time() - t0 > limit:
            break
    if not closed:
        sock.settimeout(1)
        try:
            closed = sock.recv(100) == b""
        except OSError:
            closed = True
    sock.close()
    return closed and time.time() - t0 < limit


def exchange(sock, data, done=None):
    """Send DATA on the connected SOCK and read until the peer closes, a read fails
    or DONE(bytes so far) is true; the socket is closed. Returns the bytes read."""
    try:
        sock.sendall(data)
    except OSError:
        pass
    buf = b""
    try:
        while not (done and done(buf)):
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
    except OSError:
        pass
    sock.close()
    return buf


_user_bin = {}


def runnable_by(user, path):
    """PATH, or a copy USER may execute: a checkout under a 0700 directory (like /root)
    hides the built binaries from every other user, so they are copied once into a
    0755 temp directory (removed at exit). None when even that fails."""
    if subprocess.run(["runuser", "-u", user, "--", "test", "-x", path]).returncode == 0:
        return path
    if path in _user_bin:
        return _user_bin[path]
    import atexit
    d = tempfile.mkdtemp(prefix="smarthostd-bin-")
    atexit.register(shutil.rmtree, d, True)
    os.chmod(d, 0o755)
    dst = os.path.join(d, os.path.basename(path))
    shutil.copy2(path, dst)
    os.chmod(dst, 0o755)
    ok = subprocess.run(["runuser", "-u", user, "--", "test", "-x", dst]).returncode == 0
    _user_bin[path] = dst if ok else None
    return _user_bin[path]
