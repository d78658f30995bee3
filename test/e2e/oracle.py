#!/usr/bin/python3
"""oracle.py - runs the rows of oracle.tsv through the lab Postfix that oracle.sh started (TAP).

For each layout (in table order): the layout's smarthostd.conf (oracle-layouts.conf, ${VAR}s
from the environment) is written and both daemons are reloaded, each row's message is sent
through the lab's smtpd, the suite waits until Postfix has logged a delivery status for every
queued message, and then judges each row by what reached which server (oracle_server.py's
records): server, AUTH user, TLS, envelope; or that the client got a 4xx/5xx and nothing
reached any server; or that Postfix took the message and no server ever saw it. The queue is
emptied before the next layout, so a deferred message never lands under another layout.

Table columns (tab separated; '#' lines and blank lines skipped):
  id layout rule client from to server auth tls env_from env_to todo description
client:  '-' or comma-separated ip=127.0.0.9, tls (STARTTLS), auth=NAME (SASL login NAME@$REALM)
from/to: the path as sent between < and > ('<>' is the null sender); SMTPUTF8 is asked for
         when either holds a non-ASCII byte
server:  a server name (its records are checked), reject4 / reject5 (the client got that
         class of reply; nothing queued, nothing reached a server), held (queued; Postfix
         logged a status and no server saw it)
auth, tls, env_from, env_to: what that server must have recorded ('-' none, '*' any);
         env_to is the list of RCPT TO paths joined with ','
todo:    '-', or the reason the row is known to fail today (TAP # TODO)
"""

import json
import os
import re
import signal
import smtplib
import ssl
import string
import subprocess
import sys
import time

COLS = ["id", "layout", "rule", "client", "from", "to", "server", "auth", "tls",
        "env_from", "env_to", "todo", "description"]
WAIT_DELIVERY = 90   # seconds for every queued message of a layout to get a status
WAIT_RELOAD = 20


def env(name):
    v = os.environ.get(name)
    if v is None:
        sys.exit(f"oracle.py: ${name} not set")
    return v


def diag(text):
    for line in str(text).splitlines() or [""]:
        print(f"# {line}")
    sys.stdout.flush()


def load_table(path):
    rows = []
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        f = line.split("\t")
        if len(f) != len(COLS):
            sys.exit(f"{path}:{n}: {len(f)} columns, want {len(COLS)}")
        r = dict(zip(COLS, f))
        r["line"] = n
        rows.append(r)
    ids = [r["id"] for r in rows]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        sys.exit(f"{path}: duplicate ids {sorted(dup)}")
    return rows


def load_layouts(path):
    """name -> config text; "@layout NAME nobase" leaves out the base text."""
    layouts, nobase, name, buf = {}, set(), None, []
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^@layout\s+(\S+)(\s+nobase)?\s*$", line)
        if m:
            if name:
                layouts[name] = "".join(buf)
            name, buf = m.group(1), []
            if m.group(2):
                nobase.add(name)
        elif name:
            buf.append(line)
    if name:
        layouts[name] = "".join(buf)
    base = layouts.pop("base", "")
    subst = dict(os.environ)
    return {k: string.Template((v if k in nobase else base + v)).substitute(subst)
            for k, v in layouts.items()}


def log_count(path, pattern):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return sum(1 for line in f if pattern in line)
    except FileNotFoundError:
        return 0


def wait(secs, pred):
    deadline = time.monotonic() + secs
    while True:
        if pred():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def switch_layout(name, text):
    conf = env("ORACLE_CONF")
    with open(conf + ".new", "w") as f:
        f.write(text)
    os.rename(conf + ".new", conf)  # never edit the live file in place
    daemons = [(int(env("SMARTHOSTD_PID")), env("SMARTHOSTD_LOG"), "reloaded configuration"),
               (int(env("MILTER_PID")), env("MILTER_LOG"), "smarthostd-milter: reloaded")]
    failed = "reload failed"   # both daemons share the reload code (core/lifecycle.c)
    before = [(log_count(log, pat), log_count(log, failed)) for _, log, pat in daemons]
    for pid, _, _ in daemons:
        os.kill(pid, signal.SIGHUP)
    errs = []
    for (pid, log, pat), (n, f) in zip(daemons, before):
        if not wait(WAIT_RELOAD, lambda: log_count(log, pat) > n or log_count(log, failed) > f):
            errs.append(f"layout {name}: {log} shows no reload")
        elif log_count(log, failed) > f:
            errs.append(f"layout {name}: reload failed in {os.path.basename(log)}: " +
                        last_line(log, failed))
    return "; ".join(errs) or None


def last_line(path, pattern):
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = [line.strip() for line in f if pattern in line]
    return lines[-1] if lines else ""


def parse_client(spec):
    c = {"ip": "127.0.0.1", "tls": False, "auth": None}
    if spec != "-":
        for part in spec.split(","):
            k, _, v = part.partition("=")
            if k == "ip":
                c["ip"] = v
            elif k == "tls":
                c["tls"] = True
            elif k == "auth":
                c["auth"] = v
            else:
                sys.exit(f"bad client spec {spec}")
    return c


class Client:
    """One SMTP session into the lab's smtpd for rows that share client settings."""

    def __init__(self, spec):
        self.c = parse_client(spec)
        self.s = None

    def open(self):
        s = smtplib.SMTP("127.0.0.1", int(env("P_SMTPD")), timeout=30,
                         source_address=(self.c["ip"], 0))
        s.ehlo("oracle-client.test")
        if self.c["tls"]:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s.starttls(context=ctx)
            s.ehlo("oracle-client.test")
        if self.c["auth"]:
            user = f"{self.c['auth']}@{env('REALM')}"
            s.login(user, env("SASL_PASS"))
        self.s = s

    def close(self):
        if self.s:
            try:
                self.s.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self.s = None

    def send(self, row):
        """Returns {stage, code, text, qid}; stage 'queued' when Postfix took it."""
        for attempt in (0, 1):
            try:
                if self.s is None:
                    self.open()
                return self.transaction(row)
            except (smtplib.SMTPServerDisconnected, ConnectionError) as e:
                self.s = None
                if attempt:
                    return {"stage": "connect", "code": 0, "text": str(e)}
            except smtplib.SMTPException as e:
                self.close()
                return {"stage": "session", "code": getattr(e, "smtp_code", 0), "text": str(e)}

    def transaction(self, row):
        s = self.s
        frm = "" if row["from"] == "<>" else row["from"]
        utf8 = not (frm + row["to"]).isascii()
        s.command_encoding = "utf-8" if utf8 else "ascii"
        res = None
        code, text = s.docmd("MAIL", f"FROM:<{frm}>" + (" SMTPUTF8" if utf8 else ""))
        if code != 250:
            res = {"stage": "MAIL", "code": code, "text": text}
        else:
            for to in row["to"].split(","):
                code, text = s.docmd("RCPT", f"TO:<{to}>")
                if code not in (250, 251):
                    res = {"stage": "RCPT", "code": code, "text": text}
                    break
        if res is None:
            body = (f"Subject: {subject(row)}\r\nFrom: <{frm}>\r\nTo: <{row['to']}>\r\n\r\n"
                    f"oracle row {row['id']}: {row['description']}\r\n").encode("utf-8")
            try:
                code, text = s.data(body)
            except smtplib.SMTPDataError as e:
                code, text = e.smtp_code, e.smtp_error
            text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
            if code == 250:
                m = re.search(r"queued as ([0-9A-Za-z]+)", text)
                res = {"stage": "queued", "code": code, "text": text,
                       "qid": m.group(1) if m else None}
            else:
                res = {"stage": "DATA", "code": code, "text": text}
        else:
            res["text"] = res["text"].decode("utf-8", "replace") \
                if isinstance(res["text"], bytes) else res["text"]
            s.rset()
        return res


def subject(row):
    return f"oracle {row['id']}"


def records():
    out = []
    with open(env("ORACLE_LOG"), encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def statuses():
    """queue id -> list of (status, the whole line) from the maillog."""
    st = {}
    pat = re.compile(r" ([0-9A-F]{6,}|[0-9A-Za-z]{10,}): to=<.*?status=(\w+)")
    with open(env("MAILLOG"), encoding="utf-8", errors="replace") as f:
        for line in f:
            m = pat.search(line)
            if m:
                st.setdefault(m.group(1), []).append((m.group(2), line.strip()))
    return st


def judge(row, res, recs, st):
    """(passed, [diagnostic lines])"""
    mine = [r for r in recs if r.get("event") == "message" and r.get("subject") == subject(row)]
    why = [f"client: {res['stage']} {res['code']} {res['text'][:200]}"]
    for r in mine:
        why.append("seen: {name} auth={auth_user} mech={auth_mech} tls={tls} "
                   "from=<{mail_from}> to={rcpt_tos}".format(**r))
    if res.get("qid"):
        for s, line in st.get(res["qid"], []):
            why.append("maillog: " + re.sub(r"^.*?: to=", "to=", line)[:300])
    want = row["server"]
    if want in ("reject4", "reject5"):
        ok = res["stage"] != "queued" and str(res["code"]).startswith(want[-1]) and not mine
        return ok, why
    if want == "held":
        return res["stage"] == "queued" and res["qid"] in st and not mine, why
    if res["stage"] != "queued" or len(mine) != 1:
        return False, why
    r = mine[0]
    checks = [(r["name"], want),
              (r["auth_user"] or "-", row["auth"]),
              (r["tls"], row["tls"]),
              (r["mail_from"], row["env_from"]),
              (",".join(r["rcpt_tos"]), row["env_to"])]
    return all(exp == "*" or got == exp for got, exp in checks), why


def run_layout(name, rows):
    """Sends the layout's rows, waits for Postfix, returns [(row, res)]."""
    sent, clients = [], {}
    for row in rows:
        c = clients.get(row["client"])
        if c is None:
            c = clients[row["client"]] = Client(row["client"])
        sent.append((row, c.send(row)))
    for c in clients.values():
        c.close()
    qids = [res["qid"] for _, res in sent if res.get("qid")]
    if not wait(WAIT_DELIVERY, lambda: all(q in statuses() for q in qids)):
        missing = [q for q in qids if q not in statuses()]
        diag(f"layout {name}: no delivery status within {WAIT_DELIVERY} s for {missing}")
    return sent


def main():
    rows = load_table(env("ORACLE_TABLE"))
    layouts = load_layouts(env("ORACLE_LAYOUTS"))
    only = os.environ.get("ORACLE_ONLY")  # a layout name, to run one while editing the table
    n = failed = 0
    order = []
    for r in rows:
        if r["layout"] not in layouts:
            sys.exit(f"row {r['id']}: no layout {r['layout']}")
        if r["layout"] not in order:
            order.append(r["layout"])
    for name in order:
        if only and name != only:
            continue
        mine = [r for r in rows if r["layout"] == name]
        err = switch_layout(name, layouts[name])
        if "window = 3600" in layouts[name]:
            # fixed windows start at multiples of the window: a pair must not straddle one
            wait(61, lambda: 60 < 3600 - time.time() % 3600)
        t0 = time.monotonic()
        sent = [] if err else run_layout(name, mine)
        recs, st = records(), statuses()
        diag(f"layout {name}: {len(mine)} rows in {time.monotonic() - t0:.1f} s")
        for i, row in enumerate(mine):
            n += 1
            desc = f"{row['rule']} {row['id']}: {row['description']}"
            if err:
                ok, why = False, [err]
            else:
                ok, why = judge(row, sent[i][1], recs, st)
            todo = "" if row["todo"] == "-" else f" # TODO {row['todo']}"
            print(f"{'ok' if ok else 'not ok'} {n} - {desc}{todo}")
            if not ok or os.environ.get("ORACLE_VERBOSE"):
                diag("\n".join(why))
            if not ok and not todo:
                failed += 1
            sys.stdout.flush()
        subprocess.run(["postsuper", "-c", env("LAB") + "/etc", "-d", "ALL"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
