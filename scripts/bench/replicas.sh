#!/usr/bin/env bash
# Throughput of one replica against three behind haproxy, in one run, on the topology
# of crates/server/tests/replicas.rs: PostgreSQL through pgbouncer (transaction mode,
# Diesel's statement cache off), rate limits in a Redis of this script's own.
#
# On one 2-core machine the three replicas, haproxy, pgbouncer, Redis, PostgreSQL
# and wrk all share the same two cores: this measures the OVERHEAD of the extra hops
# (haproxy, pgbouncer, the shared limit store), not scale. Compare the two figures of
# one run, never figures across runs or machines.
#
# Steps: a fresh database sb_bench_replicas (dropped at the end); Redis, pgbouncer
# and haproxy on free ports; three replicas (the first migrates over the direct URL
# and bootstraps); wrk GET of the configurations list (-t2 -c16) for BENCH_DURATION
# seconds, (1) against replica 1 directly, (2) through haproxy over the three; the
# same for the memory store on replica 1 directly, as a baseline of the limit
# store's cost. Prints one table.
#
# Usage: scripts/bench/replicas.sh
# Environment: BENCH_DURATION (s, 10), BENCH_BINARY (target/release/switchboard if
#   built, else target/debug/switchboard; say which in any figure you publish),
#   BENCH_POSTGRES_URL (postgres://postgres@127.0.0.1:5432/postgres).
# Loopback only. Needs wrk, haproxy, pgbouncer, redis-server (Debian packages).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DURATION=${BENCH_DURATION:-10}
PG_ADMIN_URL=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DB=sb_bench_replicas
BINARY=${BENCH_BINARY:-}
if [ -z "$BINARY" ]; then
    if [ -x "$ROOT/target/release/switchboard" ]; then BINARY=$ROOT/target/release/switchboard
    else BINARY=$ROOT/target/debug/switchboard; fi
fi
[ -x "$BINARY" ] || { echo "no binary at $BINARY: cargo build -p switchboard-server" >&2; exit 1; }
for tool in wrk haproxy pgbouncer redis-server psql curl; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "$tool is required" >&2; exit 1; }
done
export PATH="$PATH:/usr/sbin"

log() { printf '==> %s\n' "$*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sb-replicas.XXXXXX")
chmod 0755 "$WORK"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

PG_PORT=$(python3 -c "import urllib.parse,sys; print(urllib.parse.urlparse(sys.argv[1]).port or 5432)" "$PG_ADMIN_URL")
psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null
psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $PG_DB" >/dev/null
DIRECT_URL="postgres://postgres@127.0.0.1:$PG_PORT/$PG_DB"

REDIS_PORT=$(free_port); BOUNCER_PORT=$(free_port); PROXY_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no >"$WORK/redis.log" 2>&1 &
PIDS+=($!)

printf '"postgres" ""\n' >"$WORK/userlist.txt"
cat >"$WORK/pgbouncer.ini" <<EOF
[databases]
* = host=127.0.0.1 port=$PG_PORT
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $WORK/userlist.txt
pool_mode = transaction
max_client_conn = 500
default_pool_size = 16
server_reset_query =
ignore_startup_parameters = extra_float_digits
log_connections = 0
log_disconnections = 0
EOF
if [ "$(id -u)" = 0 ]; then
    # pgbouncer refuses to run as root.
    setpriv --reuid=postgres --regid=postgres --clear-groups pgbouncer "$WORK/pgbouncer.ini" >"$WORK/pgbouncer.log" 2>&1 &
else
    pgbouncer "$WORK/pgbouncer.ini" >"$WORK/pgbouncer.log" 2>&1 &
fi
PIDS+=($!)
POOLED_URL="postgres://postgres@127.0.0.1:$BOUNCER_PORT/$PG_DB"
sleep 1

KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=
HMAC=ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=
start_replica() { # port store -> prints the pid; stdout to $WORK/replica-<port>.out
    local port=$1 store=$2
    env -i PATH="$PATH" HOME="$WORK" \
        SWITCHBOARD_PROFILE=development \
        SWITCHBOARD__SERVER__PORT="$port" \
        SWITCHBOARD__SERVER__WORKERS=2 \
        SWITCHBOARD__DATABASE__URL="$POOLED_URL" \
        SWITCHBOARD__DATABASE__MIGRATION_URL="$DIRECT_URL" \
        SWITCHBOARD__DATABASE__STATEMENT_CACHE=false \
        SWITCHBOARD__DATABASE__POOL_SIZE=4 \
        SWITCHBOARD__RATE_LIMIT__STORE="$store" \
        SWITCHBOARD__REDIS__URL="redis://127.0.0.1:$REDIS_PORT/0" \
        SWITCHBOARD__RATE_LIMIT__PER_SECOND=100000 \
        SWITCHBOARD__RATE_LIMIT__BURST=200000 \
        SWITCHBOARD__RATE_LIMIT__PER_USER_PER_SECOND=100000 \
        SWITCHBOARD__RATE_LIMIT__PER_USER_BURST=200000 \
        SWITCHBOARD__CRYPTO__KEYS="1:$KEY" \
        SWITCHBOARD__CRYPTO__PRIMARY_KEY_ID=1 \
        SWITCHBOARD__AUTH__TOKEN_HMAC_KEY="$HMAC" \
        SWITCHBOARD__LOG__LEVEL=warn \
        "$BINARY" >"$WORK/replica-$port.out" 2>"$WORK/replica-$port.err" &
    echo $!
}
wait_live() {
    for _ in $(seq 1 300); do
        curl -fsS "http://127.0.0.1:$1/health/live" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "replica on $1 did not start: $(cat "$WORK/replica-$1.err")" >&2
    exit 1
}

PORTS=("$(free_port)" "$(free_port)" "$(free_port)")
log "three replicas (Redis store, pgbouncer in transaction mode)"
FIRST_PID=$(start_replica "${PORTS[0]}" redis); PIDS+=("$FIRST_PID"); wait_live "${PORTS[0]}"
TOKEN=$(sed -n 's/^first token (shown once): //p' "$WORK/replica-${PORTS[0]}.out" | head -n1)
[ -n "$TOKEN" ] || { echo "no first token" >&2; exit 1; }
for port in "${PORTS[@]:1}"; do pid=$(start_replica "$port" redis); PIDS+=("$pid"); done
for port in "${PORTS[@]:1}"; do wait_live "$port"; done

cat >"$WORK/haproxy.cfg" <<EOF
global
    maxconn 2000
defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
frontend switchboard
    bind 127.0.0.1:$PROXY_PORT
    default_backend replicas
backend replicas
    balance roundrobin
    option httpchk GET /health/ready
    http-check expect status 200
    default-server inter 1s fall 2 rise 2
    server r0 127.0.0.1:${PORTS[0]} check
    server r1 127.0.0.1:${PORTS[1]} check
    server r2 127.0.0.1:${PORTS[2]} check
EOF
haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
PIDS+=($!)
sleep 2

log "seeding 20 configurations"
for n in $(seq 1 20); do
    curl -fsS -o /dev/null -X POST "http://127.0.0.1:${PORTS[0]}/api/v2/platform/telephony/providers-configurations/" \
        -H "Authorization: Token $TOKEN" -H "Org-Handle: default" -H "Content-Type: application/json" \
        -d "{\"provider\":\"twilio\",\"account_sid\":\"AC$(printf '%032x' "$n")\",\"auth_token\":\"$(printf '%032x' "$n")\"}"
done

LIST="/api/v2/platform/telephony/providers-configurations/"
measure() { # name url -> "name rps p50 p99 non2xx"
    local name=$1 url=$2 out
    out=$(wrk -t2 -c16 -d"${DURATION}s" --latency -H "Authorization: Token $TOKEN" -H "Org-Handle: default" "$url" 2>&1)
    local rps p50 p99 errors
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    printf '%-46s %10s %9s %9s %8s\n' "$name" "$rps" "$p50" "$p99" "${errors:-0}"
}

echo
echo "binary: $BINARY; $(nproc) cores shared by everything; wrk -t2 -c16 -d${DURATION}s GET list"
printf '%-46s %10s %9s %9s %8s\n' "topology" "req/s" "p50" "p99" "non-2xx"
measure "1 replica direct (redis store, pgbouncer)" "http://127.0.0.1:${PORTS[0]}$LIST"
measure "3 replicas behind haproxy (redis, pgbouncer)" "http://127.0.0.1:$PROXY_PORT$LIST"
# Baseline: the same replica with the memory store (restart replica 1).
kill "$FIRST_PID" 2>/dev/null || true
sleep 1
pid=$(start_replica "${PORTS[0]}" memory); PIDS+=("$pid"); wait_live "${PORTS[0]}"
measure "1 replica direct (memory store, pgbouncer)" "http://127.0.0.1:${PORTS[0]}$LIST"
