#!/usr/bin/env bash
# Login timing: the median time of logins with an unknown email and with a wrong
# password must differ by less than 20% (contract section 8: "in the same time"),
# so that a login's timing does not tell whether an email has an account.
#
# It is a measurement, not a test: it needs a quiet machine and a release build, so
# it is not part of `cargo test`. It builds the release binaries, starts the server
# (production profile, throttles off) on a fresh SQLite file with one user, sends
# interleaved failing logins (so that drift in the machine's load affects both
# alike), drops the warm-up rounds, prints both medians and their ratio, and exits
# non-zero when the ratio is outside [0.8, 1.25].
#
# Usage: scripts/bench/login_timing.sh
# Environment: LOGIN_ROUNDS (42, the first 2 are warm-up), BENCH_SKIP_BUILD=1,
#   BENCH_BIN_DIR (target/release: where switchboard and switchboard-admin are).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS=${LOGIN_ROUNDS:-42}
WARM_UP=2
[ "$ROUNDS" -gt "$WARM_UP" ] || { echo "LOGIN_ROUNDS must be more than $WARM_UP" >&2; exit 2; }
for tool in curl python3; do
    command -v "$tool" >/dev/null || { echo "login_timing.sh: $tool is required" >&2; exit 1; }
done

if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
    echo "==> building the release binaries" >&2
    (cd "$ROOT" && cargo build --release -q -p switchboard-server -p switchboard-admin)
fi
BIN_DIR=${BENCH_BIN_DIR:-$ROOT/target/release}
SERVER="$BIN_DIR/switchboard"
ADMIN="$BIN_DIR/switchboard-admin"

BENCH_NAME=login_timing.sh
# shellcheck source=scripts/bench/lib.sh
. "$ROOT/scripts/bench/lib.sh"
bench_scratch login-timing
PORT=$(free_port)
bench_server_env
export SWITCHBOARD__DATABASE__URL="sqlite://$WORK/switchboard.db"
export SWITCHBOARD__SERVER__PORT=$PORT

"$ADMIN" migrate >/dev/null
printf '%s\n' 'correct horse battery' |
    "$ADMIN" user create --email ops@bench.test --password-stdin >/dev/null

env -u RUST_LOG "$SERVER" 2>"$WORK/server.err" &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/health/live" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.err" >&2; exit 1; }
    sleep 0.1
done

login() { # email -> "<status> <seconds>"
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -X POST \
        -H 'Content-Type: application/json' \
        -d "{\"email\": \"$1\", \"password\": \"not the password\"}" \
        "http://127.0.0.1:$PORT/api/v2/platform/auth/login/"
}

echo "==> $ROUNDS rounds of two failing logins (unknown email, wrong password)" >&2
for round in $(seq 1 "$ROUNDS"); do
    unknown=$(login ghost@bench.test)
    wrong=$(login ops@bench.test)
    [ "$round" -le "$WARM_UP" ] && continue
    echo "unknown $unknown"
    echo "wrong $wrong"
done >"$WORK/samples"

python3 - "$WORK/samples" <<'PY'
import statistics, sys
samples = {"unknown": [], "wrong": []}
for line in open(sys.argv[1]):
    kind, status, seconds = line.split()
    if status != "401":
        sys.exit(f"a failing login answered {status}, not 401")
    samples[kind].append(float(seconds))
unknown, wrong = (statistics.median(samples[k]) for k in ("unknown", "wrong"))
ratio = unknown / wrong
n = len(samples["unknown"])
print(f"login timing, median of {n} each: unknown email {unknown * 1000:.1f} ms, "
      f"wrong password {wrong * 1000:.1f} ms, ratio {ratio:.3f}")
if not 0.8 <= ratio <= 1.25:
    sys.exit(f"timings differ by 20% or more: {ratio:.3f}")
PY
