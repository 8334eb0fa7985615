# bench/common.sh - what the benchmark scripts share (sourced by run.sh and compress.sh): tools,
# process trees, ports, medians, and nginx's configuration. Expects WORK, THREADS, NGINX_PORT.

log() { echo "# $*" >&2; }

# Installs the Debian packages of the given commands when missing (as root).
install_missing() {
  local missing=() tool
  for tool in "$@"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
  fi
  ulimit -n 65536 2>/dev/null || true
}

# Servers started by the script (their PIDs), stopped when it exits.
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
wait_port() { for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open" >&2; exit 1; }
tree() { local root=$1; echo "$root"; for c in $(ps -o pid= --ppid "$root"); do tree "$c"; done; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# User and system CPU ticks of a process tree: "USER SYS".
cpu_ticks() { local u=0 s=0 p a b; for p in $(tree "$1"); do read -r a b < <(awk '{print $14, $15}' "/proc/$p/stat" 2>/dev/null) || continue; u=$((u + a)); s=$((s + b)); done; echo "$u $s"; }
# Microseconds of CPU per request from two cpu_ticks readings and a request count: "USER SYS".
cpu_per_request() { python3 -c "import os; t=os.sysconf('SC_CLK_TCK'); u0,s0,u1,s1,n=$1,$2,$3,$4,max(int(float('$5')),1); print(f'{1e6*(u1-u0)/t/n:.1f} {1e6*(s1-s0)/t/n:.1f}')"; }
rss_kib() { local sum=0 p v; for p in $(tree "$1"); do v=$(awk '/^VmRSS:/{print $2}' "/proc/$p/status" 2>/dev/null || echo 0); sum=$((sum + ${v:-0})); done; echo "$sum"; }

# nginx_conf FILE HTTP_EXTRA SERVER_EXTRA: nginx on 127.0.0.1:$NGINX_PORT serving $WORK/www
# with $THREADS workers, sendfile, no access log; the extras go into `http` and `server`.
nginx_conf() {
  cat >"$1" <<CONF
daemon off;
master_process on;
worker_processes $THREADS;
worker_rlimit_nofile 16384;
pid $WORK/nginx.pid;
error_log $WORK/logs/nginx-error.log warn;
events { worker_connections 8192; use epoll; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nodelay on;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/tmp/body;
    proxy_temp_path $WORK/tmp/proxy;
    fastcgi_temp_path $WORK/tmp/fastcgi;
    uwsgi_temp_path $WORK/tmp/uwsgi;
    scgi_temp_path $WORK/tmp/scgi;
    $2
    server {
        listen 127.0.0.1:$NGINX_PORT backlog=4096;
        root $WORK/www;
        $3
    }
}
CONF
}

# The 1 KiB page every comparison serves: $WORK/www/1k.html.
write_1k_page() {
  mkdir -p "$WORK/www"
  printf '<!DOCTYPE html><html><head><title>1k</title></head><body><p>%s</p></body></html>\n' \
    "$(head -c 945 /dev/zero | tr '\0' x)" >"$WORK/www/1k.html"
}

# Berth on 127.0.0.1:$BERTH_PORT with $THREADS threads, serving DOCROOT and the example hello app
# at /hello, no access log: $WORK/berth.yaml.
write_berth_config() { # docroot
  cat >"$WORK/berth.yaml" <<YAML
listen: [{ address: 127.0.0.1, port: $BERTH_PORT }]
threads: $THREADS
logs: { access: "off", error: "$WORK/logs/berth-error.log" }
limits: { max_connections: 20000 }
pid_file: "off"
apps:
  hello: { package: $ROOT/sites/hello, product: HelloApp }
hosts:
  localhost:
    default: true
    paths:
      /hello: { app: hello }
      /: { static: $1 }
YAML
}

# Waits until Berth says it listens (its first start builds the example app first).
wait_berth_listening() {
  for _ in $(seq 1 600); do grep -q " listening " "$WORK/logs/berth-error.log" 2>/dev/null && return 0; sleep 0.5; done
  echo "berth did not start; see $WORK/logs" >&2; exit 1
}

# The berth to measure: $BERTH when given, else a release build of this checkout in .build-release.
# Every product is built: the launcher starts berth-master and berth-worker from its own folder.
berth_binary() {
  if [ -n "${BERTH:-}" ]; then echo "$BERTH"; return; fi
  mkdir -p "$WORK/logs"
  log "building berth (release)"
  swift build -c release --package-path "$ROOT" --scratch-path "$ROOT/.build-release" >"$WORK/logs/build.log" 2>&1 \
    || { tail -20 "$WORK/logs/build.log" >&2; exit 1; }
  echo "$ROOT/.build-release/release/berth"
}
