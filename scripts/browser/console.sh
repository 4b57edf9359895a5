#!/usr/bin/env bash
# Browser tests of the web console (/console/): Debian's chromium driven by
# playwright-core (scripts/browser/), axe-core injected for the accessibility rules,
# only loopback requests let through. Builds the server, the admin tool and the
# provider stand-in, then runs scripts/browser/console/console.cjs, which starts
# them on free ports of 127.0.0.1 in a temporary folder and writes the screenshots
# into docs/console/.
#
#   scripts/browser/console.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/browser/install.sh >/dev/null
dir=target/browser/console
mkdir -p "$dir"
if ! cmp -s scripts/browser/console/package-lock.json "$dir/package-lock.json" \
    || [ ! -f "$dir/node_modules/axe-core/axe.min.js" ]; then
    cp scripts/browser/console/package.json scripts/browser/console/package-lock.json "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --silent)
fi
cargo build --locked -p switchboard-server -p switchboard-admin \
    -p switchboard-test-support --bin switchboard --bin switchboard-admin --bin switchboard-stand-in
target_dir="$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
export SWITCHBOARD_AXE="$PWD/$dir/node_modules/axe-core/axe.min.js"
export SWITCHBOARD_BIN="$target_dir/debug/switchboard"
export SWITCHBOARD_ADMIN_BIN="$target_dir/debug/switchboard-admin"
export SWITCHBOARD_STAND_IN_BIN="$target_dir/debug/switchboard-stand-in"
exec scripts/browser/run.sh scripts/browser/console/console.cjs
