-- Header rules and List-Unsubscribe limited to sender patterns (senders = [...]).
local sock = os.getenv("MILTER_SOCK")
local function check(cond, what)
  if not cond then mt.echo("FAILED: " .. what); error("FAILED: " .. what) end
  mt.echo("ok: " .. what)
end
local conn = mt.connect(sock, 40, 0.05)
check(conn ~= nil, "connect")
check(mt.conninfo(conn, "client.example", "127.0.0.1") == nil, "conninfo")
mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "alice")

check(mt.mailfrom(conn, "<Promo+may@News.Example>") == nil, "mailfrom news")
mt.header(conn, "X-Campaign", "may")
mt.header(conn, "From", "News <promo@news.example>")
check(mt.eom(conn) == nil, "eom news")
check(mt.getreply(conn) == SMFIR_CONTINUE, "news accepted")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Campaign"), "X-Campaign removed for @news.example")
check(mt.eom_check(conn, MT_HDRADD, "List-Unsubscribe", "<https://news.example/u>"), "List-Unsubscribe added")
check(mt.eom_check(conn, MT_HDRADD, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click"), "List-Unsubscribe-Post added")

check(mt.mailfrom(conn, "<alice@example.org>") == nil, "mailfrom other")
mt.header(conn, "X-Campaign", "may")
mt.header(conn, "From", "Alice <alice@example.org>")
check(mt.eom(conn) == nil, "eom other")
check(not mt.eom_check(conn, MT_HDRDELETE, "X-Campaign"), "X-Campaign kept for another sender")
check(not mt.eom_check(conn, MT_HDRADD, "List-Unsubscribe"), "no List-Unsubscribe for another sender")

check(mt.mailfrom(conn, "<x@eu.lists.example>") == nil, "mailfrom subdomain")
mt.header(conn, "From", "x@eu.lists.example")
check(mt.eom(conn) == nil, "eom subdomain")
check(mt.eom_check(conn, MT_HDRADD, "List-Unsubscribe", "<mailto:leave@lists.example>"), "@.lists.example entry used for a subdomain")
check(not mt.eom_check(conn, MT_HDRADD, "List-Unsubscribe-Post"), "no one-click Post without one_click")
mt.disconnect(conn)
