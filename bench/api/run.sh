#!/usr/bin/env bash
# API server benchmark: k8c-apiserver on a 3-member k8c-store cluster against
# k8c-apiserver on a 3-member etcd 3.4 cluster (Debian etcd-server,
# /usr/bin/etcd), all on 127.0.0.1 at the same time, driven by the same load
# generator (bench_api: lib/http's HTTP/2 client, TLS, bearer token, JSON
# bodies) at 1, 64 and 512 concurrent clients, alternating between the two
# stores level by level. At each level and for each store, bench_api runs, in
# order, on configmaps in namespace default:
#   create  POST OBJECTS objects (~1 KiB of data each)
#   get     GET by name, cycling over them, for SECONDS
#   list    GET ?limit=500&resourceVersion=0 (the watch cache serves it and,
#           as upstream, returns every object: items= says how many), SECONDS
#   update  PUT each object once with its resourceVersion
#   delete  DELETE each object
# Writes are bounded by WRITE_SECONDS too, reads by their count too.
# Clients are HTTP/2 streams over 1 (1 client), 4 (64) or 8 (512) connections.
# Both API servers run with --max-requests-inflight and
# --max-mutating-requests-inflight at 2000, so no request is refused with 429
# at these levels; both clusters with etcd's default heartbeat (100 ms) and
# election timeout (1000 ms).
# Prints bench_api's key=value lines (with store=), then a table per
# operation and level: ops/s, p50 and p99 in ms for each store, and the ratio
# k8c-store/etcd (> 1: k8c-store better: k8c/etcd for rates, etcd/k8c for
# latencies); a table of CPU time per operation (API server, the 3 store
# members, bench_api: on 2 cores it says what limits a rate); then every
# non-2xx answer, timeout, failed stream or stall, and the alarming lines of
# the API servers' and stores' logs.
# Builds a release tree in build-bench-api/ unless BUILD_DIR is set (SKIP_BUILD=1:
# use the binaries already in it, e.g. a sanitizer build).
# Usage: bench/api/run.sh [seconds-per-read-op]   (default 5; OBJECTS=2000,
#        WRITE_SECONDS=60, LEVELS="1 64 512", ETCD=/usr/bin/etcd)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/integration/common.sh"
build=${BUILD_DIR:-$root/build-bench-api}
secs=${1:-5}
objects=${OBJECTS:-2000}
write_secs=${WRITE_SECONDS:-60}
levels=${LEVELS:-"1 64 512"}
etcd_bin=${ETCD:-/usr/bin/etcd}
[ -x "$etcd_bin" ] || { echo "no etcd at $etcd_bin (apt-get install etcd-server)" >&2; exit 1; }
if [ "${SKIP_BUILD:-0}" = 0 ]; then
    mkdir -p "$build"
    { cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DK8C_SANITIZE=OFF &&
        cmake --build "$build" --target k8c-store k8c-apiserver bench_api -j2; } \
        >"$build/bench-api-build.log" 2>&1 || { tail -n 40 "$build/bench-api-build.log" >&2; exit 1; }
fi
bench="$build/bench/bench_api"
tmp=$(mktemp -d /tmp/bench-api.XXXXXX)
pids=()
cleanup() {
    stop_pids
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make_certs "$tmp/pki"
echo 'tok,bench,1,"system:masters"' >"$tmp/tokens.csv"

declare -A cport pport pid api_port api_pid
# bench_cluster STORE BIN: start_cluster (tests/integration/common.sh) with
# etcd's default heartbeat and election timeout: members STORE0..2, data in
# $tmp/STOREi, logs in $tmp/STOREi.log.
bench_cluster() {
    start_cluster "$1" "$2" --initial-cluster-state new --initial-cluster-token "bench-$1" \
        --heartbeat-interval 100 --election-timeout 1000
}
# start_api STORE: k8c-apiserver on the STORE cluster, log in $tmp/api-STORE.log;
# waits (60 s at most) until /readyz answers, which needs the store to have a leader.
start_api() {
    local s=$1
    api_port[$s]=$(free_port)
    start_apiserver "$build/bin/k8c-apiserver" "${api_port[$s]}" "$(cluster_urls "$s")" \
        "$tmp/api-$s.log" --token-auth-file="$tmp/tokens.csv" \
        --max-requests-inflight=2000 --max-mutating-requests-inflight=2000
    api_pid[$s]=${pids[-1]}
    wait_apiserver_ready "${api_port[$s]}" "${api_pid[$s]}" "$tmp/api-$s.log" -H "Authorization: Bearer tok"
}
alive() { # alive STORE: fails, naming the process, if a member or its API server has exited
    local i
    for i in 0 1 2; do
        kill -0 "${pid[$1$i]}" 2>/dev/null || { echo "member $1$i (pid ${pid[$1$i]}) is gone" >&2; return 1; }
    done
    kill -0 "${api_pid[$1]}" 2>/dev/null || { echo "apiserver on $1 (pid ${api_pid[$1]}) is gone" >&2; return 1; }
}

bench_cluster k8c "$build/bin/k8c-store"
bench_cluster etcd "$etcd_bin"
start_api k8c
start_api etcd
echo "objects=$objects read_seconds=$secs write_seconds=$write_secs levels=\"$levels\" value_bytes=1024"

for c in $levels; do
    if [ "$c" -le 1 ]; then conns=1; elif [ "$c" -le 64 ]; then conns=4; else conns=8; fi
    for s in k8c etcd; do
        alive "$s" || { echo "store=$s clients=$c skipped=process_gone" | tee -a "$tmp/out"; continue; }
        # Each op is bounded by write_secs or secs, plus 40 s of request timeout and drain.
        rc=0
        timeout $((4 * write_secs + 2 * secs + 300)) "$bench" --server="127.0.0.1:${api_port[$s]}" \
            --ca="$tmp/pki/ca.crt" --token=tok --label="$s" --clients="$c" --conns="$conns" \
            --prefix="bench-c$c" --objects="$objects" --count=2000000 --list-count=1000000 \
            --seconds="$secs" --write-seconds="$write_secs" --value-size=1024 \
            --api-pid="${api_pid[$s]}" --store-pids="${pid[${s}0]},${pid[${s}1]},${pid[${s}2]}" \
            >"$tmp/bench.out" 2>"$tmp/bench.err" || rc=$?
        sed "s/^/store=$s /" "$tmp/bench.out" | tee -a "$tmp/out"
        if [ "$rc" != 0 ]; then
            echo "store=$s clients=$c bench_exit=$rc stderr=\"$(tr '\n"' " '" <"$tmp/bench.err")\"" |
                tee -a "$tmp/out"
        fi
    done
done
alive k8c || true
alive etcd || true

/usr/bin/python3 - "$tmp/out" "$levels" <<'PY'
import re, sys
rows = []
for line in open(sys.argv[1]):
    rows.append(dict((k, v.strip('"')) for k, v in re.findall(r'(\w+)=("[^"]*"|\S+)', line)))
levels = sys.argv[2].split()
res = {}
for kv in rows:
    if "op" in kv and "ops_per_sec" in kv:
        res[(kv["store"], kv["op"], kv["clients"])] = kv
def f(store, op, c, field):
    kv = res.get((store, op, c))
    return float(kv[field]) if kv and field in kv else 0.0
print()
print("%-7s %7s | %10s %8s %8s | %10s %8s %8s | %6s %6s %6s" % (
    "op", "clients", "k8c ops/s", "p50 ms", "p99 ms", "etcd ops/s", "p50 ms", "p99 ms",
    "rate", "p50", "p99"))
for op in ("create", "get", "list", "update", "delete"):
    for c in levels:
        k = [f("k8c", op, c, x) for x in ("ops_per_sec", "p50_ms", "p99_ms")]
        e = [f("etcd", op, c, x) for x in ("ops_per_sec", "p50_ms", "p99_ms")]
        ratio = [k[0] / e[0] if e[0] else 0.0, e[1] / k[1] if k[1] else 0.0,
                 e[2] / k[2] if k[2] else 0.0]
        print("%-7s %7s | %10.1f %8.2f %8.2f | %10.1f %8.2f %8.2f | %6.2f %6.2f %6.2f" % (
            op, c, k[0], k[1], k[2], e[0], e[1], e[2], ratio[0], ratio[1], ratio[2]))
print("ratio = k8c-store/etcd: rate k8c/etcd, latencies etcd/k8c; > 1 means k8c-store better")
print()
print("CPU per op, us   | %-26s | %-26s" % ("k8c: api / store / client", "etcd: api / store / client"))
for op in ("create", "get", "list", "update", "delete"):
    for c in levels:
        cells = []
        for s in ("k8c", "etcd"):
            ok = f(s, op, c, "ok")
            per = [f(s, op, c, x) * 1e6 / ok if ok else 0.0
                   for x in ("api_cpu_s", "store_cpu_s", "client_cpu_s")]
            cells.append("%8.0f %8.0f %8.0f" % tuple(per))
        print("%-7s %7s  | %-26s | %-26s" % (op, c, cells[0], cells[1]))
items = ["%s/%s: %s" % (s, c, res[(s, "list", c)].get("items", "?"))
         for c in levels for s in ("k8c", "etcd") if (s, "list", c) in res]
print("items per list: " + ", ".join(items))
bad = []
for kv in rows:
    if "op" in kv and "ops_per_sec" in kv:
        probs = ["%s=%s" % (x, kv[x]) for x in ("non2xx", "timeouts", "failed") if kv.get(x, "0") != "0"]
        if kv.get("stalled"):
            probs.append("stalled")
        if probs:
            bad.append("%s %s c=%s: %s codes=%s first_error=%s" % (
                kv["store"], kv["op"], kv["clients"], " ".join(probs), kv.get("codes", "-"),
                kv.get("first_error", "-")))
    elif "skipped" in kv or "bench_exit" in kv:
        bad.append(" ".join("%s=%s" % x for x in kv.items()))
missing = ["%s %s c=%s" % (s, op, c) for c in levels for s in ("k8c", "etcd")
           for op in ("create", "get", "list", "update", "delete") if (s, op, c) not in res]
if missing:
    bad.append("no result: " + ", ".join(missing))
print("problems: " + ("none" if not bad else ""))
for b in bad:
    print("  " + b)
PY

# Anything alarming the API servers and the store members logged.
for f in api-k8c api-etcd k8c0 k8c1 k8c2 etcd0 etcd1 etcd2; do
    n=$(grep -ciE 'error|panic|abort|assert|fatal|sanitizer' "$tmp/$f.log" || true)
    echo "log=$f alarming_lines=$n total_lines=$(wc -l <"$tmp/$f.log")"
    grep -iE 'error|panic|abort|assert|fatal|sanitizer' "$tmp/$f.log" | head -5 | cut -c1-300 | sed 's/^/  /' || true
done
