-- POST create: a new Twilio configuration with a unique account SID per request.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")

function init(args)
  common.init(args, true)
end

function request()
  local body = '{"provider":"twilio","account_sid":"AC' .. common.unique_hex() ..
    '","auth_token":"0123456789abcdef0123456789abcdef"}'
  return wrk.format("POST", common.base, nil, body)
end
