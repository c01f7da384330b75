#!/usr/bin/env bash
# Store benchmark: a 3-member k8c-store cluster against a 3-member etcd 3.4
# cluster (Debian etcd-server, /usr/bin/etcd), both on 127.0.0.1 at the same
# time, driven by the same load generator (bench_store, lib/grpc with the etcd
# protos) against each cluster's raft leader, case by case, alternating
# between the stores, ROUNDS times (best round counts). Cases:
#   put_1      puts from 1 client (1 in flight), 8-byte keys, 256-byte values
#              (etcd's published benchmark), 100,000 distinct keys
#   put_100    the same, 100 clients (in flight) over 10 connections
#   put_1000   the same, 1000 clients over 100 connections
#   get_lin    linearizable get of one key, 100 in flight over 10 connections
#   get_ser    the same, serializable
#   range1000  range over a 1000-key prefix (256-byte values), 4 in flight
#   watch      100 watchers on a prefix, 1000 puts (16 in flight): time until
#              every watcher has every event; latency = put sent -> event seen
#   load       (once, after the rounds) LOAD_KEYS (default 1,000,000) more
#              distinct 8-byte keys with 256-byte values in Txns of 128 puts;
#              memory and data-dir growth per member per million keys
# Also the CPU time the three members used per operation in each case
# (user+system from /proc, including the preload of the get and range cases),
# and the load generator's own CPU time per operation in the timed phase (the
# machine's cores are shared by both).
# Then the resident memory (VmRSS, VmHWM, and RssAnon: VmRSS counts the mapped
# pages of LMDB's and bbolt's files too) of each member and its data-dir size
# (both preallocate: etcd 64 MiB WAL files, libraft its segments).
# Both clusters run with the same heartbeat (100 ms) and election timeout
# (1000 ms), etcd's defaults; everything else is each store's default.
# Prints key=value lines, then a table: ratio > 1 means k8c does better
# (k8c/etcd for throughput, etcd/k8c for latency, memory and disk).
# Builds a release tree in build-bench-store/ unless BUILD_DIR is set.
# Usage: bench/store/run.sh [seconds-per-case]   (default 4; ROUNDS=2, ETCD=/usr/bin/etcd,
#        CASES="put_1000 get_lin ..." runs only those)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$root/tests/integration/common.sh"
build=${BUILD_DIR:-$root/build-bench-store}
secs=${1:-4}
rounds=${ROUNDS:-2}
etcd_bin=${ETCD:-/usr/bin/etcd}
[ -x "$etcd_bin" ] || { echo "no etcd at $etcd_bin (apt-get install etcd-server)" >&2; exit 1; }
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DK8C_SANITIZE=OFF >/dev/null
cmake --build "$build" --target k8c-store bench_store -j2 >/dev/null
bench="$build/bench/bench_store"
tmp=$(mktemp -d /tmp/bench-store.XXXXXX)
pids=()
cleanup() {
    stop_pids
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

endpoints() { echo "127.0.0.1:${cport[${1}0]},127.0.0.1:${cport[${1}1]},127.0.0.1:${cport[${1}2]}"; }
# leader STORE: host:port of the current leader (waits up to 30 s for one).
leader() {
    local out
    for _ in $(seq 1 60); do
        if out=$("$bench" --endpoints="$(endpoints "$1")" --case=leader 2>/dev/null); then
            echo "${out#endpoint=}"
            return 0
        fi
        sleep 0.5
    done
    echo "no leader in the $1 cluster" >&2
    return 1
}
alive() { # alive STORE: fails, naming the member, if one has exited
    local i
    for i in 0 1 2; do
        kill -0 "${pid[$1$i]}" 2>/dev/null || { echo "member $1$i (pid ${pid[$1$i]}) is gone" >&2; return 1; }
    done
}

for s in k8c etcd; do
    bin="$build/bin/k8c-store"
    [ "$s" = etcd ] && bin=$etcd_bin
    start_cluster "$s" "$bin" --initial-cluster-state new --initial-cluster-token "bench-$s" \
        --heartbeat-interval 100 --election-timeout 1000
done
echo "k8c_leader=$(leader k8c) etcd_leader=$(leader etcd) seconds_per_case=$secs rounds=$rounds"

# cpu_ticks STORE: user+system CPU clock ticks used so far by its three members.
cpu_ticks() {
    local i t=0 f
    for i in 0 1 2; do
        f=$(cut -d' ' -f14,15 "/proc/${pid[$1$i]}/stat" 2>/dev/null) || continue
        t=$((t + ${f% *} + ${f#* }))
    done
    echo "$t"
}
hz=$(getconf CLK_TCK)

# run_case NAME ARGS...: the case against each store, appending to $tmp/out.
run_case() {
    local name=$1 s ep line c0 c1
    shift
    for s in k8c etcd; do
        alive "$s" || { echo "case=$name store=$s skipped=member_gone" | tee -a "$tmp/out"; continue; }
        ep=$(leader "$s") || { echo "case=$name store=$s skipped=no_leader" | tee -a "$tmp/out"; continue; }
        c0=$(cpu_ticks "$s")
        line=$(timeout $((secs + 120)) "$bench" --endpoints="$ep" --label="$s" --seconds="$secs" \
            "$@" 2>"$tmp/bench.err") || true
        c1=$(cpu_ticks "$s")
        [ -n "$line" ] || line="case=$name label=$s failed=1 stderr=\"$(tr '\n' ' ' <"$tmp/bench.err")\""
        # bench_store names the case by its --case; the table needs ours.
        line="name=$name store=$s member_cpu_s=$(echo "$c0 $c1 $hz" | awk '{printf "%.2f", ($2-$1)/$3}') ${line}"
        echo "$line" | tee -a "$tmp/out"
    done
}

# want NAME: whether CASES (default: all) names this case.
want() { [ -z "${CASES:-}" ] || [[ " $CASES " == *" $1 "* ]]; }
LOAD_KEYS=${LOAD_KEYS:-1000000}
put="--case=put --key-size=8 --keyspace=100000 --value-size=256 --count=1000000"
for _ in $(seq 1 "$rounds"); do
    want put_1 && run_case put_1 $put --conns=1 --inflight=1
    want put_100 && run_case put_100 $put --conns=10 --inflight=100
    want put_1000 && run_case put_1000 $put --conns=100 --inflight=1000
    want get_lin && run_case get_lin --case=get --conns=10 --inflight=100 --count=10000000
    want get_ser && run_case get_ser --case=get-serializable --conns=10 --inflight=100 --count=10000000
    want range1000 && run_case range1000 --case=range --conns=2 --inflight=4 --count=1000000 --range-keys=1000
    want watch && run_case watch --case=watch --conns=10 --inflight=16 --count=1000 --watchers=100
done

# memory TAG: the members' memory and data-dir sizes, as name=memory lines.
memory() {
    local s i rss hwm anon du_kb
    for s in k8c etcd; do
        for i in 0 1 2; do
            if kill -0 "${pid[$s$i]}" 2>/dev/null; then
                rss=$(awk '/^VmRSS:/ {print $2}' "/proc/${pid[$s$i]}/status")
                hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/${pid[$s$i]}/status")
                anon=$(awk '/^RssAnon:/ {print $2}' "/proc/${pid[$s$i]}/status")
            else
                rss=0 hwm=0 anon=0
            fi
            du_kb=$(du -sk "$tmp/$s$i" | cut -f1)
            echo "name=memory tag=$1 store=$s member=$s$i rss_kb=$rss hwm_kb=$hwm anon_kb=$anon" \
                "data_dir_kb=$du_kb" | tee -a "$tmp/out"
        done
    done
}
memory after_cases
# Memory per million keys: a million more distinct keys (8 bytes, 256-byte
# values) written in Txns of 128 puts, then the growth of each member.
if want load; then
    run_case load --case=load --key-size=8 --value-size=256 --count=$LOAD_KEYS --conns=4 \
        --inflight=16 --seconds=600
    sleep 2
    memory after_load
fi

# Anything alarming the k8c-store members logged (errors, warnings, crashes).
for i in 0 1 2; do
    n=$(grep -ciE 'error|warn|panic|abort|assert|fatal' "$tmp/k8c$i.log" || true)
    echo "k8c_log=k8c$i alarming_lines=$n total_lines=$(wc -l <"$tmp/k8c$i.log")"
    grep -iE 'error|warn|panic|abort|assert|fatal' "$tmp/k8c$i.log" | head -5 | sed 's/^/  /' || true
done
alive k8c || true

/usr/bin/python3 - "$tmp/out" <<'PY'
import re, sys
rows = []
for line in open(sys.argv[1]):
    kv = dict((k, v.strip('"')) for k, v in re.findall(r'(\w+)=("[^"]*"|\S+)', line))
    rows.append(kv)
best = {}
for kv in rows:
    if kv.get("name") == "memory" or "ops_per_sec" not in kv:
        continue
    key = (kv["name"], kv["store"])
    if key not in best or float(kv["ops_per_sec"]) > float(best[key]["ops_per_sec"]):
        best[key] = kv
def get(name, store, field):
    kv = best.get((name, store))
    return float(kv[field]) if kv and field in kv else 0.0
out = []
def row(label, k, e, higher_better, unit):
    if higher_better:
        ratio = k / e if e else 0.0
    else:
        ratio = e / k if k else 0.0
    out.append((label, unit, k, e, ratio))
for name, what in (("put_1", "put, 1 client"), ("put_100", "put, 100 clients"),
                   ("put_1000", "put, 1000 clients"),
                   ("get_lin", "get linearizable, 100 in flight"),
                   ("get_ser", "get serializable, 100 in flight"),
                   ("range1000", "range 1000 keys, 4 in flight"),
                   ("watch", "watch 100x1000 events")):
    if (name, "k8c") not in best and (name, "etcd") not in best:
        continue
    row(what, get(name, "k8c", "ops_per_sec"), get(name, "etcd", "ops_per_sec"), True,
        "events/s" if name == "watch" else "ops/s")
    if name.startswith("put_"):
        row("  p50", get(name, "k8c", "p50_ms"), get(name, "etcd", "p50_ms"), False, "ms")
    row("  p99", get(name, "k8c", "p99_ms"), get(name, "etcd", "p99_ms"), False, "ms")
    def cpu(store, field):
        ops = get(name, store, "ops")
        return get(name, store, field) * 1e6 / ops if ops else 0.0
    row("  members' CPU per op", cpu("k8c", "member_cpu_s"), cpu("etcd", "member_cpu_s"),
        False, "us")
    row("  load generator's CPU per op", cpu("k8c", "client_cpu_s"),
        cpu("etcd", "client_cpu_s"), False, "us")
def memsum(tag):
    mem = {"k8c": [0, 0, 0, 0], "etcd": [0, 0, 0, 0]}
    for kv in rows:
        if kv.get("name") == "memory" and kv.get("tag") == tag:
            m = mem[kv["store"]]
            m[0] += int(kv["rss_kb"]); m[1] += int(kv["hwm_kb"]); m[2] += int(kv["data_dir_kb"])
            m[3] += int(kv["anon_kb"])
    return mem
mem = memsum("after_cases")
row("RSS, 3 members", mem["k8c"][0] / 1024, mem["etcd"][0] / 1024, False, "MiB")
row("  of it anonymous (not mmap)", mem["k8c"][3] / 1024, mem["etcd"][3] / 1024, False, "MiB")
row("peak RSS, 3 members", mem["k8c"][1] / 1024, mem["etcd"][1] / 1024, False, "MiB")
row("data dirs, 3 members", mem["k8c"][2] / 1024, mem["etcd"][2] / 1024, False, "MiB")
loaded = memsum("after_load")
keys = float(next((kv["ops"] for kv in rows if kv.get("case") == "load"), 0)) * 128 / 1e6
if keys > 0 and loaded["k8c"][0] > 0:
    # per member and per million keys written (both stores got the same keys)
    def per(store, i):
        return (loaded[store][i] - mem[store][i]) / 1024 / 3 / keys
    row("load: Txns of 128 puts", get("load", "k8c", "ops_per_sec"),
        get("load", "etcd", "ops_per_sec"), True, "txn/s")
    row("RSS growth per member per 1M keys", per("k8c", 0), per("etcd", 0), False, "MiB")
    row("  of it anonymous", per("k8c", 3), per("etcd", 3), False, "MiB")
    row("data dir growth per member per 1M", per("k8c", 2), per("etcd", 2), False, "MiB")
errs = {(kv["name"], kv["store"]): kv.get("errors", "?") for kv in best.values()}
print()
print("%-34s %-8s %12s %12s %8s" % ("case (best round)", "unit", "k8c-store", "etcd 3.4", "ratio"))
for label, unit, k, e, ratio in out:
    print("%-34s %-8s %12.3f %12.3f %8.2f" % (label, unit, k, e, ratio))
print("ratio > 1: k8c better (k8c/etcd for rates, etcd/k8c for latency, memory, disk)")
bad = ["%s/%s errors=%s" % (n, s, v) for (n, s), v in sorted(errs.items()) if v not in ("0",)]
bad += ["%s/%s %s" % (kv["name"], kv["store"], k) for kv in rows
        for k in ("stalled", "failed", "skipped") if k in kv]
if bad:
    print("problems: " + "; ".join(bad))
PY
