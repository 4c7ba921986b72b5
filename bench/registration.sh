#!/usr/bin/env bash
# Dynamic client registration benchmark: registrations per second with initial access
# tokens (RFC 7591), server on one core, SQLite by default.
#
#   bench/registration.sh                      # release build, about a minute
#   BUILD=0 TESSERA_BIN=/work/target-dcr/debug/tessera bench/registration.sh
#
# Each request is POST /realms/bench/clients-registrations/openid-connect with a web
# client's metadata and `Authorization: Bearer <initial token>`; the answer is 201 with the
# client_id, a generated secret and a registration access token. What one registration
# costs the server: the token's lookup (SELECT by hash), the one client builder, two
# 256-bit random tokens and their SHA-256, and one transaction holding the conditional
# UPDATE that spends one use of the token and the INSERT of the client. Every wrk run
# gets fresh tokens (1000 uses each, enough for the run), so no request meets a spent one;
# a run with non-2xx answers is reported as such.
#
# Environment: DURATION (10s) WARMUP (2s) CONNS ("1 4 16") TOKENS (60 per run) PORT (18097)
#   SERVER_CPU (0) WRK_CPU (1) CARGO_TARGET_DIR (/work/bench-target) BUILD (1)
#   TESSERA_BIN ($CARGO_TARGET_DIR/release/tessera) DATABASE_URL (SQLite in a temp dir)
#   OUTDIR (bench/results/registration-<UTC>)
# Needs: wrk, taskset, curl, jq.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNS=${CONNS:-"1 4 16"}
TOKENS=${TOKENS:-60}
PORT=${PORT:-18097}
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/bench-target}
BIN=${TESSERA_BIN:-$CARGO_TARGET_DIR/release/tessera}
OUTDIR=${OUTDIR:-$ROOT/bench/results/registration-$(date -u +%Y%m%dT%H%M%SZ)}
BASE="http://127.0.0.1:$PORT"

die() { echo "registration-bench: $*" >&2; exit 1; }
log() { echo "registration-bench: $*" >&2; }
for tool in wrk taskset curl jq timeout; do command -v "$tool" >/dev/null || die "$tool missing"; done

if [ "${BUILD:-1}" = 1 ]; then
  log "building (release, target $CARGO_TARGET_DIR)"
  (cd "$ROOT" && cargo build --release --bin tessera) >&2
fi
[ -x "$BIN" ] || die "no $BIN"

mkdir -p "$OUTDIR"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tessera-registration-bench.XXXXXX")
SPID=""
cleanup() {
  [ -z "$SPID" ] || { kill "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT
export TESSERA_LOG=warn

DB_ARGS=()
[ -z "${DATABASE_URL:-}" ] || DB_ARGS=(--database-url "$DATABASE_URL")
taskset -c "$SERVER_CPU" "$BIN" --data-dir "$WORK/data" "${DB_ARGS[@]}" serve \
  --listen "127.0.0.1:$PORT" --public-url "$BASE" --metrics-listen 127.0.0.1:0 \
  >"$OUTDIR/server.log" 2>&1 &
SPID=$!
for i in $(seq 1 300); do
  curl -fsS -o /dev/null "$BASE/health/ready" 2>/dev/null && break
  kill -0 "$SPID" 2>/dev/null || { cat "$OUTDIR/server.log" >&2; die "tessera exited"; }
  [ "$i" = 300 ] && die "tessera not ready in 30 s"
  sleep 0.1
done
seeded() { awk -v n="$1" '$4 == n { print $6 }' "$OUTDIR/server.log"; }
ADMIN=$(curl -fsS -u "tessera-admin:$(seeded tessera-admin)" -d grant_type=client_credentials \
  "$BASE/realms/master/protocol/openid-connect/token" | jq -r .access_token)
api() { curl -fsS -H "Authorization: Bearer $ADMIN" -H 'content-type: application/json' "$@"; }
api -d '{"name":"bench"}' "$BASE/admin/realms" >/dev/null

# Fresh tokens for one run, into a file for register.lua. The admin token lives 300 s;
# a new one per batch keeps long runs working.
mint() {
  ADMIN=$(curl -fsS -u "tessera-admin:$(seeded tessera-admin)" -d grant_type=client_credentials \
    "$BASE/realms/master/protocol/openid-connect/token" | jq -r .access_token)
  : >"$1"
  for _ in $(seq 1 "$TOKENS"); do
    api -d '{"count":1000,"expires_in":3600}' "$BASE/admin/realms/bench/clients-initial-access" \
      | jq -r .token >>"$1"
  done
}

# One registration by hand: the answer's shape.
mint "$WORK/tokens-check"
curl -fsS -H "Authorization: Bearer $(head -n1 "$WORK/tokens-check")" -H 'content-type: application/json' \
  -d '{"redirect_uris":["https://app.example/cb"]}' \
  "$BASE/realms/bench/clients-registrations/openid-connect" | jq -e '.registration_access_token' >/dev/null \
  || die "a registration failed"

mint "$WORK/tokens-warmup"
taskset -c "$WRK_CPU" wrk -t1 -c4 -d"$WARMUP" -s "$ROOT/bench/register.lua" "$BASE/realms/bench/clients-registrations/openid-connect" \
  -- "$WORK/tokens-warmup" >/dev/null

printf '| connections | registrations/s | p50 | p99 | non-2xx |\n|---|---|---|---|---|\n' >"$OUTDIR/rows.md"
for c in $CONNS; do
  mint "$WORK/tokens-$c"
  taskset -c "$WRK_CPU" timeout 300 wrk -t1 -c"$c" -d"$DURATION" --latency -s "$ROOT/bench/register.lua" \
    "$BASE/realms/bench/clients-registrations/openid-connect" -- "$WORK/tokens-$c" >"$OUTDIR/wrk-c$c.txt"
  rps=$(awk '/^Requests\/sec/ { print $2 }' "$OUTDIR/wrk-c$c.txt")
  p50=$(awk '$1 == "50%" { print $2 }' "$OUTDIR/wrk-c$c.txt")
  p99=$(awk '$1 == "99%" { print $2 }' "$OUTDIR/wrk-c$c.txt")
  bad=$(awk '/Non-2xx/ { print $NF }' "$OUTDIR/wrk-c$c.txt")
  echo "| $c | $rps | $p50 | $p99 | ${bad:-0} |" | tee -a "$OUTDIR/rows.md" >&2
done
DB=$([ -n "${DATABASE_URL:-}" ] && echo PostgreSQL || echo SQLite)
{
  echo "# Registration benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "- commit $(git -C "$ROOT" rev-parse --short HEAD), binary $BIN, server pinned to CPU $SERVER_CPU, wrk to CPU $WRK_CPU, $DB, $DURATION per run after $WARMUP warm-up"
  echo
  cat "$OUTDIR/rows.md"
} | tee "$OUTDIR/summary.md"
