-- wrk script for bench/run.sh: POST grant_type=client_credentials to a token endpoint,
-- authenticating with private_key_jwt: each request sends the next pre-signed assertion
-- (examples/client_assertions.rs), as each may be used once.
--   ASSERTIONS  file with one assertion per line (more than the run will send: once they
--               run out they are sent again and refused as replays, counted as non-2xx)
local path = os.getenv("ASSERTIONS")
if path == nil or path == "" then
  error("ASSERTIONS is not set")
end
local bodies = {}
for line in io.lines(path) do
  bodies[#bodies + 1] = "grant_type=client_credentials"
    .. "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
    .. "&client_assertion=" .. line
end
if #bodies == 0 then
  error("no assertions in " .. path)
end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, nil, nil, bodies[i])
end
