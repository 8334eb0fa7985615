#!/usr/bin/env bash
# bench/floor.sh - how far Berth's request path is from the floor of a server on SwiftNIO, with
# nginx beside both, in one run.
#
# The floor (bench/floor) is a NIO server that does no work of its own: one handler per
# connection, fixed answers, no parsing, routing or checks. Berth runs on the same event loops,
# sockets and pipelines, so the CPU per request between the two is Berth's own: parsing, the
# exchange, routing, the site's file checks, the response head, logs and counters. Cases: a
# 1 KiB file (Berth and nginx from disk, the floor from memory), a 64 KiB file (the floor from
# memory, and again as "floor-sendfile" with NIO's `sendfile`, the head a write of its own) and
# GET /hello (Berth's example app, nginx's `return 200`, the floor's fixed answer).
#
# `bench/floor.sh tls` measures HTTPS keep-alive on the 1 KiB file instead: the floor behind one
# NIOSSLServerHandler (the same TLS handler Berth's connections have), Berth on a `tls: true`
# listener and nginx (`listen ssl`), all on the example certificate in conf/tls. The distance
# between the floor and nginx is what SwiftNIO and NIOSSL leave to build on; the distance
# between Berth and the floor is Berth's own.
#
# `FIELDS=browser` sends the request fields of a browser (bench/browser-fields.lua: Chrome's dozen,
# half a kilobyte) instead of wrk's lone Host, with `Accept-Encoding: identity` so that every server
# answers the same bytes (ACCEPT_ENCODING overrides it; Berth then compresses, the others here do not).
#
# Knobs (environment): THREADS=2  DURATION=5 (s per run)  ROUNDS=3  CONNS=64  FIELDS=wrk|browser
#   SERVER_CPUS=1  CLIENT_CPUS=0  WORK=/tmp/berth-bench-floor
#   BERTH=path/to/berth (a release build to measure; default: build one in .build-release)
# Needs: wrk, nginx, swift (to build the floor).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/berth-bench-floor}
THREADS=${THREADS:-2}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-64}
SERVER_CPUS=${SERVER_CPUS:-1}
CLIENT_CPUS=${CLIENT_CPUS:-0}
BERTH_PORT=18096
NGINX_PORT=18097
FLOOR_PORT=18098

source "$ROOT/bench/common.sh"
install_missing wrk nginx
mkdir -p "$WORK/www" "$WORK/logs" "$WORK/tmp"
write_1k_page
[ -f "$WORK/www/64k.bin" ] || head -c 65536 /dev/urandom >"$WORK/www/64k.bin"

BERTH=$(berth_binary)
mkdir -p "$WORK/floor"
cp -R "$ROOT/bench/floor/." "$WORK/floor/"
FLOOR="$WORK/floor/.build/release/NIOFloor"
if [ ! -x "$FLOOR" ] || [ "$ROOT/bench/floor/Sources/NIOFloor/main.swift" -nt "$FLOOR" ]; then
  log "building the NIO floor (release)"
  (cd "$WORK/floor" && swift build -c release >"$WORK/logs/floor-build.log" 2>&1) || { tail -20 "$WORK/logs/floor-build.log"; exit 1; }
fi

SCHEME=http; PATHS="/1k.html /64k.bin /hello"; FLOOR_TLS=()
if [ "${1:-}" = tls ]; then
  SCHEME=https; PATHS="/1k.html"
  install -m 644 "$ROOT/conf/tls/example-localhost.pem" "$WORK/cert.pem"
  install -m 644 "$ROOT/conf/tls/example-localhost.key" "$WORK/key.pem"
  FLOOR_TLS=("$WORK/cert.pem" "$WORK/key.pem")
  cat >"$WORK/berth.yaml" <<YAML
listen: [{ address: 127.0.0.1, port: $BERTH_PORT, tls: true }]
threads: $THREADS
logs: { access: "off", error: "$WORK/logs/berth-error.log" }
limits: { max_connections: 20000 }
pid_file: "off"
hosts:
  localhost: { default: true, tls: { certificate: cert.pem, key: key.pem }, static: $WORK/www }
YAML
  nginx_conf "$WORK/nginx.conf" "ssl_certificate $WORK/cert.pem; ssl_certificate_key $WORK/key.pem; ssl_protocols TLSv1.2 TLSv1.3;" ""
  sed -i "s|listen 127.0.0.1:$NGINX_PORT backlog=4096;|listen 127.0.0.1:$NGINX_PORT backlog=4096 ssl;|" "$WORK/nginx.conf"
else
  write_berth_config "$WORK/www"
  nginx_conf "$WORK/nginx.conf" "" 'location = /hello { default_type text/plain; return 200 "Hello, world!"; }'
fi

rm -f "$WORK/logs/berth-error.log"
"$BERTH" run --config "$WORK/berth.yaml" >"$WORK/logs/berth.out" 2>&1 & pids+=($!); BERTH_PID=$!
nginx -p "$WORK/" -c "$WORK/nginx.conf" >"$WORK/logs/nginx.out" 2>&1 & pids+=($!); NGINX_PID=$!
"$FLOOR" "$FLOOR_PORT" "$WORK/www" "$THREADS" "${FLOOR_TLS[@]}" >"$WORK/logs/floor.out" 2>&1 & pids+=($!); FLOOR_PID=$!
wait_port $NGINX_PORT; wait_port $FLOOR_PORT
wait_berth_listening
wait_port $BERTH_PORT
for p in $(tree $BERTH_PID) $(tree $NGINX_PID) $(tree $FLOOR_PID); do taskset -a -cp "$SERVER_CPUS" "$p" >/dev/null; done

WRK_FIELDS=()
if [ "${FIELDS:-wrk}" = browser ]; then
  WRK_FIELDS=(-s "$ROOT/bench/browser-fields.lua")
  export ACCEPT_ENCODING=${ACCEPT_ENCODING:-identity}
fi

declare -A PORT TREE RPS USR SYS
PORT[nginx]=$NGINX_PORT; PORT[floor]=$FLOOR_PORT; PORT[floor-sendfile]=$FLOOR_PORT; PORT[berth]=$BERTH_PORT
TREE[nginx]=$NGINX_PID; TREE[floor]=$FLOOR_PID; TREE[floor-sendfile]=$FLOOR_PID; TREE[berth]=$BERTH_PID
# The servers of a case, and the path each is asked (the floor sends the 64 KiB file with
# `sendfile` at a path of its own).
servers() { if [ "$1" = /64k.bin ]; then echo nginx floor floor-sendfile berth; else echo nginx floor berth; fi; }
url() { # server path
  local path=$2
  [ "$1" = floor-sendfile ] && path=/64k.file
  echo "$SCHEME://127.0.0.1:${PORT[$1]}$path"
}
for path in $PATHS; do
  for server in $(servers "$path"); do
    taskset -c "$CLIENT_CPUS" wrk -t1 -c16 -d1s "$(url "$server" "$path")" >/dev/null 2>&1  # warm-up
  done
  for r in $(seq 1 "$ROUNDS"); do
    for server in $(servers "$path"); do
      read -r u0 s0 < <(cpu_ticks "${TREE[$server]}")
      out=$(taskset -c "$CLIENT_CPUS" wrk -t1 -c"$CONNS" -d"${DURATION}s" "${WRK_FIELDS[@]}" "$(url "$server" "$path")" 2>&1)
      read -r u1 s1 < <(cpu_ticks "${TREE[$server]}")
      rps=$(awk '/Requests\/sec/{print $2}' <<<"$out"); n=$(awk '/requests in/{print $1}' <<<"$out")
      grep -q "Non-2xx\|Socket errors" <<<"$out" && log "round $r $path $server: errors: $(grep 'Non-2xx\|Socket errors' <<<"$out")"
      read -r u s < <(cpu_per_request "$u0" "$s0" "$u1" "$s1" "${n:-0}")
      log "round $r $path $server: $rps req/s, user $u us, sys $s us per request"
      RPS[$server$path]+="$rps "; USR[$server$path]+="$u "; SYS[$server$path]+="$s "
    done
  done
done

med() { echo "$1" | tr ' ' '\n' | grep . | median; }
echo
echo "## Berth, the NIO floor and nginx over $SCHEME, $(date -u +%FT%TZ), $THREADS threads/workers, servers on CPU $SERVER_CPUS, wrk on CPU $CLIENT_CPUS, ${ROUNDS}x${DURATION}s, c$CONNS, request fields: ${FIELDS:-wrk}${ACCEPT_ENCODING:+ (Accept-Encoding: $ACCEPT_ENCODING)}"
echo "## CPU per request: user/system microseconds of the server's processes (medians)"
printf '%-10s %-14s %10s %9s %12s\n' case server "req/s" "vs nginx" "us user/sys"
for path in $PATHS; do
  n=$(med "${RPS[nginx$path]}")
  for server in $(servers "$path"); do
    q=$(med "${RPS[$server$path]}")
    printf '%-10s %-14s %10.0f %8.2fx %12s\n' "$path" "$server" "$q" "$(echo "$q / $n" | bc -l)" \
      "$(med "${USR[$server$path]}")/$(med "${SYS[$server$path]}")"
  done
done
