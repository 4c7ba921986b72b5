-- wrk script for bench/registration.sh: one dynamic client registration (RFC 7591) per
-- request, each spending one use of an initial access token. The tokens (1000 uses each)
-- are read from the file named by the first script argument, one a line; this thread
-- moves to the next token after 1000 requests, so no request meets a spent token.
local tokens, sent = {}, 0
function init(args)
  for line in io.lines(args[1]) do
    tokens[#tokens + 1] = line
  end
  if #tokens == 0 then
    error("no initial access tokens in " .. tostring(args[1]))
  end
end
local body = '{"client_name":"bench","redirect_uris":["https://app.example/cb"],'
  .. '"grant_types":["authorization_code","refresh_token"],"scope":"openid profile email"}'
function request()
  local t = tokens[math.floor(sent / 1000) + 1] or tokens[#tokens]
  sent = sent + 1
  return wrk.format("POST", nil, {
    ["Authorization"] = "Bearer " .. t,
    ["Content-Type"] = "application/json",
  }, body)
end
