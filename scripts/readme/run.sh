#!/usr/bin/env bash
# Runs every shell block of the README's walk-throughs, in order, under `bash -e`,
# against a freshly started server, so that an example can never again use an id
# that no longer exists (scripts/readme/extract.py says which blocks and how).
#
# Builds the debug binaries (server, admin, provider stand-in), starts
# `switchboard-stand-in` on a free loopback port accepting the README's Twilio
# credentials, starts `switchboard` (development profile, fresh SQLite file,
# verification pointed at the stand-in; scripts/lib/server.sh) and runs the blocks
# with TOKEN set to the first token it printed. Nothing leaves 127.0.0.1. The
# generated script and both programs' output land in target/readme/.
#
#   scripts/readme/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/server.sh

work=$PWD/target/readme
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)" >&2; exit 1; }

echo "==> build"
cargo build --locked -q -p switchboard-server -p switchboard-admin -p switchboard-test-support --bins

stand_in_pid=
cleanup() {
    stop_server
    [ -z "$stand_in_pid" ] || { kill "$stand_in_pid" 2>/dev/null || true; wait "$stand_in_pid" 2>/dev/null || true; }
}
trap cleanup EXIT

echo "==> start the provider stand-in and the server"
mkdir -p "$work"
stand_in_port=$(free_port)
# The credentials the README's verification example uses, and that account's
# numbers for its number import example.
target/debug/switchboard-stand-in --port "$stand_in_port" \
    --accept twilio:AC0123456789abcdef0123456789abcdef:0123456789abcdef0123456789abcdef \
    --accept twilio:AC00000000000000000000000000000043:0000000000000000000000000000abcd \
    --numbers AC0123456789abcdef0123456789abcdef:+14155550171,+14155550172,+14155550173 \
    >"$work/stand-in.out" 2>&1 &
stand_in_pid=$!
for _ in $(seq 1 100); do
    grep -q "listening on" "$work/stand-in.out" 2>/dev/null && break
    sleep 0.1
done
grep -q "listening on" "$work/stand-in.out" || { cat "$work/stand-in.out" >&2; exit 1; }
start_server "$work/server" \
    "SWITCHBOARD__VERIFY__TWILIO_BASE_URL=http://127.0.0.1:$stand_in_port" \
    "SWITCHBOARD__WEBHOOKS__ALLOW_PRIVATE_TARGETS=true"
echo "server on $SERVER_URL, stand-in on 127.0.0.1:$stand_in_port"

script=$work/walkthrough.sh
{
    echo "source '$PWD/scripts/readme/prelude.sh'"
    python3 scripts/readme/extract.py README.md "$SERVER_URL"
    echo 'echo; echo "README walk-throughs: $README_BLOCK passed, 0 failed"'
} >"$script"

echo "==> run the README's blocks ($script)"
# A fresh folder as the working directory, as a reader's would be.
mkdir -p "$work/cwd"
admin=$PWD/target/debug/switchboard-admin
(cd "$work/cwd" && TOKEN=$SERVER_TOKEN README_ADMIN=$admin bash -e "$script")
