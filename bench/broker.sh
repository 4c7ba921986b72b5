#!/usr/bin/env bash
# Brokered sign-in benchmark: logins per second through an upstream provider (realm
# `upstream` of the same server, provider `up` of realm `demo`) against local password
# logins, in the same run, server on one core; and how often the server fetched the
# upstream's discovery document and JWKS (once each, not per login).
#
#   bench/broker.sh                  # SQLite, 10 s per run, about a minute
#   DURATION=5 BUILD=0 bench/broker.sh
#
# Each brokered login is a fresh browser: demo's authorization endpoint with
# kc_idp_hint=up → upstream login page → upstream password check → broker endpoint (code
# exchange upstream, ID token verification, user lookup) → code → demo's token endpoint.
# A local login is the same browser at demo directly (examples/login_load.rs, modes
# `login` and `broker`). Both realms hash passwords with the server default (Argon2id, OWASP
# parameters), so a brokered login costs one password check, like a local one.
#
# Environment: DURATION (10) WARMUP (2) CONC (4) PORT (18091) SERVER_CPU (0) LOAD_CPU (1)
#   CARGO_TARGET_DIR (/work/bench-target) BUILD (1) OUTDIR (bench/results/broker-<UTC>)
# Needs: cargo, taskset, curl, jq.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONC=${CONC:-4}
PORT=${PORT:-18091}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/bench-target}
OUTDIR=${OUTDIR:-$ROOT/bench/results/broker-$(date -u +%Y%m%dT%H%M%SZ)}
BIN=$CARGO_TARGET_DIR/release/tessera
LOADGEN=$CARGO_TARGET_DIR/release/examples/login_load
BASE="http://127.0.0.1:$PORT"
MPORT=$((PORT + 1))

die() { echo "broker-bench: $*" >&2; exit 1; }
log() { echo "broker-bench: $*" >&2; }
for tool in cargo taskset curl jq timeout; do command -v "$tool" >/dev/null || die "$tool missing"; done

if [ "${BUILD:-1}" = 1 ]; then
  log "building (release, target $CARGO_TARGET_DIR)"
  (cd "$ROOT" && cargo build --release --bin tessera --example login_load) >&2
fi
[ -x "$BIN" ] && [ -x "$LOADGEN" ] || die "no $BIN or $LOADGEN"

mkdir -p "$OUTDIR"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tessera-broker-bench.XXXXXX")
SPID=""
cleanup() {
  [ -z "$SPID" ] || { kill "$SPID" 2>/dev/null || true; wait "$SPID" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT
export TESSERA_LOG=warn

# The server calls itself on loopback: the outbound guard must allow private addresses.
TESSERA_OUTBOUND_ALLOW_PRIVATE=true taskset -c "$SERVER_CPU" "$BIN" --data-dir "$WORK/data" serve \
  --listen "127.0.0.1:$PORT" --public-url "$BASE" --metrics-listen "127.0.0.1:$MPORT" \
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
PASSWORD=$(awk '$4 == "demo" && $3 == "username" { print $6 }' "$OUTDIR/server.log")

api -d '{"name":"upstream"}' "$BASE/admin/realms" >/dev/null
SECRET=$(api -d "{\"client_id\":\"broker\",\"redirect_uris\":[\"$BASE/realms/demo/broker/up/endpoint\"],\"scopes\":[\"openid\",\"profile\",\"email\"]}" \
  "$BASE/admin/realms/upstream/clients" | jq -r .secret)
# The upstream user has demo's user name and password, so both modes sign in alike.
api -d "{\"username\":\"demo\",\"email\":\"demo@upstream.example\",\"email_verified\":true,\"password\":\"$PASSWORD\"}" \
  "$BASE/admin/realms/upstream/users" >/dev/null
api -d "{\"alias\":\"up\",\"issuer\":\"$BASE/realms/upstream\",\"client_id\":\"broker\",\"client_secret\":\"$SECRET\",\"trust_email\":true}" \
  "$BASE/admin/realms/demo/identity-provider/instances" >/dev/null

# Requests the server answered on a route (the upstream's discovery document and JWKS).
served() {
  curl -fsS "http://127.0.0.1:$MPORT/metrics" \
    | awk -v r="$1" 'index($0, "tessera_http_request_duration_seconds_count{") == 1 && index($0, "route=\"" r "\"") { n += $NF } END { print n + 0 }'
}
DISCOVERY_ROUTE='/realms/{realm}/.well-known/openid-configuration'
JWKS_ROUTE='/realms/{realm}/protocol/openid-connect/certs'

run() {
  local mode=$1
  LOAD_CLIENT_SECRET=$(seeded demo-app) LOAD_PASSWORD=$PASSWORD timeout $((DURATION + WARMUP + 60)) \
    taskset -c "$LOAD_CPU" "$LOADGEN" --base "$BASE" --mode "$mode" --concurrency "$CONC" \
    --duration "$DURATION" --warmup "$WARMUP" --label "1 core" "${@:2}" | tee -a "$OUTDIR/rows.md" >&2
}
: >"$OUTDIR/rows.md"
run login --header
run broker
run login
run broker
D=$(served "$DISCOVERY_ROUTE"); J=$(served "$JWKS_ROUTE")
BROKERED=$(curl -fsS "http://127.0.0.1:$MPORT/metrics" | awk 'index($0, "tessera_outbound_requests_total{") == 1 && index($0, "peer=\"idp:demo/up\"") { n += $NF } END { print n + 0 }')
{
  echo "# Brokered sign-in benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "- commit $(git -C "$ROOT" rev-parse --short HEAD), server pinned to CPU $SERVER_CPU, generator to CPU $LOAD_CPU, SQLite, $DURATION s per run after $WARMUP s warm-up, $CONC browsers"
  echo
  cat "$OUTDIR/rows.md"
  echo
  echo "- upstream discovery documents served during the whole run: $D; JWKS: $J"
  echo "- calls from the broker to the upstream (outbound, peer idp:demo/up): $BROKERED"
} | tee "$OUTDIR/summary.md"
