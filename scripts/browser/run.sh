#!/usr/bin/env bash
# Runs one browser test script (Node.js, CommonJS) after scripts/browser/install.sh:
#
#   scripts/browser/run.sh path/to/test.cjs [args...]
#
# The script loads the shared helpers with
#   const browser = require(process.env.SWITCHBOARD_BROWSER_LIB);
# (scripts/browser/lib.cjs: `withPage(url, fn)` opens Debian's headless chromium
# through playwright-core, lets only loopback requests through and fails the test
# when the page asked for anything else). It runs from the repository root; exit
# status is the script's.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 1 ] || { echo "usage: scripts/browser/run.sh TEST.cjs [ARGS...]" >&2; exit 2; }
scripts/browser/install.sh >/dev/null
export SWITCHBOARD_BROWSER_LIB="$PWD/scripts/browser/lib.cjs"
export SWITCHBOARD_BROWSER_MODULES="$PWD/target/browser/node_modules"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
exec node "$@"
