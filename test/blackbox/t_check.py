"""-n checks a config; startup with a bad config fails with FILE:LINE."""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bblib  # noqa: E402

t = bblib.Tap()
tmp = tempfile.mkdtemp(prefix="smarthostd-bb-")


def write(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def run(*args):
    p = subprocess.run([bblib.SMARTHOSTD] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=10)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


good = write("good.conf", bblib.config_text())
rc, out, err = run("-n", "-c", good)
t.ok(rc == 0 and out == "configuration OK\n", "-n on a good config", "rc=%d out=%r err=%r" % (rc, out, err))

syntax = write("syntax.conf", bblib.config_text() + "\nbroken = ;\n")
rc, out, err = run("-n", "-c", syntax)
t.ok(rc == 1 and re.search(re.escape(syntax) + r":\d+:", err) and "configuration OK" not in out,
     "-n on a syntax error: exit 1 with FILE:LINE", "rc=%d out=%r err=%r" % (rc, out, err))

semantic = write("semantic.conf", bblib.config_text().replace('relay = "ses"', 'relay = "nosuch"'))
rc, out, err = run("-n", "-c", semantic)
t.ok(rc == 1 and re.search(re.escape(semantic) + r":\d+:", err) and "nosuch" in err,
     "-n on an unknown relay: exit 1, FILE:LINE names it", "rc=%d out=%r err=%r" % (rc, out, err))

rc, out, err = run("-n", "-c", os.path.join(tmp, "missing.conf"))
t.ok(rc == 1 and "missing.conf" in err, "-n on a missing file: exit 1", "rc=%d err=%r" % (rc, err))

# The daemon itself refuses to start on a bad config, saying where.
port = bblib.free_port()
rc, out, err = run("-f", "-c", semantic, "--socketmap", "inet:127.0.0.1:%d" % port)
t.ok(rc == 1 and re.search(r"fatal: .*" + re.escape(semantic) + r":\d+:", err),
     "startup with a bad config: fatal FILE:LINE, exit 1", "rc=%d err=%r" % (rc, err))
rc, out, err = run("-c", semantic, "--socketmap", "inet:127.0.0.1:%d" % port)
t.ok(rc == 1 and re.search(re.escape(semantic) + r":\d+:", err),
     "without -f the error still reaches stderr", "rc=%d err=%r" % (rc, err))

for args, label in [(["--threads", "0"], "--threads 0"), (["--threads", "x"], "--threads x"),
                    (["--bogus"], "unknown option"), (["extra"], "stray argument")]:
    rc, out, err = run("-f", "-c", good, *args)
    t.ok(rc != 0, label + " refused", "rc=%d err=%r" % (rc, err))
rc, out, err = run("--help")
t.ok(rc == 0 and "usage:" in out, "--help")

for f in os.listdir(tmp):
    os.unlink(os.path.join(tmp, f))
os.rmdir(tmp)
t.done()
