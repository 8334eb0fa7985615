#!/usr/bin/env bash
# bench/websocket.sh - WebSocket echo: Berth's example app (/ws/echo of sites/hello) next to
# Hummingbird 2's WebSocket echo (hummingbird-websocket), on loopback, in one run.
#
# Load: CONNS connections each keep WINDOW text messages of SIZE bytes in flight and send the
# next one as each echo arrives (bench/websocket/echo_client.c on one epoll loop, built with cc,
# run by CLIENTS processes). Reported: messages/s (median of ROUNDS), resident memory of the
# server's processes under that load, and CPU per message (user/system µs of the server's
# processes). CLIENT=python uses echo_client.py instead (raw frames on asyncio): it needs no
# compiler, but on one core it tops out near 60k messages/s, below what either server answers
# there, and the ratio then measures the client.
#
# Knobs (environment): CONNS=100  SIZE=64  WINDOW=4  DURATION=5 (s per round)  ROUNDS=3
#   CLIENT=c|python  CLIENTS=1  THREADS=2  SERVER_CPUS=1  CLIENT_CPUS=0  WORK=/tmp/berth-bench-ws
#   BERTH=path/to/berth (a release build to measure; default: build one in .build-release)
#   HB=path/to/HBWebSocketEcho (default: build bench/websocket/hb-echo in WORK, release)
# Needs: cc (or CLIENT=python), python3, swift (to build), taskset.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/berth-bench-ws}
THREADS=${THREADS:-2}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-100}
SIZE=${SIZE:-64}
WINDOW=${WINDOW:-4}
CLIENTS=${CLIENTS:-1}
SERVER_CPUS=${SERVER_CPUS:-1}
CLIENT_CPUS=${CLIENT_CPUS:-0}
BERTH_PORT=18094
HB_PORT=18095

source "$ROOT/bench/common.sh"
mkdir -p "$WORK/logs"

# The load client: the C one unless asked otherwise.
if [ "${CLIENT:-c}" = python ]; then
  client=(python3 "$ROOT/bench/websocket/echo_client.py"); client_name=echo_client.py
else
  cc -O2 -o "$WORK/echo_client" "$ROOT/bench/websocket/echo_client.c"
  client=("$WORK/echo_client"); client_name=echo_client.c
fi

BERTH=$(berth_binary)
if [ -z "${HB:-}" ]; then
  mkdir -p "$WORK/hb-echo"
  cp -R "$ROOT/bench/websocket/hb-echo/." "$WORK/hb-echo/"
  HB="$WORK/hb-echo/.build/release/HBWebSocketEcho"
  if [ ! -x "$HB" ] || [ "$ROOT/bench/websocket/hb-echo/Sources/HBWebSocketEcho/main.swift" -nt "$HB" ]; then
    log "building the Hummingbird WebSocket echo (release) - a few minutes"
    (cd "$WORK/hb-echo" && swift build -c release >"$WORK/logs/hb-build.log" 2>&1) \
      || { tail -20 "$WORK/logs/hb-build.log"; exit 1; }
  fi
fi

cat >"$WORK/berth.yaml" <<YAML
listen: [{ address: 127.0.0.1, port: $BERTH_PORT }]
threads: $THREADS
logs: { access: "off", error: "$WORK/logs/berth-error.log" }
limits: { max_connections: 20000 }
apps:
  hello: { package: $ROOT/sites/hello, product: HelloApp }
hosts:
  localhost: { default: true, app: hello }
YAML

# load PID PORT: prints "messages/s rss_mib user_us sys_us errors" for one round.
load() {
  local pid=$1 port=$2 errors=0 before after rss=0 out i clients=()
  before=$(cpu_ticks "$pid")
  out=$(mktemp)
  for i in $(seq 1 "$CLIENTS"); do
    taskset -c "$CLIENT_CPUS" "${client[@]}" 127.0.0.1 "$port" /ws/echo $((CONNS / CLIENTS)) "$SIZE" "$DURATION" "$WINDOW" 1 >>"$out" &
    clients+=($!)
  done
  sleep $((1 + DURATION / 2))
  rss=$(rss_kib "$pid")
  wait "${clients[@]}"
  after=$(cpu_ticks "$pid")
  local total=0 messages=0
  while read -r rate err count; do total=$((total + rate)); errors=$((errors + err)); messages=$((messages + count)); done <"$out"
  rm -f "$out"
  read -r user sys < <(cpu_per_request $before $after "$messages")
  echo "$total $((rss / 1024)) $user $sys $errors"
}

run_server() { # NAME PORT COMMAND... : starts pinned to SERVER_CPUS, waits for the port
  local name=$1 port=$2; shift 2
  taskset -c "$SERVER_CPUS" "$@" >"$WORK/logs/$name.out" 2>&1 &
  pids+=($!)
  wait_port "$port"
  # The first round after a start includes the app's first requests: warm up once.
  taskset -c "$CLIENT_CPUS" "${client[@]}" 127.0.0.1 "$port" /ws/echo 10 "$SIZE" 1 "$WINDOW" 0 >/dev/null
}

declare -A result
for name in berth hummingbird; do
  case $name in
    berth) run_server berth $BERTH_PORT "$BERTH" run --config "$WORK/berth.yaml"; port=$BERTH_PORT;;
    hummingbird) run_server hummingbird $HB_PORT "$HB" $HB_PORT "$THREADS"; port=$HB_PORT;;
  esac
  pid=${pids[-1]}
  rounds=()
  for r in $(seq 1 "$ROUNDS"); do rounds+=("$(load "$pid" "$port")"); log "$name round $r: ${rounds[-1]}"; done
  rate=$(printf '%s\n' "${rounds[@]}" | awk '{print $1}' | median)
  rss=$(printf '%s\n' "${rounds[@]}" | awk '{print $2}' | median)
  user=$(printf '%s\n' "${rounds[@]}" | awk '{print $3}' | median)
  sys=$(printf '%s\n' "${rounds[@]}" | awk '{print $4}' | median)
  errors=$(printf '%s\n' "${rounds[@]}" | awk '{s+=$5} END {print s}')
  result[$name]="$rate $rss $user $sys $errors"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done

echo
echo "WebSocket echo ($client_name), $CONNS connections x $WINDOW in flight, $SIZE-byte text messages, ${DURATION}s x $ROUNDS rounds (median)"
printf '%-12s %12s %9s %16s %7s\n' server "messages/s" "RSS MiB" "CPU µs/msg u/s" errors
for name in berth hummingbird; do
  read -r rate rss user sys errors <<<"${result[$name]}"
  printf '%-12s %12s %9s %16s %7s\n' "$name" "$rate" "$rss" "$user/$sys" "$errors"
done
read -r b _ <<<"${result[berth]}"; read -r h _ <<<"${result[hummingbird]}"
python3 -c "print(f'berth / hummingbird: {$b / max($h, 1):.2f}x')"
