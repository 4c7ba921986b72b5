-- wrk script for bench/run.sh: POST grant_type=client_credentials to a token endpoint,
-- authenticating with client_secret_basic.
--   BASIC_AUTH  base64("client_id:client_secret"), both halves already form-urlencoded
--   TOKEN_BODY  optional request body (default "grant_type=client_credentials")
--   TOKEN_DELAY_MS  optional pause (whole milliseconds) before each request of a connection:
--               a paced load below saturation, where a p99 shows added work, not queueing
local auth = os.getenv("BASIC_AUTH")
if auth == nil or auth == "" then
  error("BASIC_AUTH is not set")
end
wrk.method = "POST"
wrk.body = os.getenv("TOKEN_BODY") or "grant_type=client_credentials"
wrk.headers["Authorization"] = "Basic " .. auth
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

local pause = tonumber(os.getenv("TOKEN_DELAY_MS") or "")
if pause ~= nil and pause > 0 then
  function delay()
    return pause
  end
end
