# Shared by the scripts that test a running server (scripts/clients, scripts/readme):
# source it, then `start_server WORKDIR [extra VAR=value ...]`.
#
# start_server starts target/debug/switchboard (build it first) on a free port of
# 127.0.0.1, in the development profile, on a fresh SQLite file under WORKDIR, with
# explicit keys, rate limits and login throttling off, provider verification pointed
# at a closed local port unless the caller says otherwise; waits until
# /health/ready answers, and sets
#   SERVER_PID, SERVER_PORT, SERVER_URL (http://127.0.0.1:PORT), SERVER_TOKEN (the
#   first token the server printed, organization `default`)
# and exports the same SWITCHBOARD__* variables, so that target/debug/switchboard-admin
# run afterwards works on the same database. stop_server ends it (also on EXIT when
# the caller traps it). The server's output lands in WORKDIR/server.out and .err.

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_server() {
    local work=$1
    shift
    rm -rf "$work" && mkdir -p "$work"
    SERVER_PORT=$(free_port)
    export SWITCHBOARD_PROFILE=development
    export SWITCHBOARD__DATA_DIR="$work/data"
    export SWITCHBOARD__SERVER__PORT="$SERVER_PORT"
    export SWITCHBOARD__SERVER__HOST=127.0.0.1
    export SWITCHBOARD__CRYPTO__KEYS="1:$(target/debug/switchboard-admin keys generate)"
    export SWITCHBOARD__CRYPTO__PRIMARY_KEY_ID=1
    export SWITCHBOARD__AUTH__TOKEN_HMAC_KEY="$(target/debug/switchboard-admin keys generate)"
    export SWITCHBOARD__RATE_LIMIT__PER_SECOND=0
    export SWITCHBOARD__RATE_LIMIT__PER_USER_PER_SECOND=0
    export SWITCHBOARD__AUTH__LOGIN_EMAIL_FAILURES_PER_MINUTE=0
    export SWITCHBOARD__AUTH__LOGIN_ADDRESS_FAILURES_PER_MINUTE=0
    local provider
    for provider in TWILIO PLIVO VONAGE TELNYX; do
        local name="SWITCHBOARD__VERIFY__${provider}_BASE_URL"
        [ -n "${!name:-}" ] || export "$name=http://127.0.0.1:9"
    done
    export SWITCHBOARD__VERIFY__TIMEOUT_MS="${SWITCHBOARD__VERIFY__TIMEOUT_MS:-2000}"
    export SWITCHBOARD__LOG__LEVEL="${SWITCHBOARD__LOG__LEVEL:-warn}"
    local assignment
    for assignment in "$@"; do export "${assignment?}"; done
    target/debug/switchboard >"$work/server.out" 2>"$work/server.err" &
    SERVER_PID=$!
    SERVER_URL="http://127.0.0.1:$SERVER_PORT"
    local _
    for _ in $(seq 1 150); do
        curl -fsS "$SERVER_URL/health/ready" >/dev/null 2>&1 && break
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "the server did not start:" >&2
            cat "$work/server.err" >&2
            return 1
        fi
        sleep 0.2
    done
    curl -fsS "$SERVER_URL/health/ready" >/dev/null || { cat "$work/server.err" >&2; return 1; }
    SERVER_TOKEN=$(sed -n 's/^first token (shown once): //p' "$work/server.out" | head -n1)
    [ -n "$SERVER_TOKEN" ] || { echo "no first token in the server's output" >&2; return 1; }
}

stop_server() {
    if [ -n "${SERVER_PID:-}" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
