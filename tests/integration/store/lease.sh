#!/usr/bin/env bash
# Leases on three k8c-store peers, driven by the real etcdctl: grant, attach,
# timetolive, list, keep-alive (once and streaming, through followers too),
# revoke, expiry decided by the leader and replicated to every peer, etcd's
# errors, and lease timers taken over by a new leader after failover.
set -euo pipefail
STORE=$1
here=$(dirname "$0")
. "$here/lib.sh"
tmp=$(mktemp -d /tmp/k8c-store-lease.XXXXXX)
pids=()
kapid=
cleanup() {
    if [ -n "$kapid" ]; then kill "$kapid" 2>/dev/null || true; fi
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "${keep:-0}" = 0 ]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT

store_ports
start() { store_start "$1"; }
for i in 0 1 2; do start $i; done
ep() { echo "127.0.0.1:${cport[$1]}"; }
all="$(ep 0),$(ep 1),$(ep 2)"
ctl() { etcdctl --dial-timeout=2s --command-timeout=5s "$@"; }

for t in $(seq 1 100); do
    if ctl --endpoints="$all" endpoint health >/dev/null 2>&1; then break; fi
    sleep 0.1
done
ctl --endpoints="$all" endpoint health

# leader_index ENDPOINTS...: index of the peer that reports itself as leader.
leader_index() {
    local i id lid
    for i in "$@"; do
        read -r id lid < <(ctl --endpoints="$(ep "$i")" endpoint status -w json 2>/dev/null |
            /usr/bin/python3 -c '
import json,sys
s=json.load(sys.stdin)[0]["Status"]; print(s["header"]["member_id"], s.get("leader", 0))  # no leader: the field is left out' || true)
        if [ -n "${id:-}" ] && [ "$id" = "${lid:-}" ]; then
            echo "$i"
            return
        fi
    done
    echo -1
}
# wait_gone NAME KEY ENDPOINT SECONDS: the key disappears (serializable reads).
wait_gone() {
    local t out
    for t in $(seq 1 $(($4 * 10))); do
        out=$(ctl --endpoints="$3" get "$2" --consistency=s)
        if [ -z "$out" ]; then
            echo "ok: $1 (after ~$((t / 10)).$((t % 10))s)"
            return
        fi
        sleep 0.1
    done
    fail "$1: key $2 still present on $3 after $4 s"
}
lease_id() { sed -n 's/^lease \([0-9a-f]*\) granted with TTL.*/\1/p'; }

leader=$(leader_index 0 1 2)
[ "$leader" -ge 0 ] || fail "no leader"
follower=$(((leader + 1) % 3))
echo "leader is s$leader, using follower s$follower"
L=$(ep $leader)
F=$(ep $follower)

# Grant on a follower: the leader picks the ID.
out=$(ctl --endpoints="$F" lease grant 10)
expect_match "grant via follower" '^lease [0-9a-f]{16} granted with TTL\(10s\)$' "$out"
id=$(echo "$out" | lease_id)
expect "put with lease via follower" OK "$(ctl --endpoints="$F" put --lease="$id" k1 v1)"
expect "put with lease via leader" OK "$(ctl --endpoints="$L" put --lease="$id" k2 v2)"
lease_field=$(ctl --endpoints="$F" get k1 -w json | /usr/bin/python3 -c '
import json,sys; print("%x" % json.load(sys.stdin)["kvs"][0]["lease"])')
expect "key carries the lease" "$((16#$id))" "$((16#$lease_field))"

for e in "$L" "$F"; do
    out=$(ctl --endpoints="$e" lease timetolive "$id" --keys)
    expect_match "timetolive with keys on $e" \
        "^lease $id granted with TTL\(10s\), remaining\((9|10)s\), attached keys\(\[k1 k2\]\)$" "$out"
done
out=$(ctl --endpoints="$F" lease timetolive "$id")
expect_match "timetolive without keys" "^lease $id granted with TTL\(10s\), remaining\([0-9]+s\)$" \
    "$out"
expect "lease list" "$(printf 'found 1 leases\n%s' "$id")" "$(ctl --endpoints="$F" lease list)"

# Minimum TTL: 1.5 x election timeout (500 ms) rounded up = 1 s.
out=$(ctl --endpoints="$all" lease grant 0)
expect_match "TTL raised to the minimum" '^lease [0-9a-f]{16} granted with TTL\(1s\)$' "$out"
id0=$(echo "$out" | lease_id)

# Keep-alive once, on the leader and through a follower.
for e in "$L" "$F"; do
    expect "keep-alive once on $e" "lease $id keepalived with TTL(10)" \
        "$(ctl --endpoints="$e" lease keep-alive --once "$id")"
done
out=$(ctl --endpoints="$F" lease keep-alive --once 1234 2>&1 || true)
expect_match "keep-alive of an unknown lease" 'etcdserver: requested lease not found' "$out"

# Errors.
out=$(ctl --endpoints="$F" lease revoke 1234 2>&1 || true)
expect_match "revoke of an unknown lease" 'etcdserver: requested lease not found' "$out"
out=$(ctl --endpoints="$F" put --lease=1234 k3 v3 2>&1 || true)
expect_match "put with an unknown lease" 'etcdserver: requested lease not found' "$out"
expect "unknown lease timetolive" "lease 0000000000001234 already expired" \
    "$(ctl --endpoints="$F" lease timetolive 1234)"

# Revoke: the attached keys go at once, on every peer.
rev_before=$(ctl --endpoints="$L" get k1 -w json | /usr/bin/python3 -c '
import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
expect "revoke" "lease $id revoked" "$(ctl --endpoints="$F" lease revoke "$id")"
expect "revoked keys gone" "" "$(ctl --endpoints="$L" get k --prefix)"
rev_after=$(ctl --endpoints="$L" get k1 -w json | /usr/bin/python3 -c '
import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
expect "both keys deleted in one revision" "$((rev_before + 1))" "$rev_after"
for i in 0 1 2; do wait_gone "revoked key gone on s$i" k2 "$(ep $i)" 5; done
expect "revoked lease timetolive" "lease $id already expired" \
    "$(ctl --endpoints="$F" lease timetolive "$id")"

# Expiry: a 2 s lease and its key disappear on every peer within a bound.
out=$(ctl --endpoints="$F" lease grant 2)
id2=$(echo "$out" | lease_id)
ctl --endpoints="$F" put --lease="$id2" short v >/dev/null
expect "short key present" "$(printf 'short\nv')" "$(ctl --endpoints="$L" get short)"
for i in 0 1 2; do wait_gone "expired key gone on s$i" short "$(ep $i)" 8; done
expect "expired lease timetolive" "lease $id2 already expired" \
    "$(ctl --endpoints="$L" lease timetolive "$id2")"
expect "1 s lease expired too" "lease $id0 already expired" \
    "$(ctl --endpoints="$L" lease timetolive "$id0")"
expect "expired leases not listed" "found 0 leases" "$(ctl --endpoints="$L" lease list)"
out=$(ctl --endpoints="$L" lease keep-alive --once "$id0" 2>&1 || true)
expect_match "keep-alive of an expired lease" 'etcdserver: requested lease not found' "$out"

# Streaming keep-alive through a follower keeps a 2 s lease alive for 5 s.
out=$(ctl --endpoints="$F" lease grant 2)
id3=$(echo "$out" | lease_id)
ctl --endpoints="$F" put --lease="$id3" kept v >/dev/null
etcdctl --endpoints="$F" lease keep-alive "$id3" >"$tmp/keepalive.out" 2>&1 &
kapid=$!
sleep 5
expect "kept-alive key still present" "$(printf 'kept\nv')" "$(ctl --endpoints="$L" get kept)"
kill "$kapid"
wait "$kapid" 2>/dev/null || true
kapid=
expect_match "keep-alive stream answered repeatedly" \
    "lease $id3 keepalived with TTL\(2\)"$'\n'"lease $id3 keepalived with TTL\(2\)" \
    "$(cat "$tmp/keepalive.out")"
wait_gone "key expires once keep-alive stops" kept "$L" 8

# Failover: the new leader takes over the lease timers.
out=$(ctl --endpoints="$all" lease grant 30)
idlong=$(echo "$out" | lease_id)
out=$(ctl --endpoints="$all" lease grant 3)
idshort=$(echo "$out" | lease_id)
ctl --endpoints="$all" put --lease="$idlong" long v >/dev/null
ctl --endpoints="$all" put --lease="$idshort" soon v >/dev/null
kill -9 "${pids[$leader]}"
wait "${pids[$leader]}" 2>/dev/null || true
others=()
for i in 0 1 2; do [ "$i" != "$leader" ] && others+=("$i"); done
newleader=-1
for t in $(seq 1 50); do
    newleader=$(leader_index "${others[@]}")
    [ "$newleader" -ge 0 ] && break
    sleep 0.1
done
[ "$newleader" -ge 0 ] || fail "no new leader after killing s$leader"
echo "ok: new leader s$newleader"
rest="$(ep "${others[0]}"),$(ep "${others[1]}")"
out=$(ctl --endpoints="$rest" lease timetolive "$idlong" --keys)
expect_match "new leader knows the lease" \
    "^lease $idlong granted with TTL\(30s\), remaining\([0-9]+s\), attached keys\(\[long\]\)$" "$out"
expect "keep-alive on the new leader" "lease $idlong keepalived with TTL(30)" \
    "$(ctl --endpoints="$rest" lease keep-alive --once "$idlong")"
for i in "${others[@]}"; do wait_gone "short lease expired by the new leader on s$i" soon "$(ep $i)" 10; done
expect "revoke on the new leader" "lease $idlong revoked" \
    "$(ctl --endpoints="$rest" lease revoke "$idlong")"
expect "revoked key gone after failover" "" "$(ctl --endpoints="$rest" get long)"

# The old leader rejoins and catches up with the deletions.
start "$leader"
wait_gone "rejoined peer has the expiry" soon "$(ep $leader)" 10
wait_gone "rejoined peer has the revoke" long "$(ep $leader)" 10

stop_peers
