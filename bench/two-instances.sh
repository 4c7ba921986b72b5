#!/usr/bin/env bash
# Two Tessera instances on one PostgreSQL database behind haproxy, on loopback: the checks
# of bench/two_instances.py (logout across instances, admin-change propagation, shared
# failed-login budget, kill -9 under load), then refresh and code-exchange throughput
# through haproxy with two instances and with one.
#
#   bench/two-instances.sh                 # checks + throughput, about 2 minutes
#   BENCH=0 bench/two-instances.sh         # checks only
#
# Needs: a tessera release binary, haproxy (Debian's), psql, python3, curl; for the
# throughput part the load generator examples/login_load (built next to the binary:
# cargo build --release --bin tessera --example login_load). PostgreSQL must be running;
# the script creates its own database and drops it at the end (KEEP_DB=1 keeps it).
#
# Environment:
#   PG_URL (postgres://postgres:postgres@127.0.0.1:5432)   server to create the database in
#   TESSERA_BIN ($CARGO_TARGET_DIR or ./target, release/tessera)  LOADGEN (next to it, examples/login_load)
#   PORT_LB (18180) PORT_A (18181) PORT_B (18182)
#   BENCH (1)  DURATION (10) WARMUP (2) CONC (16)  throughput runs (seconds, workers)
#   CHECKS (a,b,d,e) and E_SECONDS, E_STEADY, E_RACE, MAX_PROPAGATION_S: see two_instances.py
# Output: one line per check ("PASS"/"FAIL" and figures), then a throughput table; logs in
# $OUTDIR (default bench/results/two-<UTC timestamp>). Exits 1 when a check failed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PG_URL=${PG_URL:-postgres://postgres:postgres@127.0.0.1:5432}
BIN=${TESSERA_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/tessera}
LOADGEN=${LOADGEN:-$(dirname "$BIN")/examples/login_load}
PORT_LB=${PORT_LB:-18180}; PORT_A=${PORT_A:-18181}; PORT_B=${PORT_B:-18182}
BENCH=${BENCH:-1}; DURATION=${DURATION:-10}; WARMUP=${WARMUP:-2}; CONC=${CONC:-16}
OUTDIR=${OUTDIR:-$ROOT/bench/results/two-$(date -u +%Y%m%dT%H%M%SZ)}
LB="http://127.0.0.1:$PORT_LB"; A="http://127.0.0.1:$PORT_A"; B="http://127.0.0.1:$PORT_B"

die() { echo "two-instances: $*" >&2; exit 2; }
log() { echo "two-instances: $*" >&2; }
for tool in haproxy psql python3 curl base64; do
  command -v "$tool" >/dev/null || die "$tool missing"
done
[ -x "$BIN" ] || die "$BIN missing: cargo build --release (or set TESSERA_BIN)"
if [ "$BENCH" = 1 ] && [ ! -x "$LOADGEN" ]; then
  die "$LOADGEN missing: cargo build --release --example login_load (or BENCH=0)"
fi
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$PORT_LB" "$PORT_A" "$PORT_B"; do port_free "$p" || die "port $p is in use"; done

mkdir -p "$OUTDIR"
DB=tessera_two_$(date +%s)_$$
DIR_A=$(mktemp -d); DIR_B=$(mktemp -d)
PSQL=(psql -q -v ON_ERROR_STOP=1 "$PG_URL/postgres")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$DIR_A" "$DIR_B"
  if [ "${KEEP_DB:-0}" != 1 ]; then
    "${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"${PSQL[@]}" -c "CREATE DATABASE $DB" || die "cannot create database $DB at $PG_URL"
export TESSERA_DATABASE_URL="$PG_URL/$DB"
# Both instances seal and open the same state and signing keys: one master key.
TESSERA_MASTER_KEY=$(head -c 32 /dev/urandom | base64 -w0)
export TESSERA_MASTER_KEY TESSERA_LOG=${TESSERA_LOG:-warn}

wait_ready() { # URL PID
  local _
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$1/health/ready" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
# start NAME PORT DIR: one instance, its issuer the load balancer's address; sets STARTED
start() {
  "$BIN" --data-dir "$3" serve --listen "127.0.0.1:$2" --metrics-listen 127.0.0.1:0 --trusted-proxy 127.0.0.1 --public-url "$LB" >>"$OUTDIR/$1.log" 2>&1 &
  STARTED=$!
  PIDS+=("$STARTED")
  wait_ready "http://127.0.0.1:$2" "$STARTED" || { cat "$OUTDIR/$1.log" >&2; die "instance $1 did not start"; }
}
# haproxy's view of a server: UP or DOWN (through its health checks)
wait_lb() { # SERVER STATE
  local _
  for _ in $(seq 1 50); do
    echo "show servers state replicas" | python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.read().encode())
print(s.makefile().read())' "$OUTDIR/haproxy.sock" 2>/dev/null \
      | awk -v n="$1" -v want="$2" '$4 == n { exit !((want == "UP") == ($6 == 2)) }' && return 0
    sleep 0.2
  done
  die "haproxy never saw server $1 $2"
}

# A first: it migrates the new database and seeds it; the secrets are in its first output.
start a "$PORT_A" "$DIR_A"; PID_A=$STARTED
seeded() { awk -v r="$1" -v n="$2" '$1 == "realm" && $2 == r && $4 == n { print $6; exit }' "$OUTDIR/a.log"; }
CLIENT_SECRET=$(seeded demo demo-app); DEMO_PASSWORD=$(seeded demo demo)
ADMIN_SECRET=$(seeded master tessera-admin)
[ -n "$CLIENT_SECRET" ] && [ -n "$DEMO_PASSWORD" ] && [ -n "$ADMIN_SECRET" ] \
  || die "no seeded secrets in $OUTDIR/a.log"
start b "$PORT_B" "$DIR_B"; PID_B=$STARTED

# Debian's haproxy with the repository's configuration, plus an admin socket for wait_lb.
{ cat "$ROOT/deploy/haproxy.cfg"; printf 'global\n    stats socket %s mode 600 level admin\n' "$OUTDIR/haproxy.sock"; } \
  >"$OUTDIR/haproxy.cfg"
TESSERA_LB_BIND=127.0.0.1:$PORT_LB TESSERA_A=127.0.0.1:$PORT_A TESSERA_B=127.0.0.1:$PORT_B \
  haproxy -db -f "$OUTDIR/haproxy.cfg" >"$OUTDIR/haproxy.log" 2>&1 &
PIDS+=("$!")
wait_ready "$LB" "$!" || { cat "$OUTDIR/haproxy.log" >&2; die "haproxy did not start"; }
wait_lb a UP; wait_lb b UP
log "A pid $PID_A on $A, B pid $PID_B on $B, haproxy on $LB, database $DB; logs in $OUTDIR"

export LB A B B_PID=$PID_B CLIENT_SECRET DEMO_PASSWORD ADMIN_SECRET
CHECKS_OK=1
python3 "$ROOT/bench/two_instances.py" | tee "$OUTDIR/checks.txt" || CHECKS_OK=0
wait "$PID_B" 2>/dev/null || true

if [ "$BENCH" = 1 ]; then
  # B again (the checks killed it), then the same load through haproxy with two and one.
  start b "$PORT_B" "$DIR_B"; PID_B=$STARTED
  wait_lb b UP
  # load LABEL MODE: one login_load run through haproxy; prints its markdown row
  load() {
    "$LOADGEN" --base "$LB" --client-secret "$CLIENT_SECRET" --password "$DEMO_PASSWORD" \
      --mode "$2" --concurrency "$CONC" --duration "$DURATION" --warmup "$WARMUP" --label "$1" \
      2>>"$OUTDIR/load.log" | grep '^|' || die "load generator failed ($1 $2), see $OUTDIR/load.log"
  }
  {
    echo
    echo "| label | mode | metric | conc | target/s | n | per s | p50 ms | p90 ms | p99 ms | max ms | errors |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    load "two instances" refresh
    load "two instances" exchange
    kill "$PID_B"; wait "$PID_B" 2>/dev/null || true
    wait_lb b DOWN
    load "one instance" refresh
    load "one instance" exchange
  } | tee "$OUTDIR/throughput.md"
  echo "(2 cores shared by both instances, haproxy, PostgreSQL and the load generator; $CONC workers, ${DURATION} s per run through haproxy)"
fi
[ "$CHECKS_OK" = 1 ] || { log "a check failed (see above)"; exit 1; }
