"""Signal storms against both daemons loaded with a ~150k-rule config (test/bench/gen_config.py).

SIGHUPs 50-200 ms apart, nearly all landing in a running load of a few tenths of a
second: smarthostd-milter under miltertest traffic and smarthostd under socketmap traffic
stay up, answer every request throughout, and end serving the file as it was at the last
SIGHUP. Then a SIGHUP sent to libmilter's own signal thread (which stops the milter on
it) must make the milter exit non-zero, so that Restart=on-failure brings it back."""
import ctypes
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bblib  # noqa: E402

SRCDIR = os.environ["SRCDIR"]
MILTER = os.environ["SMARTHOSTD_MILTER"]
MT_STORM = os.path.join(SRCDIR, "test/milter/mt_storm.lua")
RULES = 150000
HUPS = 20
# default_relay = rK: relays r4.. with K % 3 != 0 are "relayK.bench.test" port 25
STORM_RELAYS = [4, 5, 7, 8, 10, 11, 13, 14, 16, 19]
FINAL = 17  # never used by the storm: seeing it proves the last load read the last file
KEY = "someone@unmatched.example"  # no rule matches: the default relay answers

t = bblib.Tap()
tmp = tempfile.mkdtemp(prefix="smarthostd-storm-")
body = os.path.join(tmp, "body.conf")
conf = os.path.join(tmp, "smarthostd.conf")
procs = []


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    subprocess.run(["rm", "-rf", tmp])


def write_conf(k):
    """The small main file over the big generated body, replaced atomically."""
    with open(conf + ".new", "w") as f:
        f.write('@include "body.conf"\ndefault_relay = "r%d";\n'
                'milter = { hostname = "gen%d.example.test"; };\n' % (k, k))
    os.rename(conf + ".new", conf)


def wait(cond, secs):
    deadline = time.time() + secs
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def log_of(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def start(args, log):
    p = subprocess.Popen(args, stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    procs.append(p)
    ok = wait(lambda: p.poll() is not None or "started with configuration" in log_of(log), 120)
    return p if ok and p.poll() is None else None


def storm(proc):
    """HUP, 0.2 s, HUP (the reported sequence), then the rest at 50-200 ms; the file
    changes before each, and the last one follows the final file."""
    rng = random.Random(20261208)
    for i in range(HUPS):
        write_conf(FINAL if i == HUPS - 1 else STORM_RELAYS[i % len(STORM_RELAYS)])
        if proc.poll() is not None:
            return False
        proc.send_signal(signal.SIGHUP)
        time.sleep(0.2 if i == 0 else rng.uniform(0.05, 0.2))
    return proc.poll() is None


def status(pidfile):
    try:
        with open(pidfile + ".status") as f:
            return dict(line.split("=", 1) for line in f.read().splitlines() if "=" in line)
    except OSError:
        return {}


def tgkill(pid, tid, sig):
    nr = {"x86_64": 234, "aarch64": 131}.get(os.uname().machine)
    if nr is None:
        return False
    return ctypes.CDLL(None, use_errno=True).syscall(nr, pid, tid, sig) == 0


def sigwaiting_threads(pid):
    """The milter's threads other than main that sit in sigwait (libmilter's)."""
    found = []
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/wchan" % (pid, tid)) as f:
                if "sigtimedwait" in f.read() and int(tid) != pid:
                    found.append(int(tid))
        except OSError:
            pass
    return found


try:
    gen = subprocess.run([sys.executable, os.path.join(SRCDIR, "test/bench/gen_config.py"),
                          "-o", body + ".gen", "-r", str(RULES), "--log-lookups", "false"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if gen.returncode != 0:
        print("Bail out! gen_config.py: %s" % gen.stdout.decode(), flush=True)
        sys.exit(1)
    with open(body + ".gen") as src, open(body, "w") as dst:
        dst.writelines(line for line in src if not line.startswith("default_relay"))
    write_conf(STORM_RELAYS[0])
    began = time.monotonic()
    chk = subprocess.run([MILTER, "-n", "-c", conf], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t.ok(chk.stdout == b"configuration OK\n", "the %d-rule config checks" % RULES, chk.stderr)
    t.diag("one load (milter -n): %.2f s" % (time.monotonic() - began))

    # --- smarthostd-milter under miltertest traffic
    have_mt = subprocess.run(["sh", "-c", "command -v miltertest"], stdout=subprocess.PIPE).returncode == 0
    if not have_mt:
        for _ in range(8):
            t.n += 1
            print("ok %d # SKIP miltertest not installed" % t.n, flush=True)
    else:
        msock = os.path.join(tmp, "milter.sock")
        mpid = os.path.join(tmp, "milter.pid")
        mlog = os.path.join(tmp, "milter.log")
        m = start([MILTER, "-f", "-c", conf, "-p", "unix:" + msock, "--pidfile", mpid], mlog)
        if not t.ok(m is not None, "milter started", log_of(mlog)):
            t.done()
        stop_file = os.path.join(tmp, "stop-traffic")
        env = dict(os.environ, MT_LIB=os.path.join(SRCDIR, "test/milter/mt_lib.lua"),
                   MILTER_SOCK="unix:" + msock, STOP_FILE=stop_file, STORM_SECS="100")
        traffic = [subprocess.Popen(["miltertest", "-s", MT_STORM], env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                   for _ in range(2)]
        procs.extend(traffic)
        t.ok(storm(m), "milter up after %d SIGHUPs at 50-200 ms, most during a load" % HUPS,
             log_of(mlog)[-3000:])

        def final_id():
            r = subprocess.run(["miltertest", "-s", MT_STORM], env=dict(env, ONCE="1"),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
            return r.stdout.decode("utf-8", "replace")

        seen = ""

        def at_final():
            global seen
            seen = final_id()
            return "@gen%d.example.test>" % FINAL in seen

        t.ok(m.poll() is None and wait(at_final, 120),
             "milter ends with the config of the last SIGHUP", seen + log_of(mlog)[-2000:])
        open(stop_file, "w").close()
        outs = [p.communicate(timeout=60)[0].decode("utf-8", "replace") for p in traffic]
        t.ok(all(p.returncode == 0 for p in traffic),
             "miltertest traffic answered throughout (%s)"
             % ", ".join(re.findall(r"messages=\d+", "".join(outs))), "".join(outs)[-2000:])
        t.ok(m.poll() is None, "milter still running after the traffic")
        st = status(mpid)
        t.ok(st.get("result") == "ok" and int(st.get("generation", "0")) >= 2,
             "status file: last load ok, generation %s" % st.get("generation"), st)
        t.diag("milter reloads: %d" % log_of(mlog).count("reloaded configuration"))

        # libmilter stopping unasked (its signal thread takes a SIGHUP) is a failure
        tids = []

        def find_tids():
            tids[:] = [] if m.poll() is not None else sigwaiting_threads(m.pid)
            return bool(tids) or m.poll() is not None

        wait(find_tids, 10)
        if not tids or not tgkill(m.pid, tids[0], signal.SIGHUP):
            t.ok(False, "SIGHUP to libmilter's signal thread", "threads in sigwait: %r" % tids)
            t.ok(False, "an unasked libmilter stop exits non-zero")
        else:
            t.ok(True, "SIGHUP to libmilter's signal thread (tid %d)" % tids[0])
            try:
                rc = m.wait(15)
            except subprocess.TimeoutExpired:
                rc = None
            t.ok(rc not in (None, 0), "an unasked libmilter stop exits non-zero (%r)" % rc,
                 log_of(mlog)[-1500:])

    # --- smarthostd under socketmap traffic
    ssock = os.path.join(tmp, "socketmap.sock")
    spid = os.path.join(tmp, "smarthostd.pid")
    slog = os.path.join(tmp, "smarthostd.log")
    write_conf(STORM_RELAYS[0])
    d = start([bblib.SMARTHOSTD, "-f", "-c", conf, "--socketmap", "unix:" + ssock, "--pidfile", spid],
              slog)
    if not t.ok(d is not None, "smarthostd started", log_of(slog)):
        t.done()
    good = re.compile(r"OK \[relay\d+\.bench\.test\]:25$")
    stop = threading.Event()
    answers, bad = [0], []

    def ask(conn=None):
        c = conn or socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            if conn is None:
                c.settimeout(10)
                c.connect(ssock)
            return bblib.query(c, "relay", KEY)
        finally:
            if conn is None:
                c.close()

    def load(persistent):
        conn = None
        if persistent:
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.settimeout(10)
            conn.connect(ssock)
        deadline = time.time() + 100
        while not stop.is_set() and time.time() < deadline:
            try:
                r = ask(conn)
            except OSError as e:
                r = "error: %s" % e
            answers[0] += 1
            time.sleep(0.002)  # paced, so the traffic leaves the reloads some CPU
            if r is None or not good.match(r):
                bad.append(r)
                if conn is not None:
                    break
        if conn is not None:
            conn.close()

    clients = [threading.Thread(target=load, args=(p,)) for p in (True, False)]
    for c in clients:
        c.start()
    t.ok(storm(d), "smarthostd up after %d SIGHUPs at 50-200 ms, most during a load" % HUPS,
         log_of(slog)[-3000:])
    last = [None]

    def sd_final():
        try:
            last[0] = ask()
        except OSError as e:
            last[0] = str(e)
        return last[0] == "OK [relay%d.bench.test]:25" % FINAL

    t.ok(d.poll() is None and wait(sd_final, 120), "smarthostd ends with the config of the last SIGHUP",
         "%r\n%s" % (last[0], log_of(slog)[-2000:]))
    stop.set()
    for c in clients:
        c.join(30)
    t.ok(not bad and answers[0] > 0, "socketmap answered throughout (%d answers)" % answers[0], bad[:5])
    st = status(spid)
    t.ok(st.get("result") == "ok" and int(st.get("generation", "0")) >= 2,
         "status file: last load ok, generation %s" % st.get("generation"), st)
    t.diag("smarthostd reloads: %d" % log_of(slog).count("reloaded configuration"))
    d.send_signal(signal.SIGTERM)
    try:
        rc = d.wait(15)
    except subprocess.TimeoutExpired:
        rc = None
    t.eq(rc, 0, "smarthostd exits 0 on SIGTERM after the storm")
finally:
    cleanup()
t.done()
