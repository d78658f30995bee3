-- After a refused reload the milter still answers with the last good config.
dofile(os.getenv("MT_LIB"))
local conn = connect()
mt.conninfo(conn, "client.example", "127.0.0.1")
mt.mailfrom(conn, "<alice@example.org>")
mt.header(conn, "X-Originating-IP", "[10.9.9.9]")
mt.eom(conn)
local id = mt.getheader(conn, "Message-ID", 0) or "nil"
if not mt.eom_check(conn, MT_HDRDELETE, "X-Originating-IP") or
   not string.find(id, "@reloaded.example.test>", 1, true) then
  mt.echo("FAILED: old config not in force: " .. id); error("old config")
end
mt.disconnect(conn)
