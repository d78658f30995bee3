#!/usr/bin/env python3
"""t_ratelimit_ctl - smarthostctl ratelimit show/reset against a running smarthostd: policy
requests until a limit defers, show names the budget used, reset (root only, even for a
group that may read) clears it and the next request passes; with the memory store and with a
real redis-server; status shows the rate store (TAP)."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import bblib
from t_control import ctl, policy_request

REDIS_SERVER = shutil.which("redis-server")

POLICY = """
policy = {
    rate_limits = ( { name = "per_sender"; per = "sender"; messages = 2; window = 3600; },
                    { name = "per_domain"; per = "sender_domain"; messages = 50; window = 60; } );
%s};
"""


def start_redis(tmp):
    sock = os.path.join(tmp, "redis.sock")
    p = subprocess.Popen([REDIS_SERVER, "--port", "0", "--unixsocket", sock, "--save", "",
                          "--appendonly", "no", "--dir", tmp, "--logfile", "redis.log"])
    for _ in range(500):  # bounded: 10 s
        if os.path.exists(sock):
            return p, sock
        time.sleep(0.02)
    p.kill()
    return None, sock


def run(t, store):
    tmp = tempfile.mkdtemp(prefix="smarthostd-rlctl-")
    os.chmod(tmp, 0o755)  # nobody reaches the control socket through it
    redis, extra_conf = None, ""
    if store == "redis":
        redis, sock = start_redis(tmp)
        if not t.ok(redis is not None, "redis: redis-server started"):
            return
        extra_conf = ('    rate_store = "redis";\n    redis = { address = "unix:%s"; '
                      'timeout_ms = 500; key_prefix = "t:"; };\n' % sock)
    d = bblib.Daemon(config=bblib.config_text(log_lookups=False) + POLICY % extra_conf, tmp=tmp,
                     policy=True, control=True, extra=["--control-group", "nogroup"])
    pport, control = d.pport, d.control
    try:
        if not t.ok(d.wait_ready(), "%s: daemon started" % store, d.log_text()):
            return
        answers = [policy_request(pport, "u@other.example", "u", "END-OF-MESSAGE")
                   for _ in range(3)]
        t.ok("DUNNO" in answers[1] and "DEFER_IF_PERMIT" in answers[2],
             "%s: the third message is deferred by the limit" % store, answers)

        rc, out, err = ctl("ratelimit", "show", "u@other.example", "--control", control)
        t.diag(out + err)
        t.ok(rc == 0 and re.search(r"^limit=per_sender per=sender key=u@other.example "
                                   r"messages=2/2 window=3600s left=\d+s$", out, re.M),
             "%s: show KEY names the budget used" % store, out + err)
        t.ok(re.search(r"^limit=per_domain per=sender_domain key=other.example "
                       r"messages=2/50 window=60s left=\d+s$", out, re.M) is None,
             "%s: a domain's counter is not the sender's" % store, out)
        rc, out, err = ctl("ratelimit", "show", "other.example", "--control", control)
        t.ok(rc == 0 and "limit=per_domain per=sender_domain key=other.example messages=2/50 "
             "window=60s" in out, "%s: show DOMAIN" % store, out + err)
        rc, out2, err = ctl("ratelimit", "show", "U@Other.Example.", "--control", control)
        t.ok(rc == 0 and "key=u@other.example messages=2/2" in out2,
             "%s: KEY normalized as the rules count it" % store, out2 + err)
        rc, out, err = ctl("ratelimit", "show", "--control", control)
        t.diag(out + err)
        t.ok(rc == 0 and "key=u@other.example messages=2/2" in out and
             "key=other.example messages=2/50" in out and
             "counters: 2 in the current windows" in out, "%s: show lists every counter" % store,
             out + err)

        rc, out, err = ctl("ratelimit", "show", "u@other.example", "--control", control,
                           user="nobody")
        t.ok(rc == 0 and "messages=2/2" in out, "%s: the control group may show" % store,
             out + err)
        rc, out, err = ctl("ratelimit", "reset", "u@other.example", "--control", control,
                           user="nobody")
        t.ok(rc != 0 and "permission denied" in err, "%s: reset is refused to the group" % store,
             out + err)
        rc, out, err = ctl("ratelimit", "show", "u@other.example", "--control", control)
        t.ok("messages=2/2" in out, "%s: ... and changed nothing" % store, out + err)

        rc, out, err = ctl("ratelimit", "reset", "u@other.example", "--control", control)
        t.ok(rc == 0 and "reset: " in out, "%s: root resets KEY" % store, out + err)
        rc, out, err = ctl("ratelimit", "show", "u@other.example", "--control", control)
        t.ok(rc == 0 and "no budget spent" in out, "%s: nothing spent after reset" % store,
             out + err)
        a = policy_request(pport, "u@other.example", "u", "END-OF-MESSAGE")
        t.ok("DUNNO" in a, "%s: the next message passes" % store, a)
        rc, out, err = ctl("ratelimit", "show", "other.example", "--control", control)
        t.ok("messages=3/50" in out, "%s: other limits' counters kept" % store, out + err)

        rc, out, err = ctl("status", "--control", control)
        t.diag(out)
        if store == "memory":
            t.ok(re.search(r"^rate_store: memory keys=\d+/200000 bytes=\d+/67108864$", out, re.M),
                 "memory: status shows keys used / cap", out)
        else:
            t.ok(re.search(r"^rate_store: redis unix:\S+ reachable ping_ms=[0-9.]+ "
                           r"timeout_ms=500$", out, re.M), "redis: status shows PING latency", out)
            redis.send_signal(signal.SIGTERM)
            redis.wait(10)
            rc, out, err = ctl("status", "--control", control)
            t.ok(re.search(r"^rate_store: redis unix:\S+ unreachable \(.+\) timeout_ms=500$", out,
                           re.M), "redis: status shows a stopped Redis unreachable", out)
            rc, out, err = ctl("ratelimit", "show", "u@other.example", "--control", control)
            t.ok(rc != 0 and "store unavailable" in err, "redis: show says the store is down",
                 out + err)
        rc, out, err = ctl("ratelimit", "bogus", "--control", control)
        t.eq(rc, 2, "%s: a bad ratelimit verb is a usage error" % store)
    finally:
        d.cleanup()
        if redis and redis.poll() is None:
            redis.kill()
            redis.wait()


def main():
    t = bblib.Tap()
    run(t, "memory")
    if REDIS_SERVER:
        run(t, "redis")
    else:
        t.ok(True, "redis # SKIP redis-server not installed")
    t.done()


if __name__ == "__main__":
    main()
