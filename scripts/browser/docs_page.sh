#!/usr/bin/env bash
# The /docs reference page in headless Chromium (scripts/browser/docs_page.cjs):
# builds the debug server, starts it on a free loopback port with a fresh database
# (scripts/lib/server.sh), runs the page test at desktop and phone width and writes
# the screenshots into docs/ (api-reference.png, api-reference-phone.png).
#
#   scripts/browser/docs_page.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/server.sh
scripts/browser/install.sh
cargo build --locked -q -p switchboard-server -p switchboard-admin -p switchboard-test-support --bins
trap stop_server EXIT
start_server "$PWD/target/browser/docs-server"
scripts/browser/run.sh scripts/browser/docs_page.cjs "$SERVER_URL" docs
