#!/usr/bin/env bash
# Generated clients against the served OpenAPI document, as a user of the API would
# make them:
#
#   1. openapi-spec-validator validates the document;
#   2. Redocly's linter (`@redocly/cli lint`, rules in scripts/clients/redocly.yaml)
#      reports no error;
#   3. openapi-python-client generates a Python package that imports and, against the
#      running server, creates, lists, gets, patches and deletes a configuration
#      (scripts/clients/python_lifecycle.py);
#   4. openapi-typescript + openapi-fetch: the types are generated, the client code
#      (scripts/clients/ts/lifecycle.ts) type-checks with tsc and, run with node,
#      does the same lifecycle.
#
# Tools are pinned (requirements.txt, package-lock.json) and installed under
# target/clients/ (a venv and an npm folder). The server is the debug binary, started
# on a free port of 127.0.0.1 on a fresh SQLite file (scripts/lib/server.sh); the
# first token it prints is the clients' token. Exits non-zero on any failure.
#
#   scripts/clients/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/server.sh

log() { printf '\n==> %s\n' "$*"; }
dir=target/clients
mkdir -p "$dir"

log "tools into $dir (pinned)"
venv=$dir/venv
if ! cmp -s scripts/clients/requirements.txt "$venv/requirements.txt" 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r scripts/clients/requirements.txt
    cp scripts/clients/requirements.txt "$venv/requirements.txt"
fi
node_dir=$dir/node
if ! cmp -s scripts/clients/package-lock.json "$node_dir/package-lock.json" \
    || [ ! -d "$node_dir/node_modules" ]; then
    rm -rf "$node_dir" && mkdir -p "$node_dir"
    cp scripts/clients/package.json scripts/clients/package-lock.json "$node_dir/"
    (cd "$node_dir" && npm ci --no-audit --no-fund --silent)
fi
bin=$PWD/$node_dir/node_modules/.bin

log "build"
cargo build --locked -q -p switchboard-server -p switchboard-admin -p switchboard-test-support --bins

log "start switchboard"
trap stop_server EXIT
start_server "$PWD/$dir/server"
echo "serving on $SERVER_URL"
document=$dir/openapi.json
curl -fsS "$SERVER_URL/api/v2/platform/openapi.json" -o "$document"

passed=0
failed=0
step() {
    local name=$1
    shift
    log "$name"
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAILED: $name" >&2
    fi
}

validate() { "$venv/bin/openapi-spec-validator" "$document"; }

lint() {
    # Exits non-zero on any error; warnings are listed.
    NO_UPDATE_NOTIFIER=1 REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
        "$bin/redocly" lint "$document" --config scripts/clients/redocly.yaml --format=stylish
}

python_client() {
    local out=$dir/python
    rm -rf "$out" && mkdir -p "$out" || return 1
    local log_file=$out/generate.log
    "$venv/bin/openapi-python-client" generate --path "$document" --meta none \
        --output-path "$out/switchboard_client" >"$log_file" 2>&1 || { cat "$log_file"; return 1; }
    # A skipped endpoint is a warning, not an error, of the generator: fail on it.
    if grep -q "WARNING\|Unable to parse" "$log_file"; then
        cat "$log_file"
        return 1
    fi
    PYTHONPATH=$out "$venv/bin/python" scripts/clients/python_lifecycle.py \
        "$SERVER_URL" "$SERVER_TOKEN" default || return 1
}

# Each step runs as an `if` condition, where `set -e` does not apply: every command
# says `|| return 1` itself.
typescript_client() {
    local out=$dir/ts
    rm -rf "$out" && mkdir -p "$out"
    "$bin/openapi-typescript" "$document" --output "$out/schema.d.ts" || return 1
    cp scripts/clients/ts/lifecycle.ts scripts/clients/ts/tsconfig.json "$out/" || return 1
    ln -s "$PWD/$node_dir/node_modules" "$out/node_modules"
    echo '{"type": "module"}' >"$out/package.json"
    (cd "$out" && "$bin/tsc" -p tsconfig.json) || return 1
    node "$out/lifecycle.js" "$SERVER_URL" "$SERVER_TOKEN" default || return 1
}

step "openapi-spec-validator" validate
step "redocly lint (0 errors)" lint
step "openapi-python-client: generate, import, configuration lifecycle" python_client
step "openapi-typescript + openapi-fetch: generate, tsc, configuration lifecycle" typescript_client

echo
echo "client checks: $passed passed, $failed failed"
[ "$failed" = 0 ]
