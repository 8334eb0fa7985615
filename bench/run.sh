#!/usr/bin/env bash
# bench/run.sh - Berth next to nginx on the same files, on loopback, measured with wrk in one run.
#
# Cases: 1 KiB file with keep-alive (requests/s), 1 MiB file (bytes/s), an app route answering
# 13 bytes (Berth's example hello app against nginx's `return 200`), and resident memory with
# 1,000 idle keep-alive connections open.
#
# `bench/run.sh tls` compares HTTPS instead: nginx (`listen ssl http2`), h2o (ssl) and Berth (a
# `tls: true` listener) on the example certificate in conf/tls, 1 KiB file, HTTPS keep-alive with
# wrk and HTTP/2 with `h2load -c64 -m10`.
#
# `bench/run.sh peers` instead starts Berth alone on the peer docroot and hands it to the
# side-by-side peer script (nginx, h2o, lighttpd, caddy, Hummingbird) when that script is
# present (PEERS_SCRIPT, default ../shared/tools/bench-peers.sh). Both servers get the same number of threads/workers,
# no access log, sendfile on. Servers run on SERVER_CPUS, wrk on CLIENT_CPUS (taskset), so the
# load generator does not steal the servers' CPU.
#
# Knobs (environment): THREADS=2  DURATION=10 (s per run)  ROUNDS=3  CONNS=64  IDLE=1000
#   SERVER_CPUS=1  CLIENT_CPUS=0  WORK=/tmp/berth-bench
#   BERTH=path/to/berth (a release build to measure; default: build one in .build-release)
# Needs: wrk, nginx, python3 (installed with apt-get when missing and running as root).
#
# `bench/run.sh compress` runs bench/compress.sh: compression on the fly against nginx's gzip.
set -euo pipefail
[ "${1:-}" = compress ] && exec bash "$(dirname "$0")/compress.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/berth-bench}
THREADS=${THREADS:-2}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-64}
IDLE=${IDLE:-1000}
SERVER_CPUS=${SERVER_CPUS:-1}
CLIENT_CPUS=${CLIENT_CPUS:-0}
BERTH_PORT=18090
NGINX_PORT=18091

source "$ROOT/bench/common.sh"
install_missing wrk nginx python3

mkdir -p "$WORK/www" "$WORK/logs" "$WORK/tmp"
write_1k_page
[ -f "$WORK/www/1m.bin" ] || head -c 1048576 /dev/urandom >"$WORK/www/1m.bin"

BERTH=$(berth_binary)

write_berth_config "$WORK/www"


if [ "${1:-}" = tls ]; then
  command -v h2o >/dev/null && command -v h2load >/dev/null || {
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q h2o nghttp2-client >/dev/null; }
  T=$WORK/tls; mkdir -p "$T/logs" "$T/tmp"; chmod 777 "$T" "$T/logs"   # h2o drops to nobody
  install -m 644 "$ROOT/conf/tls/example-localhost.pem" "$T/cert.pem"
  install -m 644 "$ROOT/conf/tls/example-localhost.key" "$T/key.pem"
  cat >"$T/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes $THREADS;
pid $T/nginx.pid;
error_log $T/logs/nginx-error.log warn;
events { worker_connections 8192; }
http {
    access_log off; sendfile on; tcp_nodelay on; keepalive_requests 1000000;
    client_body_temp_path $T/tmp/b; proxy_temp_path $T/tmp/p; fastcgi_temp_path $T/tmp/f;
    uwsgi_temp_path $T/tmp/u; scgi_temp_path $T/tmp/s;
    server {
        listen 127.0.0.1:18443 ssl http2;
        ssl_certificate $T/cert.pem; ssl_certificate_key $T/key.pem; ssl_protocols TLSv1.2 TLSv1.3;
        root $WORK/www;
    }
}
CONF
  cat >"$T/h2o.conf" <<CONF
listen: { host: 127.0.0.1, port: 18444, ssl: { certificate-file: $T/cert.pem, key-file: $T/key.pem } }
num-threads: $THREADS
pid-file: $T/h2o.pid
error-log: $T/logs/h2o-error.log
hosts: { "default": { paths: { "/": { file.dir: $WORK/www } } } }
CONF
  cat >"$T/berth.yaml" <<YAML
listen: [{ address: 127.0.0.1, port: 18445, tls: true }]
threads: $THREADS
logs: { access: "off", error: "$T/logs/berth-error.log" }
pid_file: "off"
hosts:
  localhost: { default: true, tls: { certificate: cert.pem, key: key.pem }, static: $WORK/www }
YAML
  nginx -p "$T/" -c "$T/nginx.conf" >"$T/logs/nginx.out" 2>&1 & pids+=($!); TN=$!
  h2o -c "$T/h2o.conf" >"$T/logs/h2o.out" 2>&1 & pids+=($!); TH=$!
  "$BERTH" run --config "$T/berth.yaml" >"$T/logs/berth.out" 2>&1 & pids+=($!); TB=$!
  wait_port 18443; wait_port 18444; wait_port 18445
  for p in $(tree $TN) $(tree $TH) $(tree $TB); do taskset -a -cp "$SERVER_CPUS" "$p" >/dev/null; done
  declare -A W H WU WS HU HS TREE
  TREE[nginx]=$TN; TREE[h2o]=$TH; TREE[berth]=$TB
  for r in $(seq 1 "$ROUNDS"); do
    for server in nginx:18443 h2o:18444 berth:18445; do
      name=${server%%:*}; port=${server##*:}
      read -r u0 s0 < <(cpu_ticks "${TREE[$name]}")
      out=$(taskset -c "$CLIENT_CPUS" wrk -t1 -c"$CONNS" -d"${DURATION}s" "https://127.0.0.1:$port/1k.html" 2>&1)
      read -r u1 s1 < <(cpu_ticks "${TREE[$name]}")
      w=$(awk '/Requests\/sec/{print $2}' <<<"$out"); n=$(awk '/requests in/{print $1}' <<<"$out")
      read -r wu ws < <(cpu_per_request "$u0" "$s0" "$u1" "$s1" "${n:-0}")
      read -r u0 s0 < <(cpu_ticks "${TREE[$name]}")
      out=$(taskset -c "$CLIENT_CPUS" h2load -c"$CONNS" -m10 -D "$DURATION" "https://127.0.0.1:$port/1k.html" 2>&1)
      read -r u1 s1 < <(cpu_ticks "${TREE[$name]}")
      h=$(awk '/^finished in/{print $4}' <<<"$out"); n=$(awk '/^requests:/{print $8}' <<<"$out")
      read -r hu hs < <(cpu_per_request "$u0" "$s0" "$u1" "$s1" "${n:-0}")
      log "round $r $name: https $w req/s (user $wu us, sys $ws us), h2 $h req/s (user $hu us, sys $hs us)"
      W[$name]+="$w "; H[$name]+="$h "; WU[$name]+="$wu "; WS[$name]+="$ws "; HU[$name]+="$hu "; HS[$name]+="$hs "
    done
  done
  med() { echo "$1" | tr ' ' '\n' | grep . | median; }
  echo
  echo "## HTTPS, $(date -u +%FT%TZ), $THREADS threads/workers, servers on CPU $SERVER_CPUS, clients on CPU $CLIENT_CPUS, ${ROUNDS}x${DURATION}s, c$CONNS"
  echo "## CPU per request: user and system microseconds of the server's processes during the run (medians)"
  printf '%-8s %12s %16s %14s %16s\n' server "https r/s" "https us u/s" "h2 -m10 r/s" "h2 us u/s"
  for name in nginx h2o berth; do
    printf '%-8s %12.0f %16s %14.0f %16s\n' "$name" "$(med "${W[$name]}")" "$(med "${WU[$name]}")/$(med "${WS[$name]}")" \
      "$(med "${H[$name]}")" "$(med "${HU[$name]}")/$(med "${HS[$name]}")"
  done
  exit 0
fi

if [ "${1:-}" = peers ]; then
  PEERS_SCRIPT=${PEERS_SCRIPT:-$ROOT/../shared/tools/bench-peers.sh}
  [ -x "$PEERS_SCRIPT" ] || [ -f "$PEERS_SCRIPT" ] || { echo "no peer script at $PEERS_SCRIPT" >&2; exit 1; }
  bash "$PEERS_SCRIPT" setup
  write_berth_config "${PEERS_DIR:-/tmp/peers}/www"
  rm -f "$WORK/logs/berth-error.log"
  "$BERTH" run --config "$WORK/berth.yaml" >"$WORK/logs/berth.out" 2>&1 &
  BERTH_PID=$!
  trap 'kill $BERTH_PID 2>/dev/null; wait 2>/dev/null' EXIT
  wait_berth_listening
  bash "$PEERS_SCRIPT" all berth=http://127.0.0.1:$BERTH_PORT
  exit $?
fi

nginx_conf "$WORK/nginx.conf" "" 'location = /hello { default_type text/plain; return 200 "Hello, world!"; }'



rm -f "$WORK/logs/berth-error.log"
"$BERTH" run --config "$WORK/berth.yaml" >"$WORK/logs/berth.out" 2>&1 & pids+=($!); BERTH_PID=$!
nginx -p "$WORK/" -c "$WORK/nginx.conf" >"$WORK/logs/nginx.out" 2>&1 & pids+=($!); NGINX_PID=$!
wait_port $NGINX_PORT
wait_berth_listening
wait_port $BERTH_PORT
for p in $(tree $BERTH_PID) $(tree $NGINX_PID); do taskset -a -cp "$SERVER_CPUS" "$p" >/dev/null; done

# wrk: "Requests/sec" and "Transfer/sec" (converted to MiB/s).
run_wrk() {
  taskset -c "$CLIENT_CPUS" wrk -t1 -c"$CONNS" -d"${DURATION}s" "$1" 2>&1 | awk '
    /Requests\/sec/ { r=$2 }
    /Transfer\/sec/ { v=$2; u=substr(v, length(v)-1); n=v+0; if (u=="GB") n*=1024; else if (u=="KB") n/=1024; else if (u!="MB") n/=1048576; t=n }
    /Non-2xx|Socket errors/ { e=1 }
    END { printf "%.0f %.1f %s\n", r, t, (e ? "errors" : "ok") }'
}

declare -A RPS MIB
for path in /1k.html /1m.bin /hello; do
  for server in nginx berth; do
    port=$([ $server = berth ] && echo $BERTH_PORT || echo $NGINX_PORT)
    taskset -c "$CLIENT_CPUS" wrk -t1 -c16 -d1s "http://127.0.0.1:$port$path" >/dev/null 2>&1  # warm-up
  done
  for r in $(seq 1 "$ROUNDS"); do
    for server in nginx berth; do
      port=$([ $server = berth ] && echo $BERTH_PORT || echo $NGINX_PORT)
      read -r rps mib status < <(run_wrk "http://127.0.0.1:$port$path")
      log "round $r $path $server: $rps req/s, $mib MiB/s ($status)"
      RPS[$server$path]+="$rps "; MIB[$server$path]+="$mib "
    done
  done
done

# Memory with IDLE keep-alive connections that each made one request and stay open.
idle_rss() {
  python3 - "$1" "$IDLE" <<'PY' &
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
conns = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /1k.html HTTP/1.1\r\nHost: localhost\r\n\r\n")
    conns.append(s)
for s in conns:
    got = b""
    while b"</html>" not in got:
        got += s.recv(4096)
print("ready", flush=True)
time.sleep(4)
PY
  local py=$!
  sleep 3
  rss_kib "$2"
  wait $py 2>/dev/null || true
}
NGINX_IDLE=$(idle_rss $NGINX_PORT $NGINX_PID | tail -1)
BERTH_IDLE=$(idle_rss $BERTH_PORT $BERTH_PID | tail -1)

echo
echo "## Berth vs nginx, $(date -u +%FT%TZ), $THREADS threads/workers, servers on CPU $SERVER_CPUS, wrk on CPU $CLIENT_CPUS, ${ROUNDS}x${DURATION}s, c$CONNS"
printf '%-10s %14s %14s %8s\n' case nginx berth ratio
for path in /1k.html /1m.bin /hello; do
  n=$(echo "${RPS[nginx$path]}" | tr ' ' '\n' | grep . | median); b=$(echo "${RPS[berth$path]}" | tr ' ' '\n' | grep . | median)
  printf '%-10s %10.0f r/s %10.0f r/s %7.2fx\n' "$path" "$n" "$b" "$(echo "$b / $n" | bc -l)"
  n=$(echo "${MIB[nginx$path]}" | tr ' ' '\n' | grep . | median); b=$(echo "${MIB[berth$path]}" | tr ' ' '\n' | grep . | median)
  printf '%-10s %10.1f MiB/s %8.1f MiB/s %5.2fx\n' "" "$n" "$b" "$(echo "$b / $n" | bc -l)"
done
printf '%-10s %10.1f MiB %10.1f MiB %7.2fx\n' "idle$IDLE" "$(echo "$NGINX_IDLE/1024" | bc -l)" "$(echo "$BERTH_IDLE/1024" | bc -l)" "$(echo "$BERTH_IDLE / $NGINX_IDLE" | bc -l)"
