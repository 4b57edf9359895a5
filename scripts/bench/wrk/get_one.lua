-- GET one configuration, round robin over the seeded ids.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")

function init(args)
  common.init(args, false)
end

function request()
  return wrk.format("GET", common.base .. common.next_id() .. "/")
end
