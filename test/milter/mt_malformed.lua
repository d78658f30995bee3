-- Hostile input: huge headers are refused (never passed unfiltered), odd but
-- legal headers pass, and the milter keeps serving afterwards.
dofile(os.getenv("MT_LIB"))
local conn = connect()

check(mt.conninfo(conn, "client.example", "127.0.0.1") == nil, "conninfo")
check(mt.mailfrom(conn, "<alice@example.org>") == nil, "mailfrom")
mt.header(conn, "X-Empty", "")
mt.header(conn, "Received", "(((((((((( [[[[[ ;;;; ]]]]] IPv6: IPv6:zz::: [999.1.1.1]")
mt.header(conn, "Received", string.rep("from x.lan ", 80))
check(mt.eom(conn) == nil, "eom")
check(mt.getreply(conn) == SMFIR_CONTINUE or mt.getreply(conn) == SMFIR_ACCEPT, "odd headers pass")
check(mt.eom_check(conn, MT_HDRDELETE, "Received"), "long internal Received still removed")

-- 1100 headers of 990 bytes: over the count and the 1 MiB bounds (miltertest
-- itself cannot send one header over ~1 KiB; the 100 KiB per-header and the
-- byte bounds alone are covered by the unit test).
check(mt.mailfrom(conn, "<alice@example.org>") == nil, "mailfrom 2")
local big = string.rep("a", 990)
for i = 1, 1100 do mt.header(conn, "X-Big", big) end
check(mt.eom(conn) == nil, "eom 2")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "oversize message rejected with a reply code")
check(mt.eom_check(conn, MT_SMTPREPLY, "554", "5.7.1", "message headers exceed the milter's limits"),
      "oversize: the SMTP reply text itself")

-- 1200 small headers cross the header count bound.
check(mt.mailfrom(conn, "<alice@example.org>") == nil, "mailfrom 3")
for i = 1, 1200 do mt.header(conn, "X-N", "v") end
check(mt.eom(conn) == nil, "eom 3")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "too many headers rejected")
mt.disconnect(conn)

-- A fresh connection still works.
conn = mt.connect(sock, 40, 0.05)
check(conn ~= nil, "reconnect")
check(mt.conninfo(conn, "client.example", "127.0.0.1") == nil, "conninfo again")
check(mt.mailfrom(conn, "<alice@example.org>") == nil, "mailfrom again")
mt.header(conn, "Subject", "after")
check(mt.eom(conn) == nil, "eom again")
check(mt.eom_check(conn, MT_HDRADD, "Date"), "still filtering")
mt.disconnect(conn)
