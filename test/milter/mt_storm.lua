-- mt_storm.lua - traffic for the signal storm test: new connections, one message
-- each, until the file STOP_FILE exists (or STORM_SECS pass). Every message must be
-- answered and carry a Message-ID from one of the configured hostnames
-- (@gen<N>.example.test); the count is echoed as "messages=N". With ONCE set: one
-- message, its Message-ID echoed as "id=<...>". (No conninfo: the milter skips CONNECT.)
dofile(os.getenv("MT_LIB"))
local stop_file = os.getenv("STOP_FILE")
local deadline = os.time() + tonumber(os.getenv("STORM_SECS") or "60")
local n = 0

-- check() without the "ok:" line per step: hundreds of messages pass here
local function need(cond, what)
  if not cond then mt.echo("FAILED: " .. what); error("FAILED: " .. what) end
end

local function stopped()
  local f = io.open(stop_file, "r")
  if f then f:close() return true end
  return os.time() > deadline
end

local function message()
  local conn = mt.connect(sock, 40, 0.05)
  need(conn ~= nil, "connect #" .. n)
  need(mt.mailfrom(conn, "<someone@unmatched.example>") == nil, "mailfrom #" .. n)
  need(mt.header(conn, "Subject", "storm") == nil, "header #" .. n)
  need(mt.eom(conn) == nil, "eom #" .. n)
  local r = mt.getreply(conn)
  need(r == SMFIR_CONTINUE or r == SMFIR_ACCEPT, "answer #" .. n .. ": " .. tostring(r))
  local id = mt.getheader(conn, "Message-ID", 0) or "nil"
  need(string.find(id, "@gen%d+%.example%.test>$") ~= nil, "Message-ID #" .. n .. ": " .. id)
  mt.disconnect(conn)
  return id
end

if os.getenv("ONCE") then
  mt.echo("id=" .. message())
  return
end
-- paced (PACE seconds between messages), so traffic leaves the reloads some CPU
local pace = tonumber(os.getenv("PACE") or "0.01")
while not stopped() do
  message()
  n = n + 1
  mt.sleep(pace)
end
mt.echo("messages=" .. n)
