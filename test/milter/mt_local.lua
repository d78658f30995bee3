-- A connection without an address (unknown family: Postfix's smtpd on a unix
-- socket) is an SMTP client, not a local submission: the SMTP-time rules apply
-- at MAIL whatever local_submission says. Real local submissions (cleanup(8)'s
-- emulated client: 127.0.0.1 port 0, which miltertest cannot send) are in
-- e2e_milter.sh.
dofile(os.getenv("MT_LIB"))
local conn = connect()
check(mt.conninfo(conn, "localhost", "unspec") == nil, "conninfo without address")
mt.macro(conn, SMFIC_MAIL, "i", "4UNSPEC1")
check(mt.mailfrom(conn, "<alice@own.example>") == nil, "mailfrom")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "require_auth: rejected at MAIL")
check(mt.mailfrom(conn, "<>") == nil, "mailfrom <>")
check(mt.getreply(conn) == SMFIR_CONTINUE, "the null sender passes")
mt.disconnect(conn)
