-- mt_lib.lua - the preamble every miltertest script here loads with
-- dofile(os.getenv("MT_LIB")): the milter's socket, check() and connect().
sock = os.getenv("MILTER_SOCK")

-- One "ok:" line, or a "FAILED:" line and the script stops (miltertest exits non-zero).
function check(cond, what)
  if not cond then mt.echo("FAILED: " .. what); error("FAILED: " .. what) end
  mt.echo("ok: " .. what)
end

-- A new connection to the milter under test; WHAT names the step (default "connect").
function connect(what)
  local conn = mt.connect(sock, 40, 0.05)
  check(conn ~= nil, what or "connect")
  return conn
end
