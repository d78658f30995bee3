#!/usr/bin/python3
"""oracle_server.py - loopback SMTP servers that record what reached them, for the oracle suite.

  oracle_server.py --log FILE --ready FILE [--cert CERT --key KEY] [--users FILE]
                   --listen NAME,HOST,PORT,TLS,AUTH [--listen ...]

One process, many listeners (fake relays, a recipient's own server, a hostile server):
  TLS   none | starttls (STARTTLS offered) | smtps (TLS from the first byte)
  AUTH  none (not offered) | users (PLAIN/LOGIN after TLS, checked against --users
        "user:password" lines) | any (PLAIN/LOGIN offered even without TLS, every
        login accepted: a hostile server harvesting what a client offers)

Each accepted message is one JSON line in --log:
  {"event":"message","name":..,"port":..,"mail_from":..,"mail_options":[..],
   "rcpt_tos":[..],"auth_mech":..,"auth_user":..,"auth_password":..,"tls":"yes"|"no",
   "subject":..}
and each AUTH attempt {"event":"auth",...,"ok":true|false}. Every server announces
SMTPUTF8. Only loopback addresses are bound. Runs until SIGTERM/SIGINT.
"""

import warnings
warnings.filterwarnings("ignore")  # aiosmtpd deprecation chatter on stderr

import argparse
import asyncio
import ipaddress
import json
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

# The field clipping, users file, TLS and Subject readers are the fake smarthost's.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_smarthost import clip, load_users, subject_of, tls_of  # noqa: E402


class Recorder:
    """One log for every listener: each record names its listener itself."""

    def __init__(self, path):
        self.path = path

    def write(self, record):
        line = json.dumps(record, ensure_ascii=False) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())   # one write per line keeps lines whole
        finally:
            os.close(fd)


class Listener:
    def __init__(self, name, host, port, tls, auth, recorder, users):
        self.name, self.host, self.port = name, host, port
        self.tls, self.auth = tls, auth
        self.recorder, self.users = recorder, users

    def base(self, server):
        return {"name": self.name, "host": self.host, "port": self.port, "tls": tls_of(server)}

    async def handle_DATA(self, server, session, envelope):
        auth = session.auth_data if isinstance(session.auth_data, LoginPassword) else None
        rec = {"event": "message", **self.base(server),
               "mail_from": clip(envelope.mail_from),
               "mail_options": [clip(o) for o in envelope.mail_options],
               "rcpt_tos": [clip(r) for r in envelope.rcpt_tos],
               "auth_mech": getattr(session, "oracle_mech", None),
               "auth_user": clip(auth.login) if auth else None,
               "auth_password": clip(auth.password) if auth else None,
               "subject": subject_of(envelope.original_content or envelope.content or b"")}
        self.recorder.write(rec)
        return "250 2.0.0 Ok: recorded"

    def authenticator(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        good = self.auth == "any" or self.users.get(user) == password
        self.recorder.write({"event": "auth", **self.base(server), "auth_mech": mechanism,
                             "auth_user": clip(user), "ok": good})
        if good:
            session.oracle_mech = mechanism
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)

    def factory(self, ctx):
        kw = {"hostname": f"{self.name}.oracle.test", "ident": f"oracle {self.name}",
              "timeout": 60, "enable_SMTPUTF8": True, "decode_data": False}
        if self.tls == "starttls":
            kw["tls_context"] = ctx
        if self.auth == "none":
            kw["auth_exclude_mechanism"] = ["PLAIN", "LOGIN"]
        else:
            kw["authenticator"] = self.authenticator
            # "any" offers AUTH in the clear, as a hostile server would; "users" only
            # after TLS (implicit TLS counts: aiosmtpd knows only STARTTLS as TLS)
            kw["auth_require_tls"] = self.auth == "users" and self.tls == "starttls"
        return lambda: SMTP(self, **kw)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--log", required=True)
    p.add_argument("--ready", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--users")
    p.add_argument("--listen", action="append", required=True)
    args = p.parse_args(argv)
    specs = []
    for s in args.listen:
        parts = s.split(",")
        if len(parts) != 5:
            p.error(f"--listen {s}: NAME,HOST,PORT,TLS,AUTH")
        name, host, port, tls, auth = parts
        if not ipaddress.ip_address(host).is_loopback:
            p.error(f"--listen {s}: loopback addresses only")
        if tls not in ("none", "starttls", "smtps") or auth not in ("none", "users", "any"):
            p.error(f"--listen {s}: bad TLS or AUTH")
        if tls != "none" and not (args.cert and args.key):
            p.error("TLS needs --cert and --key")
        if auth == "users" and not args.users:
            p.error("AUTH users needs --users")
        specs.append((name, host, int(port), tls, auth))
    args.specs = specs
    return args


async def serve(args):
    recorder = Recorder(args.log)
    users = load_users(args.users) if args.users else {}
    ctx = None
    if args.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)
    loop = asyncio.get_running_loop()
    servers = []
    for name, host, port, tls, auth in args.specs:
        lst = Listener(name, host, port, tls, auth, recorder, users)
        servers.append(await loop.create_server(
            lst.factory(ctx), host=host, port=port,
            ssl=ctx if tls == "smtps" else None, reuse_address=True))
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tmp = args.ready + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{os.getpid()}\n")
    os.rename(tmp, args.ready)
    await stop.wait()
    for s in servers:
        s.close()


if __name__ == "__main__":
    asyncio.run(serve(parse_args(sys.argv[1:])))
