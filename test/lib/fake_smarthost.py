#!/usr/bin/python3
"""fake_smarthost.py - a loopback SMTP relay that records what it receives.

Plays mailgun/SES/an ISP relay in the end-to-end tests and the demo:

  fake_smarthost.py --name ses --port 2465 --log FILE [--smtps CERT KEY |
                    --starttls CERT KEY] [--users FILE [--require-auth]
                    [--auth-plaintext]]
                    [--ready FILE]

--starttls  offers STARTTLS (like submission on 587)
--smtps     TLS from the first byte (implicit TLS, like 465)
--users     "user:password" lines; enables AUTH PLAIN/LOGIN, over TLS only
            (passwords come from a file, never from argv)
--auth-plaintext  hostile: AUTH offered without TLS too, to record a client
            that sends a password in clear

Every accepted message becomes one JSON line in --log:
  {"event":"message","name":..,"port":..,"mail_from":..,"rcpt_tos":[..],
   "auth_user":..,"auth_password":..,"tls":"yes"|"no","subject":..}
A failed AUTH becomes {"event":"auth_failed",...}. The server only binds
loopback addresses. --ready FILE is written (with our pid) once listening.
Runs until SIGTERM/SIGINT.
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

MAX_USERS_FILE = 64 * 1024  # bytes; a test fixture, not a user database
MAX_FIELD = 512             # longest string we copy into a record


def clip(value):
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return None if value is None else str(value)[:MAX_FIELD]


def load_users(path):
    users = {}
    with open(path, "rb") as f:
        data = f.read(MAX_USERS_FILE + 1)
    if len(data) > MAX_USERS_FILE:
        sys.exit(f"{path}: too large")
    for line in data.decode("utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep:
            sys.exit(f"{path}: expected user:password lines")
        users[user] = password
    return users


class Recorder:
    """Appends one JSON line per event; one write() per line keeps lines whole."""

    def __init__(self, path, name, port):
        self.path, self.name, self.port = path, name, port

    def write(self, record):
        record = {"event": record.pop("event"), "name": self.name, "port": self.port, **record}
        line = json.dumps(record, sort_keys=False) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)


def tls_of(server):
    transport = server.transport
    return "yes" if transport is not None and transport.get_extra_info("ssl_object") else "no"


def subject_of(content):
    """The Subject header of a raw message, or None (headers only, bounded)."""
    head = content[:64 * 1024].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    for line in head.splitlines():
        if line.lower().startswith(b"subject:"):
            return clip(line[8:].strip())
    return None


class Handler:
    def __init__(self, recorder):
        self.recorder = recorder

    async def handle_DATA(self, server, session, envelope):
        auth = session.auth_data if isinstance(session.auth_data, LoginPassword) else None
        self.recorder.write({
            "event": "message",
            "mail_from": clip(envelope.mail_from),
            "rcpt_tos": [clip(r) for r in envelope.rcpt_tos],
            "auth_user": clip(auth.login) if auth else None,
            "auth_password": clip(auth.password) if auth else None,
            "tls": tls_of(server),
            "subject": subject_of(envelope.original_content or envelope.content or b""),
        })
        return "250 2.0.0 Ok: recorded"


def make_authenticator(users, recorder):
    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        if users.get(user) == password:
            return AuthResult(success=True, auth_data=auth_data)
        recorder.write({"event": "auth_failed", "mechanism": mechanism,
                        "auth_user": clip(user), "auth_password": clip(password),
                        "tls": tls_of(server)})
        return AuthResult(success=False, handled=False)
    return authenticator


def server_context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--name", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", required=True)
    tls = p.add_mutually_exclusive_group()
    tls.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    tls.add_argument("--smtps", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--users")
    p.add_argument("--require-auth", action="store_true")
    p.add_argument("--auth-plaintext", action="store_true",
                   help="hostile: offer AUTH without TLS (a password arrives in clear)")
    p.add_argument("--ready")
    args = p.parse_args(argv)
    if not ipaddress.ip_address(args.host).is_loopback:
        p.error("--host must be a loopback address")
    if not 0 < args.port < 65536:
        p.error("--port out of range")
    if args.auth_plaintext and not args.users:
        p.error("--auth-plaintext needs --users")
    if args.require_auth and not args.users:
        p.error("--require-auth needs --users")
    return args


async def serve(args):
    recorder = Recorder(args.log, args.name, args.port)
    users = load_users(args.users) if args.users else None
    implicit = args.smtps is not None
    kwargs = {
        "hostname": f"{args.name}.fake-smarthost.test",
        "ident": f"fake-smarthost {args.name}",
        "timeout": 60,
        # aiosmtpd only counts STARTTLS as TLS: with implicit TLS the whole
        # session is encrypted already, so AUTH is allowed from the start.
        "auth_require_tls": not implicit and not args.auth_plaintext,
        "auth_required": args.require_auth,
    }
    if args.starttls:
        kwargs["tls_context"] = server_context(*args.starttls)
    if users is not None:
        kwargs["authenticator"] = make_authenticator(users, recorder)
    else:
        kwargs["auth_exclude_mechanism"] = ["PLAIN", "LOGIN"]  # no AUTH offered at all
    handler = Handler(recorder)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, **kwargs), host=args.host, port=args.port,
        ssl=server_context(*args.smtps) if implicit else None, reuse_address=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.ready:
        tmp = args.ready + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{os.getpid()}\n")
        os.rename(tmp, args.ready)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main(argv):
    args = parse_args(argv)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main(sys.argv[1:])
