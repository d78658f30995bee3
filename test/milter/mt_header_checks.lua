-- A Postfix smtp_header_checks file reused as is: IGNORE, REPLACE with $1, PREPEND.
local conn = mt.connect(os.getenv("MILTER_SOCK"), 40, 0.05)
if conn == nil then error("cannot connect") end
local function check(cond, what)
  if not cond then mt.echo("FAILED: " .. what); error("FAILED: " .. what) end
  mt.echo("ok: " .. what)
end

check(mt.conninfo(conn, "client.example", "127.0.0.1") == nil, "conninfo")
check(mt.mailfrom(conn, "<alice@example.org>") == nil, "mailfrom")
mt.header(conn, "X-Secret-Token", "abc")
mt.header(conn, "Subject", "[internal] quarterly numbers")
mt.header(conn, "X-Campaign", "spring24 batch=3")
mt.header(conn, "X-Spam-Flag", "NO")
mt.header(conn, "Date", "Mon, 1 Jan 2024 00:00:00 +0000")
mt.header(conn, "Message-ID", "<m@example.org>")
check(mt.eom(conn) == nil, "eom")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Secret-Token"), "IGNORE removes the header")
check(mt.eom_check(conn, MT_HDRCHANGE, "Subject", "quarterly numbers"), "REPLACE with $1")
check(mt.eom_check(conn, MT_HDRINSERT, "X-Campaign-Id", "spring24"), "PREPEND inserts a header")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Spam-Flag"), "config remove rule")
mt.disconnect(conn)
