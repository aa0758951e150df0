#!/usr/bin/env bash
# Load test of POST /v1/videos against a running `turboserve serve` on a fresh SQLite file (durable commits:
# WAL + synchronous=FULL), or on PostgreSQL when TURBOSERVE_STORAGE_DATABASE is a postgres:// URL (a fresh schema
# per run; synchronous_commit=on). Jobs only queue here; the engine is not the point, and the queue bounds are
# raised (unless TURBOSERVE_LIMITS_MAX_QUEUED_JOBS / _PER_TENANT are set) so every request creates a job.
# Needs wrk (apt-get install wrk).
# TURBOSERVE_BIN picks a prebuilt binary (to compare two builds side by side); otherwise the release build.
#   bench/load-create.sh [connections=16] [seconds=10]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
connections="${1:-16}"; seconds="${2:-10}"; port=18181
data="$(mktemp -d)"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
binary="${TURBOSERVE_BIN:-}"
if [ -z "$binary" ]; then
  swift build -c release --product turboserve --package-path "$root" >/dev/null
  binary="$root/.build/release/turboserve"
fi
if [[ "${TURBOSERVE_STORAGE_DATABASE:-}" == postgres* ]]; then
  separator='?'; [[ "$TURBOSERVE_STORAGE_DATABASE" == *\?* ]] && separator='&'
  export TURBOSERVE_STORAGE_DATABASE="$TURBOSERVE_STORAGE_DATABASE${separator}schema=bench_create_$RANDOM$RANDOM"
  "$binary" migrate >/dev/null
fi
TURBOSERVE_LIMITS_MAX_QUEUED_PER_TENANT="${TURBOSERVE_LIMITS_MAX_QUEUED_PER_TENANT:-0}" \
TURBOSERVE_LIMITS_MAX_QUEUED_JOBS="${TURBOSERVE_LIMITS_MAX_QUEUED_JOBS:-1000000}" "$binary" serve --no-engine --port "$port" --data-dir "$data" >"$data/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$data"' EXIT
until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do
  kill -0 $server 2>/dev/null || { echo "turboserve serve exited:" >&2; cat "$data/serve.log" >&2; exit 1; }
  sleep 0.1
done
cat >"$data/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"prompt":"a red fox running through snow","model":"tiny-t2v","steps":2}'
LUA
# turboserve's own CPU (user + system, from /proc) per create, next to wrk's figures: the machine's speed moves, so
# the cost of a create is compared on this, not on the rate alone.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$server/stat" 2>/dev/null || echo 0; }
before="$(cpu_ticks)"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$data/post.lua" "http://127.0.0.1:$port/v1/videos" | tee "$data/wrk.txt"
after="$(cpu_ticks)"
requests="$(awk '/requests in/ {print $1}' "$data/wrk.txt")"
if [ -n "$requests" ] && [ "$requests" -gt 0 ] && [ "$after" != 0 ]; then
  awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v r="$requests" 'BEGIN { printf "turboserve CPU per create: %.0f us\n", t * 1e6 / hz / r }'
fi
