-- Mail that Postfix's cleanup(8) submits for sendmail(1)/pickup (no SMTP
-- client) is judged at end of message, never at MAIL or RCPT, and the reply
-- carries the policy service's own text. LOCAL_POLICY says what the config
-- has: "trust" (local users count as authenticated) or "enforce".
-- miltertest always sends a client port, so "unspec" (no address) stands in
-- for Postfix's emulated client; the e2e test covers the real one (port 0).
local sock = os.getenv("MILTER_SOCK")
local policy = os.getenv("LOCAL_POLICY")
local function check(cond, what)
  if not cond then mt.echo("FAILED: " .. what); error("FAILED: " .. what) end
  mt.echo("ok: " .. what)
end
local conn = mt.connect(sock, 40, 0.05)
check(conn ~= nil, "connect")
check(mt.conninfo(conn, "localhost", "unspec") == nil, "conninfo without address")
mt.macro(conn, SMFIC_MAIL, "i", "4LOCAL1")
check(mt.mailfrom(conn, "<alice@own.example>") == nil, "mailfrom")
check(mt.getreply(conn) == SMFIR_CONTINUE, "local mail is not rejected at MAIL")
mt.header(conn, "From", "alice@own.example")
mt.header(conn, "Subject", "cron")
check(mt.eom(conn) == nil, "eom")
if policy == "enforce" then
  check(mt.getreply(conn) == SMFIR_REPLYCODE, "require_auth: local mail rejected at end of message")
  check(mt.eom_check(conn, MT_SMTPREPLY, "554", "5.7.1",
        "<alice@own.example>: Sender address rejected: authentication required"),
        "reply text is the policy service's")
  check(not mt.eom_check(conn, MT_HDRADD), "nothing added to a rejected message")
else
  check(mt.getreply(conn) == SMFIR_CONTINUE, "trust: local mail of a require_auth sender passes")
  check(mt.eom_check(conn, MT_HDRADD, "Date"), "and is still cleaned up (Date added)")
end
mt.disconnect(conn)
