#!/usr/bin/env bash
# HTTP benchmark: h2load against lib/http (k8c-http-test-server, one thread)
# and against nginx (Debian nginx-light, http2) serving the same small
# response ("hello\n"), over TLS (ALPN h2) and cleartext (h2c prior
# knowledge), at 100 concurrent streams (10 connections x 10 streams), in one
# run. nginx runs with one worker (the same one core k8c uses) and, as a
# second reference, with one worker per core.
# Builds a release tree in build-bench-http/ unless BUILD_DIR is set.
# Usage: bench/http/run.sh [requests-per-case]   (default 200000)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/integration/common.sh"
build=${BUILD_DIR:-$root/build-bench-http}
n=${1:-200000}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DK8C_SANITIZE=OFF >/dev/null
cmake --build "$build" --target k8c-http-test-server -j2 >/dev/null
tmp=$(mktemp -d /tmp/bench-http.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
make_certs "$tmp/pki"

k8c_tls=$(free_port) k8c_h2c=$(free_port) ngx_tls=$(free_port) ngx_h2c=$(free_port)
"$build/bin/k8c-http-test-server" --listen="127.0.0.1:$k8c_tls" \
    --tls-cert="$tmp/pki/server.crt" --tls-key="$tmp/pki/server.key" >/dev/null 2>&1 &
pids+=($!)
"$build/bin/k8c-http-test-server" --listen="127.0.0.1:$k8c_h2c" >/dev/null 2>&1 &
pids+=($!)

start_nginx() { # start_nginx WORKERS
    mkdir -p "$tmp/nginx$1"
    cat > "$tmp/nginx$1/nginx.conf" <<CONF
worker_processes $1;
daemon off;
pid $tmp/nginx$1/nginx.pid;
error_log $tmp/nginx$1/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx$1;
    proxy_temp_path $tmp/nginx$1;
    fastcgi_temp_path $tmp/nginx$1;
    uwsgi_temp_path $tmp/nginx$1;
    scgi_temp_path $tmp/nginx$1;
    http2_max_concurrent_streams 1000;
    keepalive_requests 100000000;
    server {
        listen 127.0.0.1:$ngx_tls ssl http2;
        listen 127.0.0.1:$ngx_h2c http2;
        ssl_certificate $tmp/pki/server.crt;
        ssl_certificate_key $tmp/pki/server.key;
        location /hello { default_type "text/plain; charset=utf-8"; return 200 "hello\n"; }
    }
}
CONF
    nginx -c "$tmp/nginx$1/nginx.conf" -p "$tmp/nginx$1" 2>/dev/null &
    ngx_pid=$!
    pids+=($ngx_pid)
    wait_listen "$ngx_tls" && wait_listen "$ngx_h2c"
}
stop_nginx() {
    kill "$ngx_pid"; wait "$ngx_pid" 2>/dev/null || true
}
wait_listen "$k8c_tls" && wait_listen "$k8c_h2c"

run() { # run NAME URL
    local out
    out=$(timeout 120 h2load -n "$n" -c 10 -m 10 "$2" 2>&1) || true
    local rps mean ok
    rps=$(echo "$out" | sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p')
    mean=$(echo "$out" | awk '/^time for request:/ {print $6}')
    ok=$(echo "$out" | sed -n 's/.* \([0-9]*\) succeeded.*/\1/p')
    echo "case=$1 requests=$n succeeded=${ok:-0} req_per_sec=${rps:-0} mean_latency=${mean:-?}" | tee -a "$tmp/out"
}

for round in 1 2; do
    run "k8c_tls_r$round" "https://127.0.0.1:$k8c_tls/hello"
    run "k8c_h2c_r$round" "http://127.0.0.1:$k8c_h2c/hello"
done
start_nginx 1
for round in 1 2; do
    run "nginx1_tls_r$round" "https://127.0.0.1:$ngx_tls/hello"
    run "nginx1_h2c_r$round" "http://127.0.0.1:$ngx_h2c/hello"
done
stop_nginx
start_nginx auto
run "nginx_auto_tls_r1" "https://127.0.0.1:$ngx_tls/hello"
run "nginx_auto_h2c_r1" "http://127.0.0.1:$ngx_h2c/hello"
stop_nginx

/usr/bin/python3 - "$tmp/out" <<'PY'
import re, sys
best = {}
for line in open(sys.argv[1]):
    kv = dict(p.split("=", 1) for p in line.split())
    name = re.sub(r"_r\d$", "", kv["case"])
    best[name] = max(best.get(name, 0.0), float(kv["req_per_sec"]))
print()
print("%-14s %12s %12s %12s %10s %10s" % ("transport", "k8c req/s", "nginx(1w)", "nginx(auto)", "k8c/nginx1", "k8c/auto"))
for t in ("tls", "h2c"):
    k, n1, na = best.get("k8c_" + t, 0), best.get("nginx1_" + t, 0), best.get("nginx_auto_" + t, 0)
    print("%-14s %12.0f %12.0f %12.0f %10.2f %10.2f" % (t, k, n1, na, k / n1 if n1 else 0, k / na if na else 0))
PY
