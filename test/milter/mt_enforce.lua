-- SMTP-time rules of the policy service, applied by the milter at MAIL:
-- require_auth, require_tls, sender ownership ({auth_authen}, {tls_version}).
dofile(os.getenv("MT_LIB"))
local function open(helo_macros)
  local conn = connect()
  check(mt.conninfo(conn, "client.example", "127.0.0.1") == nil, "conninfo")
  if helo_macros then mt.macro(conn, SMFIC_HELO, "{tls_version}", "TLSv1.3") end
  check(mt.helo(conn, "client.example") == nil, "helo")
  return conn
end

-- no AUTH, no TLS
local c = open(false)
check(mt.mailfrom(c, "<alice@own.example>") == nil, "mailfrom")
check(mt.getreply(c) == SMFIR_REPLYCODE, "require_auth: unauthenticated sender rejected")
check(mt.mailfrom(c, "<x@tls.example>") == nil, "mailfrom")
check(mt.getreply(c) == SMFIR_REPLYCODE, "require_tls: sender without TLS rejected")
check(mt.mailfrom(c, "<>") == nil, "mailfrom <>")
check(mt.getreply(c) == SMFIR_CONTINUE, "null sender passes")
mt.disconnect(c)

-- TLS (macro sent with HELO, kept for the connection)
c = open(true)
check(mt.mailfrom(c, "<x@tls.example>") == nil, "mailfrom")
check(mt.getreply(c) == SMFIR_CONTINUE, "require_tls: sender with TLS passes")
check(mt.mailfrom(c, "<x@tls.example>") == nil, "mailfrom again")
check(mt.getreply(c) == SMFIR_CONTINUE, "TLS remembered for the next message")
mt.disconnect(c)

-- AUTH as alice
c = open(false)
mt.macro(c, SMFIC_MAIL, "{auth_authen}", "alice")
check(mt.mailfrom(c, "<alice@own.example>") == nil, "mailfrom")
check(mt.getreply(c) == SMFIR_CONTINUE, "authenticated owner passes")
mt.macro(c, SMFIC_MAIL, "{auth_authen}", "alice")
check(mt.mailfrom(c, "<bob@own.example>") == nil, "mailfrom")
check(mt.getreply(c) == SMFIR_REPLYCODE, "not the owner: rejected")
mt.disconnect(c)
