-- Privacy: internal Received and X-Originating-IP go, external Received stays;
-- Date and Message-ID are added only when missing.
dofile(os.getenv("MT_LIB"))
local conn = connect()


check(mt.conninfo(conn, "client.example", "127.0.0.1") == nil, "conninfo")
check(mt.helo(conn, "client.example") == nil, "helo")
mt.macro(conn, SMFIC_MAIL, "i", "4ABCDEF123")
check(mt.mailfrom(conn, "<alice@example.org>") == nil, "mailfrom")
mt.header(conn, "Received", "from pc1.lan (pc1.lan [10.1.2.3]) by gw.example.org with ESMTP id 1; Mon, 1 Jan 2024 00:00:00 +0000")
mt.header(conn, "Received", "from mail.example.net (mail.example.net [203.0.113.5]) by gw.example.org; Mon, 1 Jan 2024 00:00:00 +0000")
mt.header(conn, "Received", "from build (unknown [IPv6:fd00::7]) by gw; Mon, 1 Jan 2024 00:00:00 +0000")
mt.header(conn, "X-Originating-IP", "[10.9.9.9]")
mt.header(conn, "X-PHP-Originating-Script", "1000:mailer.php")
mt.header(conn, "X-Mailer", "Outlook 16")
mt.header(conn, "From", "Alice <alice@example.org>")
mt.header(conn, "Subject", "hello")
-- negotiated away: RCPT, EOH and the body are never sent, connect/HELO/headers get no reply
for _, o in ipairs({SMFIP_NORCPT, SMFIP_NOEOH, SMFIP_NOBODY, SMFIP_NODATA, SMFIP_NR_CONN, SMFIP_NR_HELO, SMFIP_NR_HDR}) do
  check(mt.test_option(conn, o), "protocol option " .. o .. " negotiated")
end
check(mt.eom(conn) == nil, "eom")
check(mt.getreply(conn) == SMFIR_ACCEPT or mt.getreply(conn) == SMFIR_CONTINUE, "accepted")
check(mt.eom_check(conn, MT_HDRDELETE, "Received"), "a Received header deleted")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Originating-IP"), "X-Originating-IP deleted")
check(mt.eom_check(conn, MT_HDRDELETE, "X-PHP-Originating-Script"), "X-PHP-Originating-Script deleted")
check(mt.eom_check(conn, MT_HDRDELETE, "X-Mailer"), "X-Mailer deleted (remove_mailer)")
check(mt.eom_check(conn, MT_HDRADD, "Date"), "Date added")
check(mt.eom_check(conn, MT_HDRADD, "Message-ID"), "Message-ID added")
local mid = mt.getheader(conn, "Message-ID", 0)
check(mid ~= nil and string.find(mid, "4ABCDEF123.", 1, true) ~= nil and string.find(mid, "@mx.example.test>", 1, true) ~= nil, "Message-ID uses the configured host name: " .. tostring(mid))
check(not mt.eom_check(conn, MT_HDRDELETE, "From"), "From kept")
check(not mt.eom_check(conn, MT_HDRADD, "X-Relayed-By"), "relay-only rule not applied to another relay")

-- Second message on the same connection: Date and Message-ID present, nothing to do.
check(mt.mailfrom(conn, "<alice@example.org>") == nil, "mailfrom 2")
mt.header(conn, "Received", "from mail.example.net (mail.example.net [203.0.113.5]) by gw.example.org; Mon, 1 Jan 2024 00:00:00 +0000")
mt.header(conn, "Date", "Mon, 1 Jan 2024 00:00:00 +0000")
mt.header(conn, "Message-ID", "<x@example.org>")
mt.header(conn, "From", "alice@example.org")
check(mt.eom(conn) == nil, "eom 2")
check(not mt.eom_check(conn, MT_HDRADD), "nothing added when Date and Message-ID exist")
check(not mt.eom_check(conn, MT_HDRDELETE), "external Received kept")
check(not mt.eom_check(conn, MT_HDRCHANGE), "nothing changed")
mt.disconnect(conn)
