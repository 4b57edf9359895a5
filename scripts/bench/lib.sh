# Shared by the benchmark scripts of this folder (sourced, not run): messages, a free
# loopback port, and the server's settings for a measurement. A script sets
# BENCH_NAME (for its messages) and ADMIN (the admin binary) before calling
# bench_server_env.

log() { printf '==> %s\n' "$*" >&2; }
die() { printf '%s: %s\n' "${BENCH_NAME:-bench}" "$*" >&2; exit 1; }

# A scratch folder in $WORK (sb-<name>.XXXXXX under $TMPDIR) and, on exit or
# interrupt, the server in $SERVER_PID stopped and the folder removed.
bench_scratch() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/sb-$1.XXXXXX")
    SERVER_PID=""
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}
bench_cleanup() {
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
    rm -rf "$WORK"
}

# A TCP port free on 127.0.0.1 now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The server as an operator runs it (production profile, explicit keys, made here),
# with what would refuse or slow a load generator off: the per-token and per-user
# rate limits and the login throttles. Logs at warn.
bench_server_env() {
    export SWITCHBOARD_PROFILE=production
    SWITCHBOARD__CRYPTO__KEYS="1:$("$ADMIN" keys generate)"
    SWITCHBOARD__AUTH__TOKEN_HMAC_KEY="$("$ADMIN" keys generate)"
    export SWITCHBOARD__CRYPTO__KEYS SWITCHBOARD__AUTH__TOKEN_HMAC_KEY
    export SWITCHBOARD__CRYPTO__PRIMARY_KEY_ID=1
    export SWITCHBOARD__RATE_LIMIT__PER_SECOND=0
    export SWITCHBOARD__RATE_LIMIT__PER_USER_PER_SECOND=0
    export SWITCHBOARD__AUTH__LOGIN_EMAIL_FAILURES_PER_MINUTE=0
    export SWITCHBOARD__AUTH__LOGIN_ADDRESS_FAILURES_PER_MINUTE=0
    export SWITCHBOARD__LOG__LEVEL=warn
}
