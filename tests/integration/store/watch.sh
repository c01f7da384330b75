#!/usr/bin/env bash
# Watch on three k8c-store peers, driven by the real etcdctl (Debian
# etcd-client 3.4): live events on one key and a prefix, --prev-kv, --rev
# history replay that continues live, watches on a follower seeing writes made
# through another peer, progress requests, a burst of writes in order, and
# etcd's error for a watch from a compacted revision. Expected outputs are what
# etcd 3.4 prints for the same commands.
set -euo pipefail
STORE=$1
here=$(dirname "$0")
. "$here/lib.sh"
tmp=$(mktemp -d /tmp/k8c-store-watch.XXXXXX)
pids=()
watchers=()
cleanup() {
    for p in "${watchers[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${watchers[@]}" "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "${keep:-0}" = 0 ]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT

start_peers --v 1
ep() { echo "127.0.0.1:${cport[$1]}"; }
all="$(ep 0),$(ep 1),$(ep 2)"
ctl() { etcdctl --dial-timeout=2s --command-timeout=5s "$@"; }
revision() {
    ctl --endpoints="$all" get nothing-here -w json |
        /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])'
}

for t in $(seq 1 100); do
    if ctl --endpoints="$all" endpoint health >/dev/null 2>&1; then break; fi
    sleep 0.1
done
ctl --endpoints="$all" endpoint health

# Which peer leads: watches on the others are watches on followers.
leader_id=$(ctl --endpoints="$all" endpoint status -w json | /usr/bin/python3 -c '
import json,sys; print(json.load(sys.stdin)[0]["Status"]["leader"])')
followers=()
for i in 0 1 2; do
    id=$(ctl --endpoints="$(ep $i)" endpoint status -w json | /usr/bin/python3 -c '
import json,sys; print(json.load(sys.stdin)[0]["Status"]["header"]["member_id"])')
    if [ "$id" = "$leader_id" ]; then leader=$i; else followers+=("$i"); fi
done
f1=${followers[0]}
f2=${followers[1]}
echo "leader is s$leader, followers s$f1 s$f2"

# start_watch NAME ENDPOINT ARGS...: etcdctl watch in the background, output in $tmp/NAME.
start_watch() {
    local name=$1 endpoint=$2
    shift 2
    etcdctl --endpoints="$endpoint" watch "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    watchers+=($!)
    eval "pid_$name=$!"
}
# wait_lines NAME N: until $tmp/NAME.out has at least N lines (10 s at most).
wait_lines() {
    for t in $(seq 1 100); do
        if [ "$(wc -l <"$tmp/$1.out")" -ge "$2" ]; then return 0; fi
        sleep 0.1
    done
    return 0
}
# watch_streams I: Watch streams peer I has started (its gRPC metrics).
watch_streams() {
    /usr/bin/python3 - "$(ep "$1")" <<'PY'
import sys, urllib.request
text = urllib.request.urlopen("http://%s/metrics" % sys.argv[1], timeout=5).read().decode()
n = 0
for line in text.splitlines():
    if line.startswith("grpc_server_started_total") and 'grpc_method="Watch"' in line:
        n += int(float(line.split()[-1]))
print(n)
PY
}
# wait_streams I N: until peer I has started N Watch streams (10 s at most).
wait_streams() {
    for t in $(seq 1 100); do
        if [ "$(watch_streams "$1")" -ge "$2" ]; then sleep 0.3; return 0; fi
        sleep 0.1
    done
    fail "peer s$1 never got $2 watch streams"
}

# --- live watches on one key, a prefix, with prev_kv; on followers ---------
# Each starts at the next revision (--rev), so its output is exact even if a
# write raced the watch's creation; waiting for the streams makes them live.
r0=$(revision)
start_watch key "$(ep "$f1")" foo --rev=$((r0 + 1))
start_watch prefix "$(ep "$f2")" /p/ --prefix --rev=$((r0 + 1))
start_watch prev "$(ep "$leader")" foo --prev-kv --rev=$((r0 + 1))
wait_streams "$f1" 1
wait_streams "$f2" 1
wait_streams "$leader" 1

ctl --endpoints="$(ep "$leader")" put foo bar1 >/dev/null
ctl --endpoints="$(ep "$f2")" put other zzz >/dev/null
ctl --endpoints="$(ep "$f1")" del foo >/dev/null
ctl --endpoints="$(ep "$f2")" put foo bar2 >/dev/null
ctl --endpoints="$(ep "$leader")" put /p/a 1 >/dev/null
ctl --endpoints="$(ep "$f1")" put /pa notwatched >/dev/null
printf 'value("other") = "zzz"\n\nput /p/x 7\nput /p/y 8\n\n\n' | ctl --endpoints="$all" txn >/dev/null
ctl --endpoints="$(ep "$f2")" del /p/ --prefix >/dev/null

wait_lines key 9
expect "watch foo on follower s$f1" "$(printf 'PUT\nfoo\nbar1\nDELETE\nfoo\n\nPUT\nfoo\nbar2')" \
    "$(cat "$tmp/key.out")"
wait_lines prefix 18
expect "watch --prefix on follower s$f2" \
    "$(printf 'PUT\n/p/a\n1\nPUT\n/p/x\n7\nPUT\n/p/y\n8\nDELETE\n/p/a\n\nDELETE\n/p/x\n\nDELETE\n/p/y\n')" \
    "$(cat "$tmp/prefix.out")"
wait_lines prev 12
expect "watch --prev-kv on the leader" \
    "$(printf 'PUT\nfoo\nbar1\nDELETE\nfoo\nbar1\nfoo\n\nPUT\nfoo\nbar2')" "$(cat "$tmp/prev.out")"

# --- a burst of concurrent writes arrives complete and in order ------------
r0=$(revision)
start_watch burst "$(ep "$f1")" /burst/ --prefix --rev=$((r0 + 1))
wait_streams "$f1" 2
writers=()
for n in $(seq 1 30); do
    ctl --endpoints="$all" put "/burst/k$n" "$n" >/dev/null &
    writers+=($!)
done
for p in "${writers[@]}"; do wait "$p" || fail "a burst put failed"; done
wait_lines burst 90
expect "burst: every event once" 30 "$(grep -c '^PUT$' "$tmp/burst.out")"
expect "burst: every key once" 30 "$(grep '^/burst/k' "$tmp/burst.out" | sort -u | wc -l)"
json=$(ctl --endpoints="$all" get /burst/k --prefix -w json)
# The order of events is the order of mod revisions.
order_ok=$(/usr/bin/python3 -c '
import base64, json, sys
lines = open(sys.argv[2]).read().split("\n")
keys = [lines[i + 1] for i in range(0, len(lines) - 2, 3) if lines[i] == "PUT"]
rev = {base64.b64decode(k["key"]).decode(): k["mod_revision"] for k in json.loads(sys.argv[1])["kvs"]}
revs = [rev[k] for k in keys]
print("yes" if revs == sorted(revs) and len(set(revs)) == len(revs) else "no %s" % revs)' \
    "$json" "$tmp/burst.out")
expect "burst: events in revision order" yes "$order_ok"

# --- a watcher whose client stops reading -----------------------------------
# etcdctl is stopped (SIGSTOP) while ~28 MB of events are written: the peer
# stops queueing for it once its send queue is full (the watcher "falls
# behind"), and after SIGCONT it catches up from history: every event, in
# order, no duplicates.
head -c 500000 /dev/urandom | base64 -w0 >"$tmp/bigval"
r0=$(revision)
n0=$(watch_streams "$f2")
start_watch slow "$(ep "$f2")" /big/ --prefix --rev=$((r0 + 1))
wait_streams "$f2" $((n0 + 1))
kill -STOP "$pid_slow"
for n in $(seq 1 40); do
    { printf 'v%02d-' "$n"; cat "$tmp/bigval"; } | ctl --endpoints="$all" put "/big/k$n" >/dev/null
done
for t in $(seq 1 100); do
    if grep -q 'watcher falls behind' "$tmp/s$f2.log"; then break; fi
    sleep 0.1
done
grep -q 'watcher falls behind' "$tmp/s$f2.log" || fail "the stopped watcher never fell behind"
echo "ok: a watcher that stopped reading fell behind"
kill -CONT "$pid_slow"
wait_lines slow 120
expect "slow watcher: every event once, in order" \
    "$(for n in $(seq 1 40); do printf 'PUT /big/k%d v%02d\n' "$n" "$n"; done)" \
    "$(awk 'NR % 3 == 1 { t = $0 } NR % 3 == 2 { k = $0 } NR % 3 == 0 { print t, k, substr($0, 1, 3) }' "$tmp/slow.out")"
awk 'NR % 3 == 0 { print substr($0, 5) }' "$tmp/slow.out" | sort -u >"$tmp/slow.values"
{ cat "$tmp/bigval"; echo; } >"$tmp/bigval.nl"
cmp -s "$tmp/slow.values" "$tmp/bigval.nl" || fail "slow watcher: values differ"
echo "ok: slow watcher: values intact"

# --- --rev replays history, then continues live -----------------------------
r1=$(revision)
ctl --endpoints="$all" put hist a >/dev/null
ctl --endpoints="$all" put hist b >/dev/null
ctl --endpoints="$all" del hist >/dev/null
start_watch hist "$(ep "$f2")" hist --rev=$((r1 + 1))
wait_lines hist 8
ctl --endpoints="$all" put hist c >/dev/null
wait_lines hist 11
expect "watch --rev replays then goes live" \
    "$(printf 'PUT\nhist\na\nPUT\nhist\nb\nDELETE\nhist\n\nPUT\nhist\nc')" "$(cat "$tmp/hist.out")"
start_watch histprev "$(ep "$f1")" hist --rev=$((r1 + 2)) --prev-kv
wait_lines histprev 13
expect "watch --rev --prev-kv from history" \
    "$(printf 'PUT\nhist\na\nhist\nb\nDELETE\nhist\nb\nhist\n\nPUT\nhist\nc')" "$(cat "$tmp/histprev.out")"

# --- progress: the interactive "progress" command ---------------------------
rnow=$(revision)
out=$( (printf 'watch foo\n'; sleep 0.5; printf 'progress\n'; sleep 1) | timeout 10 etcdctl --endpoints="$(ep "$f1")" watch -i 2>/dev/null || true)
expect "progress notify carries the current revision" "progress notify: $rnow" "$out"

# --- compaction: a watch from before the compact revision -------------------
rnow=$(revision)
expect "compaction" "compacted revision $rnow" "$(ctl --endpoints="$all" compaction "$rnow")"
# Wait until the follower has applied the compaction itself (a serializable
# read at an old revision is answered from its own MVCC).
for _ in $(seq 1 50); do
    if ctl --endpoints="$(ep "$f1")" get foo --rev=2 --consistency=s 2>&1 | grep -q compacted; then break; fi
    sleep 0.1
done
rc=0
out=$(timeout 10 etcdctl --endpoints="$(ep "$f1")" watch foo --rev=2 2>&1) || rc=$?
expect "compacted watch output" \
    "$(printf 'watch was canceled (etcdserver: mvcc: required revision has been compacted)\nError: watch is canceled by the server')" \
    "$out"
expect "compacted watch exit status" 5 "$rc"
# At the compact revision itself the watch is fine (etcd: start < compact fails).
start_watch atcompact "$(ep "$f2")" foo --rev="$rnow"
ctl --endpoints="$all" put foo after-compact >/dev/null
wait_lines atcompact 3
expect "watch from the compact revision" "$(printf 'PUT\nfoo\nafter-compact')" \
    "$(cat "$tmp/atcompact.out")"

# The live watches saw nothing they should not have, and are still running.
for w in key prefix prev burst hist; do
    pid_var="pid_$w"
    kill -0 "${!pid_var}" 2>/dev/null || fail "watch $w exited: $(cat "$tmp/$w.err")"
done
# (follower s1 applies the put on its own time after the leader acknowledged it)
for _ in $(seq 1 50); do
    [ "$(tail -n 3 "$tmp/key.out")" = "$(printf 'PUT\nfoo\nafter-compact')" ] && break
    sleep 0.1
done
expect "watch foo saw the last put" "$(printf 'PUT\nfoo\nafter-compact')" "$(tail -n 3 "$tmp/key.out")"

# Graceful stop with watches open: every peer exits 0 on SIGTERM.
stop_peers "" " with open watches"
