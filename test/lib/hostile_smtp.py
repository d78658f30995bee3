#!/usr/bin/env python3
"""hostile_smtp.py - a loopback SMTP server that misbehaves on purpose, for probe tests.

Honest by default: 220 greeting, EHLO with STARTTLS and AUTH PLAIN LOGIN, STARTTLS,
EHLO again under TLS, AUTH checked against --user/--password (235 or 535), QUIT 221.
--mode (comma-separated) makes it lie in one way each:
  inject        after its 220 to STARTTLS, in the same write and before the handshake,
                plaintext "250 AUTH PLAIN LOGIN" and "235" (the CVE-2011-0411 class);
                under TLS it answers the first command with 221, so a client that reads
                the injected lines as replies sees EHLO, AUTH and QUIT succeed
  auth-mixed    AUTH answered "535-5.7.8 ..." then "235 ..." (codes differ)
  auth-garbage  AUTH answered "235x ..." (no space after the code)
  auth-334      AUTH PLAIN answered 334 (a continuation where none is due)
  close-mid     AUTH answered "235-..." and the connection closed mid-reply
  longline      post-TLS EHLO carries lines of 1500 and 3000 bytes before AUTH
  auth-pre-only AUTH offered before TLS only
  starttls-454  STARTTLS refused with 454
  no-starttls   STARTTLS not offered (stripped)
Logs (--log, one line each, prefixed with --name): the commands seen (AUTH without
its credentials), "AUTH-RESULT ok|bad", "SNI name|none", "TLS ok|failed".
Only binds 127.0.0.1.
"""
import argparse
import base64
import socket
import ssl
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--port", type=int, action="append", required=True,
                    help="repeatable: the same server on each port")
    ap.add_argument("--ready", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--user", default="relay-user")
    ap.add_argument("--password", default="right-password")
    ap.add_argument("--implicit", action="store_true")
    ap.add_argument("--mode", default="")
    a = ap.parse_args()
    modes = set(m for m in a.mode.split(",") if m)
    lock = threading.Lock()

    def log(text):
        with lock, open(a.log, "a") as f:
            f.write("%s %s\n" % (a.name, text))

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)

    def sni_seen(sslobj, name, _ctx):
        log("SNI %s" % (name if name else "none"))

    ctx.sni_callback = sni_seen

    def session(conn):
        sock = conn
        rfile = sock.makefile("rb")
        tls = False

        def send(text):
            sock.sendall(text.encode())

        def ehlo_reply():
            lines = ["hostile.test"]
            if not tls and "no-starttls" not in modes:
                lines.append("STARTTLS")
            if "longline" in modes and tls:
                lines.append("X-LONG " + "a" * 1500)
                lines.append("X-LONGER " + "b" * 3000)
            if (not tls and "auth-pre-only" in modes) or (tls and "auth-pre-only" not in modes):
                lines.append("AUTH PLAIN LOGIN")
            out = "".join("250-%s\r\n" % l for l in lines[:-1])
            return out + "250 %s\r\n" % lines[-1]

        def start_tls():
            nonlocal sock, rfile, tls
            try:
                sock = ctx.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError) as e:
                log("TLS failed %s" % e.__class__.__name__)
                return False
            log("TLS ok")
            tls = True
            rfile = sock.makefile("rb")
            return True

        def auth_result(user, password):
            good = user == a.user and password == a.password
            log("AUTH-RESULT %s" % ("ok" if good else "bad"))
            if "auth-mixed" in modes:
                return "535-5.7.8 credentials invalid\r\n235 2.7.0 ok\r\n"
            if "auth-garbage" in modes:
                return "235x 2.7.0 ok\r\n"
            return "235 2.7.0 ok\r\n" if good else "535 5.7.8 credentials invalid\r\n"

        if a.implicit and not start_tls():
            return
        send("220 hostile.test ESMTP\r\n")
        first_tls_command = True
        while True:
            raw = rfile.readline(4096)
            if not raw:
                return
            line = raw.decode("latin-1").rstrip("\r\n")
            verb = line.split(" ")[0].upper()
            log(("AUTH " + line.split(" ")[1]) if verb == "AUTH" and " " in line else line)
            if tls and first_tls_command and "inject" in modes:
                send("221 2.0.0 bye\r\n")
                return
            if tls:
                first_tls_command = False
            if verb in ("EHLO", "HELO"):
                send(ehlo_reply())
            elif verb == "STARTTLS" and not tls:
                if "starttls-454" in modes:
                    send("454 4.7.0 TLS not available\r\n")
                    continue
                if "inject" in modes:
                    send("220 2.0.0 go ahead\r\n250 AUTH PLAIN LOGIN\r\n235 2.7.0 injected\r\n")
                else:
                    send("220 2.0.0 go ahead\r\n")
                if not start_tls():
                    return
            elif verb == "AUTH":
                parts = line.split(" ")
                mech = parts[1].upper() if len(parts) > 1 else ""
                if "close-mid" in modes:
                    send("235-2.7.0 ok so far\r\n")
                    return
                if mech == "PLAIN":
                    if "auth-334" in modes:
                        send("334 \r\n")
                        continue
                    try:
                        f = base64.b64decode(parts[2]).split(b"\0")
                        user, password = f[1].decode(), f[2].decode()
                    except Exception:
                        send("501 5.5.2 bad\r\n")
                        continue
                    send(auth_result(user, password))
                elif mech == "LOGIN":
                    send("334 VXNlcm5hbWU6\r\n")
                    user = base64.b64decode(rfile.readline(4096).strip()).decode()
                    send("334 UGFzc3dvcmQ6\r\n")
                    password = base64.b64decode(rfile.readline(4096).strip()).decode()
                    send(auth_result(user, password))
                else:
                    send("504 5.5.4 unknown mechanism\r\n")
            elif verb == "QUIT":
                send("221 2.0.0 bye\r\n")
                return
            else:
                send("250 2.0.0 ok\r\n")

    def run(conn):
        try:
            session(conn)
        except (OSError, ssl.SSLError, ValueError, IndexError):
            pass
        finally:
            conn.close()

    def serve(srv):
        while True:
            conn, _ = srv.accept()
            threading.Thread(target=run, args=(conn,), daemon=True).start()

    listeners = []
    for port in a.port:
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", port))
        srv.listen(8)
        listeners.append(srv)
    open(a.ready, "w").close()
    for srv in listeners[1:]:
        threading.Thread(target=serve, args=(srv,), daemon=True).start()
    serve(listeners[0])


if __name__ == "__main__":
    main()
