#!/usr/bin/env bash
# Maintenance and Cluster services of k8c-store driven by the real etcdctl
# 3.4: endpoint hashkv, snapshot save, defrag, alarms and the NOSPACE quota,
# move-leader, member add / start with --initial-cluster-state existing /
# catch-up / update / remove, and etcd's error messages.
set -euo pipefail
STORE=$1
here=$(dirname "$0")
. "$here/lib.sh"
tmp=$(mktemp -d /tmp/k8c-store-maint.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "${keep:-0}" = 0 ]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT

ctl() { etcdctl --dial-timeout=2s --command-timeout=5s "$@"; }
ep() { echo "127.0.0.1:${cport[$1]}"; }
py() { /usr/bin/python3 -c "$@"; }
wait_healthy() {
    for _ in $(seq 1 100); do
        if ctl --endpoints="$1" endpoint health >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    ctl --endpoints="$1" endpoint health
}
# member_id I: the member id of peer sI in hex, as etcdctl prints it.
member_id() {
    printf '%x' "$(ctl --endpoints="$(ep "$1")" endpoint status -w json |
        py 'import json,sys; print(json.load(sys.stdin)[0]["Status"]["header"]["member_id"])')"
}
# leader_index ENDPOINTS: which peer i the endpoints see as leader.
leader_index() {
    local lead
    lead=$(ctl --endpoints="$1" endpoint status -w json |
        py 'import json,sys; print(sorted({s["Status"]["leader"] for s in json.load(sys.stdin)}))')
    for i in 0 1 2 3; do
        [ -n "${cport[$i]:-}" ] || continue
        if [ "$lead" = "[$(printf '%d' "0x$(member_id "$i")")]" ]; then echo "$i"; return; fi
    done
    echo "leaders seen: $lead" >&2
    return 1
}
# eventually NAME REGEX CMD...: CMD's output matches REGEX within 5 s
# (member list is served from each peer's applied state, as in etcd 3.4).
eventually() {
    local name=$1 re=$2 out=""
    shift 2
    for _ in $(seq 1 50); do
        out=$("$@" 2>&1 || true)
        [[ $out =~ $re ]] && break
        sleep 0.1
    done
    expect_match "$name" "$re" "$out"
}
# hashes ENDPOINTS: the distinct hashkv values (one line when all agree).
hashes() {
    ctl --endpoints="$1" endpoint hashkv -w json |
        py 'import json,sys; print(" ".join(sorted({str(h["HashKV"]["hash"]) for h in json.load(sys.stdin)})))'
}

# --snapshot-count counts requests, as etcd does (not raft entries, which
# carry batches): the burst before member add below takes snapshots.
start_peers --snapshot-count 300
all="$(ep 0),$(ep 1),$(ep 2)"
wait_healthy "$all"

# ---- HashKV: every peer has the same history after the same writes ----
for n in $(seq 1 20); do ctl --endpoints="$all" put "key$n" "value$n" >/dev/null; done
ctl --endpoints="$all" del key7 >/dev/null
for _ in $(seq 1 30); do
    h=$(hashes "$all")
    [ "$(wc -w <<<"$h")" = 1 ] && break
    sleep 0.1
done
expect "hashkv agrees on 3 peers" 1 "$(wc -w <<<"$h")"
expect_match "hashkv is a number" '^[0-9]+$' "$h"
ctl --endpoints="$all" put key1 changed >/dev/null
for _ in $(seq 1 30); do
    h2=$(hashes "$all")
    [ "$(wc -w <<<"$h2")" = 1 ] && break
    sleep 0.1
done
expect "hashkv agrees after another write" 1 "$(wc -w <<<"$h2")"
[ "$h" != "$h2" ] || fail "hashkv did not change after a write ($h)"
echo "ok: hashkv changes with the data"
out=$(ctl --endpoints="$(ep 0)" endpoint hashkv --rev=3)
expect_match "hashkv at a revision" "^$(ep 0), [0-9]+$" "$out"

# ---- Alarm: nothing raised ----
expect "alarm list empty" "" "$(ctl --endpoints="$all" alarm list)"

# ---- Snapshot: an LMDB copy with etcd's trailing sha256 ----
out=$(ctl --endpoints="$(ep 1)" snapshot save "$tmp/snap.db" 2>/dev/null)
expect "snapshot save" "Snapshot saved at $tmp/snap.db" "$out"
expect "snapshot file checks" "lmdb sha256-ok aligned" "$(py '
import hashlib,struct,sys
d=open(sys.argv[1],"rb").read()
body,digest=d[:-32],d[-32:]
magic=struct.unpack_from("<I",body,16)[0]
print("lmdb" if magic==0xBEEFC0DE else "magic=%x"%magic,
      "sha256-ok" if hashlib.sha256(body).digest()==digest else "sha256-bad",
      "aligned" if len(d)%512==32 and len(body)>0 else "size=%d"%len(d))' "$tmp/snap.db")"
# The file is LMDB, not bbolt: etcdctl's offline tools cannot read it.
if ctl snapshot status "$tmp/snap.db" >/dev/null 2>&1; then
    fail "etcdctl snapshot status unexpectedly read an LMDB file"
fi
echo "ok: snapshot status refuses the LMDB file (expected)"

# ---- Defragment: a no-op for LMDB, answered OK ----
out=$(ctl --endpoints="$all" defrag)
expect "defrag" "$(for i in 0 1 2; do echo "Finished defragmenting etcd member[$(ep $i)]"; done)" "$out"

# ---- MoveLeader ----
leader=$(leader_index "$all")
target=$(((leader + 1) % 3))
other=$(((leader + 2) % 3))
lid=$(member_id "$leader")
tid=$(member_id "$target")
out=$(ctl --endpoints="$all" move-leader "$tid")
expect "move-leader" "Leadership transferred from $lid to $tid" "$out"
expect "new leader in endpoint status" "$target" "$(leader_index "$all")"
out=$(ctl --endpoints="$(ep "$other")" move-leader "$lid" 2>&1 || true)
expect_match "move-leader needs the leader's endpoint" 'no leader endpoint given' "$out"
out=$(ctl --endpoints="$all" move-leader 1234abcd 2>&1 || true)
expect_match "move-leader to a non-member" 'etcdserver: bad leader transferee' "$out"
expect "writes after move-leader" OK "$(ctl --endpoints="$all" put after-move yes)"

# ---- Snapshots by request count: 10000 puts in flight at once land in a few
# raft entries, and still every peer takes a snapshot and truncates its log.
out=$(/usr/bin/python3 "$here/failover_client.py" burst "$here/../../../proto" "$tmp/py" \
    "$(ep "$(leader_index "$all")")" 10000 burst/ 2>&1) || fail "burst: $out"
expect "burst of concurrent puts" "burst: 10000 puts ok" "$out"
for i in 0 1 2; do
    snaps=""
    for _ in $(seq 1 50); do
        snaps=$(find "$tmp/s$i" -name 'snapshot-*' -not -name '*.meta' | wc -l)
        [ "$snaps" -gt 0 ] && break
        sleep 0.1
    done
    [ "$snaps" -gt 0 ] || fail "peer s$i took no raft snapshot after 10000 requests (--snapshot-count 300)"
done
echo "ok: every peer took a raft snapshot"

# ---- Cluster: member add, a fourth peer joins and catches up, remove ----
list3=$(ctl --endpoints="$all" member list)
expect "three members" 3 "$(wc -l <<<"$list3")"
cport[3]=$(free_port)
pport[3]=$(free_port)
out=$(ctl --endpoints="$(ep "$other")" member add s3 --peer-urls="http://127.0.0.1:${pport[3]}")
expect_match "member add" "Member +[0-9a-f]+ added to cluster [0-9a-f]+" "$out"
new_id=$(sed -n 's/^Member *\([0-9a-f]*\) added.*/\1/p' <<<"$out")
initial=$(sed -n 's/^ETCD_INITIAL_CLUSTER="\(.*\)"$/\1/p' <<<"$out")
sorted() { tr ',' '\n' <<<"$1" | sort | paste -sd,; }
expect "member add's ETCD_INITIAL_CLUSTER (members in id order)" \
    "$(sorted "$cluster,s3=http://127.0.0.1:${pport[3]}")" "$(sorted "$initial")"
expect_match "member add's state" 'ETCD_INITIAL_CLUSTER_STATE="existing"' "$out"
eventually "new member listed unstarted" "$new_id, unstarted, , http://127.0.0.1:${pport[3]}, , false" \
    ctl --endpoints="$all" member list
out=$(ctl --endpoints="$all" member add dup --peer-urls="http://127.0.0.1:${pport[3]}" 2>&1 || true)
expect_match "duplicate peer URL" 'etcdserver: Peer URLs already exists' "$out"
out=$(ctl --endpoints="$all" member add dup --peer-urls="http://127.0.0.1:${pport[0]}" 2>&1 || true)
expect_match "peer URL of an initial member" 'etcdserver: Peer URLs already exists' "$out"
# --strict-reconfig-check (on by default, as in etcd 3.4): with s3 added but
# not started, a fifth voter still leaves 3 started of 5 (a quorum), a sixth
# would not; removing the unstarted fifth again is fine.
out=$(ctl --endpoints="$all" member add s4 --peer-urls="http://127.0.0.1:$(free_port)")
expect_match "strict reconfig: fifth voter with 3 of 5 started" "Member +[0-9a-f]+ added" "$out"
s4_id=$(grep -oE 'Member +[0-9a-f]+' <<<"$out" | awk '{print $2}')
out=$(ctl --endpoints="$all" member add s5 --peer-urls="http://127.0.0.1:$(free_port)" 2>&1 || true)
expect_match "strict reconfig: sixth voter with 3 of 6 started" \
    'etcdserver: re-configuration failed due to not enough started members' "$out"
out=$(ctl --endpoints="$all" member remove "$s4_id")
expect_match "strict reconfig: remove the unstarted voter" "Member +$s4_id removed" "$out"
for n in $(seq 1 10); do ctl --endpoints="$all" put "joined$n" "$n" >/dev/null; done
cluster="$initial"
store_start 3 --initial-cluster-state existing
got=""
for _ in $(seq 1 100); do
    got=$(ctl --endpoints="$(ep 3)" get joined10 --consistency=s 2>/dev/null || true)
    [ "$got" = "$(printf 'joined10\n10')" ] && break
    sleep 0.1
done
expect "new peer caught up (serializable read)" "$(printf 'joined10\n10')" "$got"
expect "new peer has the old data" "$(printf 'key2\nvalue2')" \
    "$(ctl --endpoints="$(ep 3)" get key2 --consistency=s)"
expect "new peer has the burst" "$(printf 'burst/9999\nvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv')" \
    "$(ctl --endpoints="$(ep 3)" get burst/9999 --consistency=s)"
grep -q "raft snapshot restored" "$tmp/s3.log" ||
    fail "the new peer did not catch up by snapshot (the log was truncated): $(tail -5 "$tmp/s3.log")"
# Raft snapshots are marks; the state itself comes over Maintenance.Snapshot.
grep -q "fetched snapshot target=" "$tmp/s3.log" ||
    fail "the new peer did not fetch the state its snapshot names: $(tail -5 "$tmp/s3.log")"
echo "ok: the new peer caught up by snapshot"
for _ in $(seq 1 50); do
    list=$(ctl --endpoints="$all" member list)
    grep -q "$new_id, started, s3, http://127.0.0.1:${pport[3]}, http://127.0.0.1:${cport[3]}, false" \
        <<<"$list" && break
    sleep 0.1
done
expect_match "new member started with its name and client URL" \
    "$new_id, started, s3, http://127.0.0.1:${pport[3]}, http://127.0.0.1:${cport[3]}, false" "$list"
eventually "member list from the new peer" "^$list\$" ctl --endpoints="$(ep 3)" member list
all4="$all,$(ep 3)"
expect "writes reach the new peer" OK "$(ctl --endpoints="$(ep 3)" put via-s3 yes)"
for _ in $(seq 1 30); do
    h=$(hashes "$all4")
    [ "$(wc -w <<<"$h")" = 1 ] && break
    sleep 0.1
done
expect "hashkv agrees on 4 peers" 1 "$(wc -w <<<"$h")"

out=$(ctl --endpoints="$all" member update "$new_id" \
    --peer-urls="http://127.0.0.1:${pport[3]},http://localhost:${pport[3]}")
expect_match "member update" "Member +$new_id updated in cluster" "$out"
eventually "updated peer URLs listed" \
    "$new_id, started, s3, http://127.0.0.1:${pport[3]},http://localhost:${pport[3]}," \
    ctl --endpoints="$all" member list
out=$(ctl --endpoints="$all" member update "$new_id" --peer-urls="http://127.0.0.1:${pport[1]}" 2>&1 || true)
expect_match "update to a used peer URL" 'etcdserver: Peer URLs already exists' "$out"
out=$(ctl --endpoints="$all" member promote "$new_id" 2>&1 || true)
expect_match "promote a voter" 'etcdserver: can only promote a learner member' "$out"

out=$(ctl --endpoints="$(ep 0)" member remove "$new_id")
expect_match "member remove" "Member +$new_id removed from cluster" "$out"
# The removed member finds out (no leader, another member lists the cluster
# without it) and stops by itself, as etcd's does.
for _ in $(seq 1 150); do
    kill -0 "${pids[3]}" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "${pids[3]}" 2>/dev/null; then
    kill "${pids[3]}"
    fail "the removed member s3 is still running 15 s after its removal: $(tail -3 "$tmp/s3.log")"
fi
wait "${pids[3]}" 2>/dev/null || true
grep -q "the member has been permanently removed from the cluster" "$tmp/s3.log" ||
    fail "the removed member stopped without saying why: $(tail -3 "$tmp/s3.log")"
echo "ok: the removed member stopped by itself"
eventually "member list back to the original three" "^$list3\$" ctl --endpoints="$all" member list
out=$(ctl --endpoints="$all" member remove "$new_id" 2>&1 || true)
expect_match "remove an unknown member" 'etcdserver: member not found' "$out"
out=$(ctl --endpoints="$all" member update 1234 --peer-urls=http://127.0.0.1:1 2>&1 || true)
expect_match "update an unknown member" 'etcdserver: member not found' "$out"
expect "writes after remove" OK "$(ctl --endpoints="$all" put after-remove yes)"

# Learners: added as raft stand-bys; promotion needs the learner in sync.
lport=$(free_port)
out=$(ctl --endpoints="$all" member add learner --learner --peer-urls="http://127.0.0.1:$lport")
expect_match "learner add" "Member +[0-9a-f]+ added to cluster" "$out"
lid=$(sed -n 's/^Member *\([0-9a-f]*\) added.*/\1/p' <<<"$out")
eventually "learner listed" "$lid, unstarted, , http://127.0.0.1:$lport, , true" \
    ctl --endpoints="$all" member list
out=$(ctl --endpoints="$all" member promote "$lid" 2>&1 || true)
expect_match "promote a learner that is not running" \
    'etcdserver: can only promote a learner member which is in sync with leader' "$out"
out=$(ctl --endpoints="$all" member add learner2 --learner --peer-urls="http://127.0.0.1:$(free_port)" 2>&1 || true)
expect_match "one learner at a time" 'etcdserver: too many learner members in cluster' "$out"
expect_match "learner remove" "Member +$lid removed" "$(ctl --endpoints="$all" member remove "$lid")"
eventually "member list without the learner" "^$list3\$" ctl --endpoints="$all" member list

# Graceful stop: every peer exits 0 on SIGTERM.
stop_peers ""
unset 'cport[3]' 'pport[3]'

# ---- Quota: NOSPACE alarm, then compaction and disarm restore writes ----
start_peers --quota-backend-bytes 200000
all="$(ep 0),$(ep 1),$(ep 2)"
wait_healthy "$all"
value=$(head -c 10000 /dev/zero | tr '\0' v)
err=""
for n in $(seq 1 100); do
    if ! err=$(ctl --endpoints="$all" put "big$n" "$value" 2>&1); then break; fi
    err=""
done
expect_match "writes stop at the quota" 'etcdserver: mvcc: database space exceeded' "$err"
eventually "alarm list shows NOSPACE" '^memberID:[0-9]+ alarm:NOSPACE *$' ctl --endpoints="$all" alarm list
alarms=$(ctl --endpoints="$all" alarm list)
eventually "endpoint status reports the alarm as etcd does" "^$(ep 2), [0-9a-f]+, .*, ${alarms% }" \
    ctl --endpoints="$(ep 2)" endpoint status
out=$(ctl --endpoints="$all" put small x 2>&1 || true)
expect_match "small writes fail while the alarm is active" 'database space exceeded' "$out"
expect "reads work while the alarm is active" "$(printf 'big1\n%s' "$value")" \
    "$(ctl --endpoints="$all" get big1)"
ctl --endpoints="$all" del big --prefix >/dev/null
rev=$(ctl --endpoints="$all" get big1 -w json | py 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
expect "compaction" "compacted revision $rev" "$(ctl --endpoints="$all" compaction "$rev")"
out=$(ctl --endpoints="$all" put small x 2>&1 || true)
expect_match "still refused until disarmed" 'database space exceeded' "$out"
ctl --endpoints="$all" defrag >/dev/null
expect "alarm disarm" "$alarms" "$(ctl --endpoints="$all" alarm disarm)"
expect "alarm list empty after disarm" "" "$(ctl --endpoints="$all" alarm list)"
expect "writes work again" OK "$(ctl --endpoints="$all" put small x)"
eventually "endpoint status without errors" "^$(ep 2), [0-9a-f]+, [^,]+, [^,]+, (true|false), false, [0-9]+, [0-9]+, [0-9]+, \$" \
    ctl --endpoints="$(ep 2)" endpoint status

stop_peers "quota cluster "
if grep -l -E 'AddressSanitizer|LeakSanitizer|runtime error' "$tmp"/*.log; then
    fail "sanitizer reports in the peer logs above"
fi
echo "ok: no sanitizer reports"
