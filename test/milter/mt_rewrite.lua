-- Per-relay sender rewrite: mail routed to relay "ses" leaves with the verified
-- identity in From (display name kept), the original in Reply-To.
dofile(os.getenv("MT_LIB"))
local conn = connect()

check(mt.conninfo(conn, "client.example", "127.0.0.1") == nil, "conninfo")
check(mt.helo(conn, "client.example") == nil, "helo")
mt.macro(conn, SMFIC_MAIL, "i", "4ABCDEF123")
check(mt.mailfrom(conn, "<alice@verified.example>") == nil, "mailfrom")
mt.header(conn, "From", "Alice Example <alice@verified.example>")
mt.header(conn, "Date", "Mon, 1 Jan 2024 00:00:00 +0000")
check(mt.eom(conn) == nil, "eom")
check(mt.getreply(conn) == SMFIR_CONTINUE or mt.getreply(conn) == SMFIR_ACCEPT, "accepted")
check(mt.eom_check(conn, MT_HDRCHANGE, "From", "Alice Example <bounce@verified.example>"), "From rewritten to the identity")
check(mt.eom_check(conn, MT_HDRADD, "Reply-To", "Alice Example <alice@verified.example>"), "original From kept in Reply-To")
check(mt.eom_check(conn, MT_HDRADD, "X-Relayed-By", "smarthostd"), "relay-scoped header added")
-- (miltertest's getheader trips over the envelope change in the same reply)
check(mt.eom_check(conn, MT_HDRADD, "Message-ID"), "Message-ID added")

-- Same relay, Reply-To already there: From rewritten, Reply-To untouched.
check(mt.mailfrom(conn, "<carol@verified.example>") == nil, "mailfrom 2")
mt.header(conn, "From", "carol@verified.example")
mt.header(conn, "Reply-To", "<desk@verified.example>")
mt.header(conn, "Date", "Mon, 1 Jan 2024 00:00:00 +0000")
mt.header(conn, "Message-ID", "<m2@verified.example>")
check(mt.eom(conn) == nil, "eom 2")
check(mt.eom_check(conn, MT_HDRCHANGE, "From", "bounce@verified.example"), "bare From rewritten, still bare")
check(not mt.eom_check(conn, MT_HDRADD, "Reply-To"), "existing Reply-To kept")

-- A sender of another relay: From untouched.
check(mt.mailfrom(conn, "<dave@example.org>") == nil, "mailfrom 3")
mt.header(conn, "From", "dave@example.org")
mt.header(conn, "Date", "Mon, 1 Jan 2024 00:00:00 +0000")
mt.header(conn, "Message-ID", "<m3@example.org>")
check(mt.eom(conn) == nil, "eom 3")
check(not mt.eom_check(conn, MT_HDRCHANGE), "other relay: nothing changed")
mt.disconnect(conn)
