#!/usr/bin/env bash
# bench/compress.sh - compression on the fly, Berth next to nginx on loopback, in one run
# (also: bench/run.sh compress).
#
# Cases, wrk with keep-alive:
#   - a 64 KiB HTML file (text of this repository) with Accept-Encoding: gzip, against nginx with
#     `gzip on` at the same level and `gzip_static off`; Berth answers from its variant cache.
#     Berth's Brotli figure (Accept-Encoding: br) too, and identity for both as the baseline.
#   - an app's 16 KiB JSON answer (the fixture app's /api/report) with and without gzip; nginx
#     serves the same bytes as a static file (it runs no app) for reference.
# For each: requests/s (median of ROUNDS), CPU per request of the server's process tree (user
# and system µs from /proc/PID/stat over the run, as ../shared/tools/cpu-per-request.sh
# measures, here with the Accept-Encoding header), the compressed sizes, and Berth's resident
# memory: before the first compressed answer, after the run, and after FILLER distinct 64 KiB
# files were each fetched with gzip and with br (more variants than compression_cache holds),
# which shows the cache's bound holding.
#
# Knobs (environment): THREADS=2 DURATION=10 (s per run) ROUNDS=3 CONNS=64 GZIP_LEVEL=5
#   BROTLI_LEVEL=4 SERVER_CPUS=1 CLIENT_CPUS=0 WORK=/tmp/berth-bench-compress
#   FILLER=1000 (distinct files for the memory case)
#   BERTH=path/to/berth (a binary built already; default: build a release one)
# Needs: wrk, nginx, python3, curl (installed with apt-get when missing and running as root).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/berth-bench-compress}
THREADS=${THREADS:-2}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-64}
GZIP_LEVEL=${GZIP_LEVEL:-5}
BROTLI_LEVEL=${BROTLI_LEVEL:-4}
SERVER_CPUS=${SERVER_CPUS:-1}
CLIENT_CPUS=${CLIENT_CPUS:-0}
BERTH_PORT=18092
NGINX_PORT=18093

source "$ROOT/bench/common.sh"
install_missing wrk nginx python3 curl bc

mkdir -p "$WORK/www" "$WORK/logs" "$WORK/tmp"
# 64 KiB of real text (this repository's docs and code), escaped into one HTML page.
python3 - "$ROOT" "$WORK/www/64k.html" <<'PY'
import html, sys, pathlib
root = pathlib.Path(sys.argv[1])
text = ""
for name in ["README.md", "Sources/BerthApp/README.md", "conf/berth.yaml", "Package.swift"] + \
        sorted(str(p.relative_to(root)) for p in (root / "Sources/BerthServer").rglob("*.swift")):
    text += html.escape((root / name).read_text())
head, tail = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>64k</title></head><body><pre>", "</pre></body></html>\n"
body = text.encode()[: 65536 - len(head) - len(tail)].decode(errors="ignore")
pathlib.Path(sys.argv[2]).write_text(head + body + tail)
PY

BERTH=$(berth_binary)

cat >"$WORK/berth.yaml" <<YAML
listen: [{ address: 127.0.0.1, port: $BERTH_PORT }]
threads: $THREADS
pid_file: "off"
logs: { access: "off", error: "$WORK/logs/berth-error.log" }
limits: { max_connections: 20000 }
compression_cache: 16MiB
apps:
  report: { package: $ROOT/Tests/Fixtures/apps/misbehaving, product: MisbehavingApp }
hosts:
  localhost:
    default: true
    compress: { encodings: [br, gzip], level: { br: $BROTLI_LEVEL, gzip: $GZIP_LEVEL } }
    paths:
      /api: { app: report }
      /: { static: $WORK/www }
YAML

# nginx's gzip at the same level, compressing each answer (no precompressed files).
nginx_conf "$WORK/nginx.conf" "gzip on; gzip_static off; gzip_comp_level $GZIP_LEVEL; gzip_min_length 256; gzip_vary on; gzip_types application/json;" ""


rm -f "$WORK/logs/berth-error.log"
"$BERTH" run --config "$WORK/berth.yaml" >"$WORK/logs/berth.out" 2>&1 & pids+=($!); BERTH_PID=$!
nginx -p "$WORK/" -c "$WORK/nginx.conf" >"$WORK/logs/nginx.out" 2>&1 & pids+=($!); NGINX_PID=$!
wait_port $NGINX_PORT
for _ in $(seq 1 1200); do grep -q " listening " "$WORK/logs/berth-error.log" 2>/dev/null && break; sleep 0.5; done  # the app builds first
wait_port $BERTH_PORT
for p in $(tree $BERTH_PID) $(tree $NGINX_PID); do taskset -a -cp "$SERVER_CPUS" "$p" >/dev/null; done
# nginx serves the app's JSON as a file, for reference.
curl -s "http://127.0.0.1:$BERTH_PORT/api/report" -o "$WORK/www/report.json"

# Compressed sizes, each checked against the identity bytes.
size() { curl -s --compressed -H "Accept-Encoding: $3" "http://127.0.0.1:$1$2" | cmp -s - "$WORK/www/${4}" || { echo "bad $3 body from :$1$2" >&2; exit 1; }
         curl -s -H "Accept-Encoding: $3" "http://127.0.0.1:$1$2" | wc -c; }

# CPU ticks (user, system) of a process tree.
ticks() { local u=0 s=0 a b p; for p in $(tree "$1"); do read -r a b < <(awk '{print $14, $15}' "/proc/$p/stat" 2>/dev/null) || continue; u=$((u + a)); s=$((s + b)); done; echo "$u $s"; }

# One wrk run: "requests/s user-µs/request sys-µs/request".
run() { # port path accept pid
  local header=() n r u0 s0 u1 s1 out
  [ -n "$3" ] && header=(-H "Accept-Encoding: $3")
  read -r u0 s0 < <(ticks "$4")
  out=$(taskset -c "$CLIENT_CPUS" wrk -t1 -c"$CONNS" -d"${DURATION}s" "${header[@]}" "http://127.0.0.1:$1$2" 2>&1)
  read -r u1 s1 < <(ticks "$4")
  n=$(echo "$out" | awk '/requests in/{print $1}'); r=$(echo "$out" | awk '/Requests\/sec/{print $2}')
  echo "$out" | grep -qE "Non-2xx|Socket errors" && log "errors in $2 ($3): $(echo "$out" | grep -E 'Non-2xx|Socket errors')"
  python3 -c "hz=$(getconf CLK_TCK);n=max(${n:-0},1);print('%s %.1f %.1f' % ('${r:-0}', 1e6*($u1-$u0)/hz/n, 1e6*($s1-$s0)/hz/n))"
}

# Resident memory before any compressed answer: the identity answers warmed up.
for path in /64k.html /api/report; do curl -s -o /dev/null "http://127.0.0.1:$BERTH_PORT$path"; done
RSS_BEFORE=$(echo "scale=1; $(rss_kib $BERTH_PID) / 1024" | bc)

cases=("nginx $NGINX_PORT /64k.html gzip" "berth $BERTH_PORT /64k.html gzip" "berth $BERTH_PORT /64k.html br"
       "nginx $NGINX_PORT /64k.html -" "berth $BERTH_PORT /64k.html -"
       "nginx $NGINX_PORT /report.json gzip" "berth $BERTH_PORT /api/report gzip"
       "nginx $NGINX_PORT /report.json -" "berth $BERTH_PORT /api/report -")
declare -A RPS USER SYS
for c in "${cases[@]}"; do
  read -r name port path accept <<<"$c"; [ "$accept" = - ] && accept=""
  taskset -c "$CLIENT_CPUS" wrk -t1 -c16 -d1s ${accept:+-H "Accept-Encoding: $accept"} "http://127.0.0.1:$port$path" >/dev/null 2>&1  # warm-up
done
for r in $(seq 1 "$ROUNDS"); do
  for c in "${cases[@]}"; do
    read -r name port path accept <<<"$c"; [ "$accept" = - ] && accept=""
    pid=$([ "$name" = berth ] && echo $BERTH_PID || echo $NGINX_PID)
    read -r rps user sys < <(run "$port" "$path" "$accept" "$pid")
    log "round $r $name $path ${accept:-identity}: $rps req/s, user $user µs, sys $sys µs per request"
    RPS[$c]+="$rps "; USER[$c]+="$user "; SYS[$c]+="$sys "
  done
done
BERTH_RSS=$(echo "scale=1; $(rss_kib $BERTH_PID) / 1024" | bc)

# More variants than the cache holds: FILLER distinct files (the 64 KiB page with a line of its
# own in front), each asked for with gzip and with br.
FILLER=${FILLER:-1000}
mkdir -p "$WORK/www/fill"
for i in $(seq 1 "$FILLER"); do { echo "<!-- page $i -->"; cat "$WORK/www/64k.html"; } >"$WORK/www/fill/$i.html"; done
# fill.lua CODINGS: each request the next page, every page with each coding in turn.
fill() {
  cat >"$WORK/fill.lua" <<LUA
codings = { $1 }
counter = 0
request = function()
  counter = counter + 1
  local page = (counter - 1) % $FILLER + 1
  local coding = codings[math.floor((counter - 1) / $FILLER) % #codings + 1]
  return wrk.format("GET", "/fill/" .. page .. ".html", { ["Accept-Encoding"] = coding })
end
LUA
  taskset -c "$CLIENT_CPUS" wrk -t1 -c1 -d"$2s" -s "$WORK/fill.lua" "http://127.0.0.1:$BERTH_PORT" >"$WORK/logs/fill.out" 2>&1
  awk '/requests in/{print $1}' "$WORK/logs/fill.out"
}
# First every page as it is: the open-file cache holds files up to 64 KiB in memory, which is
# its own budget, not the variant cache's.
IDENTITY_FILLED=$(fill '"identity"' "$DURATION")
RSS_IDENTITY=$(echo "scale=1; $(rss_kib $BERTH_PID) / 1024" | bc)
FILLED=$(fill '"gzip", "br"' "$((DURATION * 2))")
RSS_FILLED=$(echo "scale=1; $(rss_kib $BERTH_PID) / 1024" | bc)

echo
echo "## Compression, $(date -u +%FT%TZ), $THREADS threads/workers, servers on CPU $SERVER_CPUS, wrk on CPU $CLIENT_CPUS, ${ROUNDS}x${DURATION}s, c$CONNS, gzip level $GZIP_LEVEL, br level $BROTLI_LEVEL"
printf '%-6s %-12s %-9s %10s %10s %10s %9s\n' server path encoding "req/s" "user µs" "sys µs" bytes
for c in "${cases[@]}"; do
  read -r name port path accept <<<"$c"
  file=$([ "$path" = /64k.html ] && echo 64k.html || echo report.json)
  bytes=$(size "$port" "$path" "$([ "$accept" = - ] && echo identity || echo "$accept")" "$file")
  printf '%-6s %-12s %-9s %10.0f %10.1f %10.1f %9s\n' "$name" "$path" "$([ "$accept" = - ] && echo identity || echo "$accept")" \
    "$(echo "${RPS[$c]}" | tr ' ' '\n' | grep . | median)" "$(echo "${USER[$c]}" | tr ' ' '\n' | grep . | median)" \
    "$(echo "${SYS[$c]}" | tr ' ' '\n' | grep . | median)" "$bytes"
done
echo "berth resident memory: $RSS_BEFORE MiB before the first compressed answer, $BERTH_RSS MiB after the run,"
echo "  $RSS_IDENTITY MiB after $IDENTITY_FILLED identity requests for $FILLER distinct 64 KiB pages (the open-file cache's share),"
echo "  $RSS_FILLED MiB after $FILLED more requests for them in gzip and br (compression_cache: 16MiB per worker)"
