"""Every map, asked with Postfix's own client (postmap -q ... socketmap:inet:...)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bblib  # noqa: E402

t = bblib.Tap()
if not os.access(bblib.POSTMAP, os.X_OK):
    bblib.skip_all("postmap not installed")
d = bblib.start_daemon(t)
try:
    MAILGUN = "[smtp.mailgun.org]:587, [smtp.eu.mailgun.org]:587"
    SES = "[email-smtp.eu-west-1.amazonaws.com]:465"
    cases = [
        # (map, key, exit code, answer)
        ("relay", "alice@example.com", 0, MAILGUN),              # @domain, with failover list
        ("relay", "Alice@EXAMPLE.com", 0, MAILGUN),              # case-insensitive
        ("relay", "bob@sub.example.com", 0, MAILGUN),            # @.parent
        ("relay", "billing@example.com", 0, SES),                # full address beats domain
        ("relay", "billing+inv@example.com", 0, SES),            # address extension
        ("relay", "x@internal.example", 1, ""),                  # direct: NOTFOUND
        ("relay", "someone@other.org", 0, "[relay.isp.example]:25"),  # default relay
        ("relay", "<>", 0, "[relay.isp.example]:25"),            # null sender
        ("sender_transport", "billing@example.com", 0, "smarthost-smtps"),  # implicit_tls relay
        ("sender_transport", "alice@example.com", 0, "smarthost"),  # the relay transport
        ("sender_transport", "x@internal.example", 1, ""),       # direct: default transport
        ("relay", '"<>"', 0, "[relay.isp.example]:25"),          # null sender, quoted first
        ("sasl", "alice@example.com", 0, "postmaster@mg.example.com:mg-secret-1"),  # by sender
        ("sasl", "billing@example.com", 0, "AKIAEXAMPLE:ses-secret-2"),
        ("sasl", "someone@other.org", 1, ""),                    # relay without credentials
        ("sasl", "smtp.mailgun.org", 1, ""),                     # a bare host: never
        ("sasl", "[smtp.mailgun.org]", 1, ""),                   # direct to user@[host]: never
        ("sasl", "<>", 1, ""),                                   # never asked by null sender
        ("sasl", "[smtp.mailgun.org]:587", 0, "postmaster@mg.example.com:mg-secret-1"),  # [host]:port
        ("sasl", "unknown.example.net", 1, ""),
        ("tls", "[smtp.mailgun.org]:587", 0, "secure match=nexthop:dot-nexthop"),
        ("tls", "[email-smtp.eu-west-1.amazonaws.com]:465", 0, None),  # some verify policy
        ("tls", "[nowhere.example]:25", 1, ""),
        ("transport", "bob@gmail.com", 0, "slow:"),
        ("transport", "x@a.lists.example", 0, "bulk:[bulk.example]:25"),
        ("transport", "bob@yahoo.com", 1, ""),
    ]
    for name, key, rc, want in cases:
        got_rc, out, err = d.postmap(key, name)
        label = "%s %s -> %s" % (name, key, "NOTFOUND" if rc else (want or "found"))
        if want is None:
            t.ok(got_rc == 0 and out.startswith("verify"), label, "rc=%d out=%r err=%r" % (got_rc, out, err))
        else:
            t.ok(got_rc == rc and out == want, label, "rc=%d out=%r err=%r" % (got_rc, out, err))

    log = d.log_text()
    t.ok("relay: key=<alice@example.com> found" in log, "lookup logged with its decision")
    t.ok("rule=@example.com" in log and "relay=mailgun" in log, "log names the rule and relay")
    t.ok("sasl_user=<postmaster@mg.example.com>" in log, "sasl lookup logs the user")
    t.ok("mg-secret-1" not in log and "ses-secret-2" not in log, "passwords never logged",
         [l for l in log.splitlines() if "secret" in l])
finally:
    rc = d.stop()
    t.eq(rc, 0, "SIGTERM: clean exit")
    d.cleanup()
t.done()
