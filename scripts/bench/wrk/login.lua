-- POST /auth/login/ with a valid email and password (Argon2id on every request).
-- Arguments after `--`: email, password.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")

function init(args)
  wrk.method = "POST"
  wrk.path = "/api/v2/platform/auth/login/"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"email":"' .. args[1] .. '","password":"' .. args[2] .. '"}'
end
