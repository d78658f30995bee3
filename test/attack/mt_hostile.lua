-- Envelope values the milter cannot judge are refused, never waved on:
-- a login with a control byte or longer than the rules' bound, for a
-- require_auth sender, must not count as authenticated.
local sock = os.getenv("MILTER_SOCK")
local function check(cond, what)
  if not cond then mt.echo("FAILED: " .. what); error("FAILED: " .. what) end
  mt.echo("ok: " .. what)
end
local function open()
  local conn = mt.connect(sock, 40, 0.05)
  check(conn ~= nil, "connect")
  check(mt.conninfo(conn, "client.example", "127.0.0.1") == nil, "conninfo")
  check(mt.helo(conn, "client.example") == nil, "helo")
  return conn
end
local function mail(conn, login, sender, want, what)
  if login then mt.macro(conn, SMFIC_MAIL, "{auth_authen}", login) end
  check(mt.mailfrom(conn, sender) == nil, "mailfrom " .. what)
  check(mt.getreply(conn) == want, what)
end

local c = open()
mail(c, "carol", "<carol@own.example>", SMFIR_CONTINUE, "a plain login passes require_auth")
mail(c, "car\001ol", "<carol@own.example>", SMFIR_REPLYCODE, "a login with a control byte is refused")
mail(c, string.rep("l", 600), "<carol@own.example>", SMFIR_REPLYCODE,
     "a 600-character login is refused, not cut to a shorter one")
mail(c, string.rep("l", 512), "<carol@own.example>", SMFIR_CONTINUE, "a 512-character login is judged")
mail(c, "carol", "<" .. string.rep("a", 588) .. "@own.example>", SMFIR_REPLYCODE,
     "a 600-character sender is refused at MAIL")
mail(c, "carol", "<x\001@own.example>", SMFIR_REPLYCODE, "a sender with a control byte is refused at MAIL")
mt.disconnect(c)
