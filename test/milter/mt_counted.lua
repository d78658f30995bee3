-- Known traffic for the milter's counters: two messages pass (one header removed; one
-- header added and the envelope sender rewritten), one sender refused by policy, one
-- sender too long to judge, one message over the header bounds.
local conn = mt.connect(os.getenv("MILTER_SOCK"), 40, 0.05)
if conn == nil then error("cannot connect") end
local function check(cond, what)
  if not cond then mt.echo("FAILED: " .. what); error("FAILED: " .. what) end
  mt.echo("ok: " .. what)
end
local function std_headers(from)
  mt.header(conn, "From", from)
  mt.header(conn, "Date", "Mon, 1 Jan 2024 00:00:00 +0000")
  mt.header(conn, "Message-ID", "<m" .. math.random(1000000) .. "@example.org>")
end

check(mt.conninfo(conn, "client.example", "127.0.0.1") == nil, "conninfo")
check(mt.helo(conn, "client.example") == nil, "helo")

check(mt.mailfrom(conn, "<dave@example.org>") == nil, "mailfrom 1")
std_headers("dave@example.org")
mt.header(conn, "X-Spam-Flag", "YES")
check(mt.eom(conn) == nil, "eom 1")
check(mt.getreply(conn) == SMFIR_CONTINUE, "message 1 passes")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Spam-Flag"), "message 1: header removed")

check(mt.mailfrom(conn, "<alice@verified.example>") == nil, "mailfrom 2")
std_headers("alice@verified.example")
check(mt.eom(conn) == nil, "eom 2")
check(mt.getreply(conn) == SMFIR_CONTINUE, "message 2 passes")
check(mt.eom_check(conn, MT_HDRADD, "X-Relayed-By", "smarthostd"), "message 2: header added")

check(mt.mailfrom(conn, "<x@own.example>") == nil, "mailfrom 3 sent")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "sender 3 refused by policy (no login)")

check(mt.mailfrom(conn, "<" .. string.rep("a", 600) .. "@example.org>") == nil, "mailfrom 4 sent")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "sender 4 refused: too long to judge")

check(mt.mailfrom(conn, "<dave@example.org>") == nil, "mailfrom 5")
for i = 1, 1200 do mt.header(conn, "X-N", "v") end
check(mt.eom(conn) == nil, "eom 5")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "message 5 over the header bounds: rejected")
mt.disconnect(conn)
