-- GET the list: the first page of the organization's configurations.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")

function init(args)
  common.init(args, false)
  wrk.path = common.base
end
