#!/usr/bin/env bash
# SQLite group commit on and off: creates at 32 connections (wrk -t2, 10 s) against a
# fresh database, alternating SWITCHBOARD__DATABASE__GROUP_COMMIT_MAX=64 (the default)
# and 1 (one commit per write), so that a change in the machine's load hits both alike.
#
# Usage: scripts/bench/group_commit.sh            (2 rounds; GC_ROUNDS, GC_SECONDS,
#        GC_CONNECTIONS, BENCH_SKIP_BUILD=1)
# The database limit of the same statements one transaction at a time is load.sh's
# (`sqlite-limit`, the "POST create" row). Loopback only.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RELEASE="$ROOT/target/release"
ROUNDS=${GC_ROUNDS:-2}
SECONDS_PER=${GC_SECONDS:-10}
CONNECTIONS=${GC_CONNECTIONS:-32}

BENCH_NAME=group_commit.sh
# shellcheck source=scripts/bench/lib.sh
. "$ROOT/scripts/bench/lib.sh"
for tool in wrk curl python3; do
    command -v "$tool" >/dev/null || die "$tool is required (Debian: apt-get install wrk curl python3)"
done
if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
    (cd "$ROOT" && cargo build --release -q -p switchboard-server -p switchboard-admin)
fi
SERVER="$RELEASE/switchboard"
ADMIN="$RELEASE/switchboard-admin"

bench_scratch gc

bench_server_env
export BENCH_LUA_DIR="$ROOT/scripts/bench/wrk"

# One measurement: a fresh database, the server with group_commit_max=$1, wrk.
measure() {
    local max=$1 round=$2 db="$WORK/gc.$1.$2.db" port token
    export SWITCHBOARD__DATABASE__URL="sqlite://$db"
    "$ADMIN" migrate >/dev/null 2>&1
    "$ADMIN" org create --name Bench --handle bench >/dev/null 2>&1
    printf 'bench password, long enough\n' |
        "$ADMIN" user create --email bench@bench.test --password-stdin >/dev/null 2>&1
    "$ADMIN" member add --org bench --email bench@bench.test --role owner >/dev/null 2>&1
    token=$("$ADMIN" token create --email bench@bench.test --name bench 2>/dev/null | tail -n1)
    port=$(free_port)
    SWITCHBOARD__SERVER__PORT=$port SWITCHBOARD__DATABASE__GROUP_COMMIT_MAX=$max \
        "$SERVER" 2>"$WORK/server.log" &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        curl -fs "http://127.0.0.1:$port/health/live" >/dev/null 2>&1 && break
        sleep 0.1
    done
    wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER}s" --timeout 5s \
        -s "$BENCH_LUA_DIR/create.lua" "http://127.0.0.1:$port" -- "$token" bench 1 1 "$round" |
        grep '^BENCH_JSON ' | sed "s/^BENCH_JSON /$max /" >>"$WORK/results"
    curl -fs "http://127.0.0.1:$port/metrics" |
        awk -v max="$max" '/^switchboard_db_group_commit(s|_writes)_total / {print max, $1, $2}' >>"$WORK/commits"
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
}

log "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$ROUNDS"); do
    for max in 64 1; do
        log "round $round: group_commit_max=$max"
        measure "$max" "$round"
    done
done
python3 - "$WORK/results" "$WORK/commits" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    max_, text = line.split(" ", 1)
    rows.setdefault(max_, []).append(json.loads(text))
writes = {}
for line in open(sys.argv[2]):
    max_, name, value = line.split()
    writes.setdefault(max_, {}).setdefault(name, []).append(float(value))
print(f"{'group_commit_max':>16} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'non-2xx':>8} {'writes/commit':>14}")
for max_ in ["64", "1"]:
    runs = rows.get(max_, [])
    if not runs:
        continue
    counts = writes.get(max_, {})
    per_commit = (sum(counts.get("switchboard_db_group_commit_writes_total", [0]))
                  / max(1, sum(counts.get("switchboard_db_group_commits_total", [0]))))
    print(f"{max_:>16} {statistics.median(r['rps'] for r in runs):8.0f} "
          f"{statistics.median(r['p50_ms'] for r in runs):7.2f} "
          f"{statistics.median(r['p99_ms'] for r in runs):7.2f} "
          f"{sum(r['non_2xx'] + r['socket_errors'] for r in runs):8} {per_commit:14.1f}")
PY
