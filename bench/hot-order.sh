#!/usr/bin/env bash
# bench/hot-order.sh - writes the functions the master runs, in the order file the linker lays
# its text out by (Sources/berth-master/layout/hot.order; see `hotFirst` in Package.swift).
#
# Why: a process's resident memory counts every page of its binary it has touched, and the
# kernel maps a binary's pages 64 KiB at a time around each one touched. Functions a process
# runs, scattered over 12 MiB of text, keep most of it resident; placed together they keep a
# fraction. The list only decides placement: a stale or missing name costs memory, never
# correctness, so re-run this after large changes and commit the result.
#
# How: Valgrind's callgrind records every function executed while the master starts (building
# the example app, probing it, starting a worker), watches its worker serve HTTP/1.1, HTTPS and
# HTTP/2 requests, and stops. The worker runs outside Valgrind: 3.19 crashes in it, and the
# worker's own binary is small beside the shared Swift runtime it maps.
#
# Usage: bench/hot-order.sh   (root; installs valgrind, curl and nghttp2-client when missing)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/berth-hot-order.XXXXXX)
THREADS=2
BERTH_PORT=$((20000 + RANDOM % 20000))
TLS_PORT=$((BERTH_PORT + 1))
source "$ROOT/bench/common.sh"
install_missing valgrind curl
command -v nghttp >/dev/null || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nghttp2-client >/dev/null; }

log "building berth (release)"
swift build -c release --package-path "$ROOT" >"$WORK/build.log" 2>&1 || { tail -20 "$WORK/build.log" >&2; exit 1; }
BIN=$(swift build -c release --package-path "$ROOT" --show-bin-path)

# Valgrind 3.19 cannot read the DWARF 5 the toolchain writes: run copies without debug info
# (the symbol tables stay, and with them every name the linker orders by).
mkdir -p "$WORK/bin" "$WORK/logs" "$WORK/www/docs"
for f in berth berth-master berth-worker berth-acme libBerthApp.so; do objcopy --strip-debug "$BIN/$f" "$WORK/bin/$f"; done
write_1k_page
head -c 65536 /dev/urandom >"$WORK/www/64k.bin"
echo '<h1>docs</h1>' >"$WORK/www/docs/index.html"
cat >"$WORK/berth.yaml" <<YAML
listen:
  - { address: 127.0.0.1, port: $BERTH_PORT }
  - { address: 127.0.0.1, port: $TLS_PORT, tls: true }
threads: $THREADS
logs: { access: "$WORK/logs/access.log", error: "$WORK/logs/berth-error.log" }
pid_file: "off"
apps:
  hello: { package: $ROOT/sites/hello, product: HelloApp }
hosts:
  localhost:
    default: true
    tls: { certificate: $ROOT/conf/tls/example-localhost.pem, key: $ROOT/conf/tls/example-localhost.key }
    paths:
      /hello: { app: hello }
      /old: { redirect: /docs/ }
      /: { static: $WORK/www }
YAML

log "starting berth under callgrind (slow)"
setsid valgrind --tool=callgrind --demangle=no --trace-children=yes \
  --trace-children-skip='*/swift*,*/git,*/sh,*/bash,*/clang*,*/ld*,*/berth,*/berth-worker' \
  --callgrind-out-file="$WORK/callgrind.%p" "$WORK/bin/berth-master" run --config "$WORK/berth.yaml" \
  >"$WORK/logs/valgrind.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 1200); do grep -q " listening " "$WORK/logs/berth-error.log" 2>/dev/null && break; sleep 0.5; done
grep -q " listening " "$WORK/logs/berth-error.log" || { echo "berth did not start; see $WORK/logs" >&2; exit 1; }

log "requests"
plain=http://127.0.0.1:$BERTH_PORT tls=https://localhost:$TLS_PORT
for round in 1 2 3; do
  for url in "$plain" "$tls"; do
    for path in /1k.html /64k.bin /docs/ /docs /missing /old /hello /hello/Ada; do
      curl -sk -o /dev/null --resolve "localhost:$TLS_PORT:127.0.0.1" "$url$path"
      curl -sk -o /dev/null --resolve "localhost:$TLS_PORT:127.0.0.1" -I "$url$path"
      curl -sk -o /dev/null --resolve "localhost:$TLS_PORT:127.0.0.1" --compressed -H 'If-None-Match: "x"' -r 0-99 "$url$path"
    done
    # Several URLs on one connection (keep-alive); -o names only the first one's output.
    curl -sk --resolve "localhost:$TLS_PORT:127.0.0.1" "$url/1k.html" "$url/hello" "$url/64k.bin" >/dev/null
  done
  curl -sk --http2 --resolve "localhost:$TLS_PORT:127.0.0.1" "$tls/1k.html" "$tls/hello" "$tls/64k.bin" "$tls/missing" >/dev/null
  nghttp -n "$tls/1k.html" "$tls/hello" "$tls/64k.bin" >/dev/null 2>&1 || true
done
master=$(awk '/ listening /{for (i=1;i<=NF;i++) if ($i ~ /^server.pid=/) {split($i,a,"="); print a[2]}}' "$WORK/logs/berth-error.log" | tail -1)
kill -TERM "$master"
for _ in $(seq 1 300); do kill -0 "$master" 2>/dev/null || break; sleep 0.2; done
sleep 2

# Every function callgrind saw executed in an object, by its symbol name: each has a block of
# its own (`fn=`) under the object it lies in (`ob=`). Names that are only addresses (local
# symbols the tables do not keep) cannot be ordered and are left out.
functions() { # object-name callgrind-files...
  python3 - "$@" <<'PY'
import re, sys
want, found = sys.argv[1], set()
for path in sys.argv[2:]:
    names, objects, ob = {}, {}, None
    for line in open(path, errors="replace"):
        # Names are given once per file, where an id first appears, also in `cob=`/`cfn=` lines.
        m = re.match(r"^(c?)(ob|fn)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
        if not m:
            continue
        called, kind, ident, name = m.groups()
        table = objects if kind == "ob" else names
        if name:
            table[ident] = name
        if called:
            continue
        if kind == "ob":
            ob = objects.get(ident)
        elif ob and ob.endswith("/" + want):
            fn = re.sub(r"'\d+$", "", names.get(ident, ""))
            if fn and not fn.startswith(("0x", "(")):
                found.add(fn)
for fn in sorted(found):
    print(fn)
PY
}
out="$ROOT/Sources/berth-master/layout/hot.order"
functions berth-master "$WORK"/callgrind.* >"$out"
log "berth-master: $(wc -l <"$out") functions in ${out#"$ROOT"/}"
rm -rf "$WORK"
