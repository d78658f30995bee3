-- SIGHUP reload: a connection keeps the snapshot it started with; new
-- connections see the new config. RELOAD_CMD rewrites the config and HUPs.
dofile(os.getenv("MT_LIB"))
local function message(conn)
  check(mt.mailfrom(conn, "<alice@example.org>") == nil, "mailfrom")
  mt.header(conn, "Subject", "x")
  check(mt.eom(conn) == nil, "eom")
  return mt.getheader(conn, "Message-ID", 0) or "nil"
end

local old = mt.connect(sock, 40, 0.05)
check(old ~= nil, "connect before the reload")
check(mt.conninfo(old, "client.example", "127.0.0.1") == nil, "conninfo")
local id = message(old)
check(string.find(id, "@" .. os.getenv("HOST_BEFORE") .. ">", 1, true) ~= nil, "before: " .. id)

local r = os.execute(os.getenv("RELOAD_CMD"))
check(r == 0 or r == true, "reload command")

id = message(old)
check(string.find(id, "@" .. os.getenv("HOST_BEFORE") .. ">", 1, true) ~= nil, "same connection keeps its snapshot: " .. id)
mt.disconnect(old)

local new = mt.connect(sock, 40, 0.05)
check(new ~= nil, "connect after the reload")
check(mt.conninfo(new, "client.example", "127.0.0.1") == nil, "conninfo")
id = message(new)
check(string.find(id, "@" .. os.getenv("HOST_AFTER") .. ">", 1, true) ~= nil, "new connection sees the new config: " .. id)
mt.disconnect(new)
