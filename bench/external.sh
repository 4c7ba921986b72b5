#!/usr/bin/env bash
# Token exchange of an external RS256 ID token (a trusted identity provider's) for a Tessera
# token, compared in the same run, on the same server and realm, with the exchange of a
# Tessera access token (bench/exchange.sh's workload). The external provider is
# bench/external_issuer.py (RSA-2048, RS256); it counts its requests, and the summary shows
# how many discovery and JWKS fetches Tessera made: one each, the rest served from caches.
#
#   bench/external.sh                       # ~2 minutes on a quiet box (+ build)
#   DURATION=5s CONNS="8" BUILD=0 bench/external.sh
#
# Server pinned to CPU $SERVER_CPU (taskset: one actix worker), wrk (1 thread) to CPU
# $WRK_CPU, loopback, TESSERA_LOG=warn; per kind a warm-up, then DURATION at each of CONNS,
# the two kinds interleaved per connection count.
# Environment: DURATION (10s) WARMUP (3s) CONNS ("8 32") PORT (18086) IDP_PORT (18087)
#   SERVER_CPU (0) WRK_CPU (1) CARGO_TARGET_DIR (/work/bench-target) BUILD (1)
#   OUTDIR (bench/results/external-<UTC timestamp>)
# Needs: wrk, taskset, curl, python3 with `cryptography`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
CONNS=${CONNS:-"8 32"}
PORT=${PORT:-18086}
IDP_PORT=${IDP_PORT:-18087}
SERVER_CPU=${SERVER_CPU:-0}
WRK_CPU=${WRK_CPU:-1}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/bench-target}
BIN=$CARGO_TARGET_DIR/release/tessera
OUTDIR=${OUTDIR:-$ROOT/bench/results/external-$(date -u +%Y%m%dT%H%M%SZ)}
CLK_TCK=$(getconf CLK_TCK)
die() { echo "external-bench: $*" >&2; exit 1; }
log() { echo "external-bench: $*" >&2; }
for tool in wrk taskset curl python3; do command -v "$tool" >/dev/null || die "$tool missing"; done
python3 -c 'import cryptography' 2>/dev/null || die "python3 lacks the cryptography package"
if [ "${BUILD:-1}" = 1 ]; then
  (cd "$ROOT" && cargo build --release --bin tessera) >&2 || die "build failed"
fi
[ -x "$BIN" ] || die "$BIN missing"
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
mkdir -p "$OUTDIR"
DATA=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$DATA"; }
trap cleanup EXIT

python3 "$ROOT/bench/external_issuer.py" "$IDP_PORT" & PIDS+=($!)
IDP="http://127.0.0.1:$IDP_PORT"
for _ in $(seq 1 50); do curl -fsS -o /dev/null "$IDP/stats" 2>/dev/null && break; sleep 0.1; done

# The issuer is on loopback: the outbound guard must allow private addresses here.
export TESSERA_LOG=warn TESSERA_OUTBOUND_ALLOW_PRIVATE=true
SECRET=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
TE=urn:ietf:params:oauth:grant-type:token-exchange
T() { "$BIN" --data-dir "$DATA" "$@" >>"$OUTDIR/setup.log" 2>&1 || { cat "$OUTDIR/setup.log" >&2; die "set-up: $*"; }; }
T realm create bench-rs --access-token-alg RS256
echo upstream-secret | T idp create --realm bench-rs up --issuer "$IDP" --client-id tessera \
  --client-secret-stdin --accept-tokens --map-users create
T client create --realm bench-rs --client-id bench --secret "$SECRET" \
  --grant-type client_credentials --grant-type "$TE" --scope api:read
T client exchange-policy --realm bench-rs --client-id bench --trusted-idp up \
  --subject-type access_token --subject-type id_token
BASE="http://127.0.0.1:$PORT"
taskset -c "$SERVER_CPU" "$BIN" --data-dir "$DATA" serve --listen "127.0.0.1:$PORT" \
  --metrics-listen 127.0.0.1:0 --public-url "$BASE" >"$OUTDIR/tessera.log" 2>&1 & TPID=$!
PIDS+=("$TPID")
for _ in $(seq 1 100); do curl -fsS -o /dev/null "$BASE/health/ready" 2>/dev/null && break; sleep 0.1; done
TOKEN_URL="$BASE/realms/bench-rs/protocol/openid-connect/token"
BASIC_AUTH=$(printf 'bench:%s' "$SECRET" | base64 -w0)
export BASIC_AUTH
json_str() { grep -o "\"$1\":\"[^\"]*\"" | head -1 | sed "s/^\"$1\":\"//; s/\"\$//"; }
# body KIND: an exchange of a fresh external ID token (valid 1 h, reusable: no jti required)
# or of a fresh Tessera access token (client_credentials of bench, 300 s)
body() {
  local subject type
  if [ "$1" = external ]; then
    subject=$(curl -fsS "$IDP/mint?aud=tessera&sub=bench-user&ttl=3600")
    type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aid_token
  else
    subject=$(curl -fsS -H "Authorization: Basic $BASIC_AUTH" -d grant_type=client_credentials "$TOKEN_URL" | json_str access_token)
    type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token
  fi
  printf 'grant_type=%s&subject_token=%s&subject_token_type=%s' \
    'urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange' "$subject" "$type"
}
for kind in external tessera; do
  code=$(curl -sS -o "$OUTDIR/check-$kind.json" -w '%{http_code}' -H "Authorization: Basic $BASIC_AUTH" \
    -d "$(body "$kind")" "$TOKEN_URL")
  [ "$code" = 200 ] || { cat "$OUTDIR/check-$kind.json" >&2; die "$kind exchange answered $code"; }
done
log "both exchanges answer 200; measuring"
proc_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us$/, "", v); x = v / 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v); x = v + 0 } else if (v ~ /s$/) { sub(/s$/, "", v); x = v * 1000 } printf "%.2f", x }'; }
run() { # KIND CONNS DURATION -> a table row
  export TOKEN_BODY; TOKEN_BODY=$(body "$1")
  local raw="$OUTDIR/raw-$1-c$2-$3.txt" t0 t1 p0 p1
  p0=$(proc_ticks "$TPID"); t0=$(date +%s.%N)
  timeout 120 taskset -c "$WRK_CPU" wrk -t1 -c"$2" -d"$3" --latency -s "$ROOT/bench/token.lua" "$TOKEN_URL" >"$raw" 2>&1
  t1=$(date +%s.%N); p1=$(proc_ticks "$TPID")
  awk -v kind="$1" -v c="$2" -v t0="$t0" -v t1="$t1" -v p0="$p0" -v p1="$p1" -v hz="$CLK_TCK" \
      -v p50="$(to_ms "$(awk '$1 == "50%" { print $2 }' "$raw")")" \
      -v p99="$(to_ms "$(awk '$1 == "99%" { print $2 }' "$raw")")" '
    /^Requests\/sec:/ { rps = $2 } /requests in/ { n = $1 } /Non-2xx/ { bad = $5 }
    END { cpu = (p1 - p0) / hz; printf "| %s | %s | %.0f | %s | %s | %d | %.0f | %.0f |\n", kind, c, rps, p50, p99, bad + 0, cpu / (t1 - t0) * 100, n ? cpu / n * 1e6 : 0 }' "$raw"
}
for kind in external tessera; do run "$kind" 8 "$WARMUP" >/dev/null; done
ROWS=""
for c in $CONNS; do for kind in external tessera; do ROWS+=$(run "$kind" "$c" "$DURATION")$'\n'; done; done
STATS=$(curl -fsS "$IDP/stats")
{
  echo "# External ID token exchange vs Tessera token exchange ($(date -u '+%Y-%m-%d %H:%M UTC'), commit $COMMIT)"
  echo
  echo "| subject | conns | req/s | p50 ms | p99 ms | non-2xx | server CPU % | server µs/req |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '%s' "$ROWS"
  echo
  echo "Requests the external issuer saw during the whole run (mints excluded from Tessera's): $STATS"
} | tee "$OUTDIR/summary.md"
