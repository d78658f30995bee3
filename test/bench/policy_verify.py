#!/usr/bin/python3
"""policy_verify.py - the policy benchmark's equivalence check.

Sends one fixed request set over one connection to a policy server and
compares every reply with the expected one, so smarthostd and postfwd are
proven to decide the same before either is timed. The rule set both servers
run (test/bench/policy-bench.sh writes both files, rate limit 3):

  - require_tls for @secure.test (case-insensitive, empty encryption_protocol)
  - alice@example.com may send as alice@example.com and @example.org,
    bob@example.com as @example.org; any other SASL user owns nothing;
    the null sender is not checked
  - at most 3 RCPT requests per SASL user per hour, the 4th defers

Only requests no earlier rule rejected count against the limit (alice: cases
1, 2, 10 and the 4th, 17, defers). postfwd's manual says its rate() counters
run before the ruleset, so the user whose limit is run out (bob) sends nothing
that is rejected, and both servers were seen to agree on every case.

  policy_verify.py PORT         exit 0 when every reply is as expected
"""
import socket
import sys

TLS = "5.7.1 <{}>: Sender address rejected: must use STARTTLS"
OWN = "5.7.1 <{}>: Sender address rejected: not owned by user {}"
RATE = "4.7.1 Recipient rate limit exceeded, retry later"


def req(**kw):
    a = dict(request="smtpd_access_policy", protocol_state="RCPT", protocol_name="ESMTP",
             helo_name="client.example", queue_id="", sender="user1@example.org",
             recipient="rcpt@example.net", recipient_count="0", client_address="10.0.0.1",
             client_name="client.example", reverse_client_name="client.example",
             instance="1.2.3", sasl_method="plain", sasl_username="alice@example.com",
             sasl_sender="", size="1234", ccert_subject="", ccert_issuer="",
             ccert_fingerprint="", encryption_protocol="TLSv1.3",
             encryption_cipher="TLS_AES_256_GCM_SHA384", encryption_keysize="256",
             etrn_domain="", stress="")
    a.update(kw)
    return "".join(f"{k}={v}\n" for k, v in a.items()) + "\n"


CASES = [  # (request, expected reply without "action=")
    (req(), "DUNNO"),
    (req(sender="alice@example.com"), "DUNNO"),
    (req(sender="x@secure.test", encryption_protocol=""), "REJECT " + TLS.format("x@secure.test")),
    (req(sender="X@SECURE.TEST", encryption_protocol=""), "REJECT " + TLS.format("X@SECURE.TEST")),
    (req(sender="x@secure.test", sasl_username="", encryption_protocol=""),
     "REJECT " + TLS.format("x@secure.test")),
    (req(sender="x@other.test", sasl_username="", encryption_protocol=""), "DUNNO"),
    (req(sender="eve@evil.test"), "REJECT " + OWN.format("eve@evil.test", "alice@example.com")),
    (req(sender="alice@example.org.evil.test"),
     "REJECT " + OWN.format("alice@example.org.evil.test", "alice@example.com")),
    (req(sender="bob@example.com", sasl_username="carol@example.com"),
     "REJECT " + OWN.format("bob@example.com", "carol@example.com")),
    (req(sender=""), "DUNNO"),
    (req(sender="anyone@anywhere.test", sasl_username=""), "DUNNO"),
    (req(sasl_username="bob@example.com"), "DUNNO"),
    (req(sasl_username="bob@example.com", recipient="r2@example.net"), "DUNNO"),
    (req(sasl_username="bob@example.com", recipient="r3@example.net"), "DUNNO"),
    (req(sasl_username="bob@example.com", recipient="r4@example.net"), "DEFER_IF_PERMIT " + RATE),
    (req(sasl_username="bob@example.com", recipient="r5@example.net"), "DEFER_IF_PERMIT " + RATE),
    (req(sender="user2@example.org"), "DEFER_IF_PERMIT " + RATE),  # alice's 4th accepted RCPT
]


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    bad = 0
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as s:
        f = s.makefile("rb")
        for i, (r, want) in enumerate(CASES, 1):
            s.sendall(r.encode())
            lines = []
            while True:
                line = f.readline(4096)
                if not line:
                    print(f"#   {i}: connection closed")
                    return 1
                if line == b"\n":
                    break
                lines.append(line.decode(errors="replace").rstrip("\n"))
            got = lines[0][len("action="):] if len(lines) == 1 and lines[0].startswith("action=") \
                else repr(lines)
            if got != want:
                bad += 1
                print(f"#   {i}: want {want!r}\n#   {i}: got  {got!r}")
    print(f"# {len(CASES) - bad}/{len(CASES)} replies as expected")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
