#!/usr/bin/env bash
# bench/app-stall.sh - does a CPU-bound app handler stall the static hosts? Berth serves a 1 KiB
# file and an app whose GET /api/spin computes for SPIN_MS (default 50) milliseconds without a
# suspension point (the test fixture app in Tests/Fixtures/apps/misbehaving). wrk measures the
# static file's latency percentiles alone, then again while SPINNERS connections keep asking
# for /api/spin; the difference of the p99s is what the spinning app costs the static clients.
#
# Knobs (environment): THREADS=2 DURATION=10 (s per run) CONNS=16 SPINNERS=2 SPIN_MS=50
#   SERVER_CPUS=1 CLIENT_CPUS=0 WORK=/tmp/berth-bench-stall
#   BERTH=path/to/berth (a binary built already; default: build a release one)
# Needs: wrk (installed with apt-get when missing and running as root).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/berth-bench-stall}
THREADS=${THREADS:-2}
DURATION=${DURATION:-10}
CONNS=${CONNS:-16}
SPINNERS=${SPINNERS:-2}
SPIN_MS=${SPIN_MS:-50}
SERVER_CPUS=${SERVER_CPUS:-1}
CLIENT_CPUS=${CLIENT_CPUS:-0}
BERTH_PORT=18097
NGINX_PORT=18098

source "$ROOT/bench/common.sh"
install_missing wrk

mkdir -p "$WORK/www" "$WORK/logs"
head -c 1024 /dev/zero | tr '\0' x >"$WORK/www/1k.html"

BERTH=$(berth_binary)

cat >"$WORK/berth.yaml" <<YAML
listen: [{ address: 127.0.0.1, port: $BERTH_PORT }]
threads: $THREADS
logs: { access: "off", error: "$WORK/logs/berth-error.log" }
pid_file: "off"
apps:
  spin: { package: $ROOT/Tests/Fixtures/apps/misbehaving, product: MisbehavingApp }
hosts:
  localhost:
    default: true
    paths:
      /api: { app: spin }
      /: { static: $WORK/www }
YAML
: >"$WORK/logs/berth-error.log"
"$BERTH" run --config "$WORK/berth.yaml" >"$WORK/logs/berth.out" 2>&1 & pids+=($!); B=$!
for _ in $(seq 1 600); do curl -sf -o /dev/null "http://127.0.0.1:$BERTH_PORT/1k.html" && break; sleep 0.2; done
curl -sf -o /dev/null "http://127.0.0.1:$BERTH_PORT/api/spin?ms=1" || { echo "berth did not start; see $WORK/logs" >&2; exit 1; }
for p in $(tree "$B"); do taskset -a -cp "$SERVER_CPUS" "$p" >/dev/null; done

# p50 and p99 in milliseconds from wrk --latency.
percentiles() {
  awk '$1 == "50%" || $1 == "99%" {
    v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v = v / 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v = v * 1000 }
    printf "%s ", v } END { print "" }'
}
static_run() { taskset -c "$CLIENT_CPUS" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "http://127.0.0.1:$BERTH_PORT/1k.html"; }

read -r alone50 alone99 < <(static_run | percentiles)
spin_out=$(mktemp)
taskset -c "$CLIENT_CPUS" wrk -t1 -c"$SPINNERS" -d"$((DURATION + 2))s" "http://127.0.0.1:$BERTH_PORT/api/spin?ms=$SPIN_MS" >"$spin_out" 2>&1 &
spinner=$!
sleep 1
read -r busy50 busy99 < <(static_run | percentiles)
wait "$spinner" || true
spins=$(awk '/requests in/{print $1}' "$spin_out")

echo "## A CPU-bound app next to static files, $(date -u +%FT%TZ): $THREADS threads, server on CPU $SERVER_CPUS, clients on CPU $CLIENT_CPUS"
echo "## static: wrk -c$CONNS ${DURATION}s on /1k.html; app: $SPINNERS connections on /api/spin?ms=$SPIN_MS ($spins answered)"
printf '%-26s %10s %10s\n' "" "p50 ms" "p99 ms"
printf '%-26s %10s %10s\n' "static alone" "$alone50" "$alone99"
printf '%-26s %10s %10s\n' "static while the app spins" "$busy50" "$busy99"
python3 -c "print(f'p99 added by the spinning app: {float(\"$busy99\") - float(\"$alone99\"):.2f} ms')"
grep -h "event loop" "$WORK/logs/berth-error.log" || true
