-- GET /health/live: the HTTP ceiling (no authentication, no database).
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")

function init(args)
  wrk.path = "/health/live"
end
