-- Internal trouble (a header_checks REPLACE that expands to an invalid line)
-- gets the configured default action, tempfail when none is set, with its
-- own text; the message is never passed on unfiltered.
dofile(os.getenv("MT_LIB"))
local conn = connect()
check(mt.conninfo(conn, "client.example", "127.0.0.1") == nil, "conninfo")
check(mt.mailfrom(conn, "<alice@example.org>") == nil, "mailfrom")
mt.header(conn, "X-Break", "bell \a here")
mt.header(conn, "X-Originating-IP", "[10.9.9.9]")
check(mt.eom(conn) == nil, "eom")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "internal error: a reply code, not CONTINUE")
check(mt.eom_check(conn, MT_SMTPREPLY, "451", "4.3.0", "message filter temporarily unavailable"),
      "default action tempfail: 451 4.3.0 and its text")
check(not mt.eom_check(conn, MT_HDRDELETE), "no partial edits sent")
mt.disconnect(conn)
