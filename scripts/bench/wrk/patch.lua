-- PATCH rotate: a new auth token for one of the seeded configurations (round robin).
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")

function init(args)
  common.init(args, true)
end

function request()
  local id = common.next_id()
  local body = '{"auth_token":"' .. common.unique_hex() .. '"}'
  return wrk.format("PATCH", common.base .. id .. "/", nil, body)
end
