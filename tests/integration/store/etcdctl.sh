#!/usr/bin/env bash
# Three k8c-store peers on loopback, driven by the real etcdctl: KV, txn,
# revisions, compaction, member list, status, health, forwarding from
# followers, bad input, and failover of the leader.
set -euo pipefail
STORE=$1
here=$(dirname "$0")
. "$here/lib.sh"
tmp=$(mktemp -d /tmp/k8c-store-test.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    if [ "${keep:-0}" = 0 ]; then rm -rf "$tmp"; fi
}
trap cleanup EXIT

store_ports
start() { store_start "$1" --max-request-bytes 65536; }
for i in 0 1 2; do start $i; done
ep() { echo "127.0.0.1:${cport[$1]}"; }
all="$(ep 0),$(ep 1),$(ep 2)"
ctl() { etcdctl --dial-timeout=2s --command-timeout=5s "$@"; }

# Wait for a leader: every endpoint reports healthy.
for t in $(seq 1 100); do
    if ctl --endpoints="$all" endpoint health >/dev/null 2>&1; then break; fi
    sleep 0.1
done
ctl --endpoints="$all" endpoint health

# Writes and reads through every endpoint (followers forward to the leader).
for i in 0 1 2; do
    expect "put via s$i" OK "$(ctl --endpoints="$(ep $i)" put foo "v$i")"
    expect "get via s$i" "$(printf 'foo\nv%s' $i)" "$(ctl --endpoints="$(ep $i)" get foo)"
done
json=$(ctl --endpoints="$(ep 1)" get foo -w json)
expect_match "json revision fields" '"create_revision":[0-9]+,"mod_revision":[0-9]+,"version":3' "$json"
expect "serializable get" "$(printf 'foo\nv2')" "$(ctl --endpoints="$(ep 2)" get foo --consistency=s)"
# Read your writes on every member, as etcd: a put answered by a follower
# (forwarded to the leader) is applied there before the answer, so a
# serializable read on the same member right after sees it.
ryw=$(/usr/bin/python3 - "$(ep 0)" "$(ep 1)" "$(ep 2)" <<'PY'
import sys, grpc
def varint(b, i):
    v = s = 0
    while True:
        c = b[i]; i += 1; v |= (c & 0x7f) << s; s += 7
        if c < 0x80: return v, i
def fields(b):
    i = 0
    while i < len(b):
        k, i = varint(b, i)
        if k & 7 == 0:
            v, i = varint(b, i)
        elif k & 7 == 2:
            n, i = varint(b, i); v = b[i:i + n]; i += n
        else:
            raise ValueError("wire type %d" % (k & 7))
        yield k >> 3, v
def header_rev(resp):
    for f, v in fields(resp):
        if f == 1:
            return dict(fields(v)).get(3, 0)
    return 0
def ld(f, b): return bytes([f << 3 | 2, len(b)]) + b
bad = 0
for ep in sys.argv[1:]:
    ch = grpc.insecure_channel(ep)
    put = ch.unary_unary("/etcdserverpb.KV/Put")
    rng = ch.unary_unary("/etcdserverpb.KV/Range")
    for i in range(40):
        key = b"ryw-" + ep.encode()
        rev = header_rev(put(ld(1, key) + ld(2, b"v%d" % i), timeout=5))
        got = rng(ld(1, key) + bytes([7 << 3, 1]), timeout=5)  # serializable
        kvs = [dict(fields(v)) for f, v in fields(got) if f == 2]
        if not kvs or kvs[0].get(3, 0) < rev:
            bad += 1
print("stale=%d" % bad)
PY
)
expect "serializable read after a write on the same member" "stale=0" "$ryw"
# Write responses carry the answering (leader) member's ids and term, as etcd's do.
hdr=$(ctl --endpoints="$all" put hdr v -w json | /usr/bin/python3 -c '
import json,sys
h=json.load(sys.stdin)["header"]
print(all(h.get(f, 0) > 0 for f in ("cluster_id", "member_id", "revision", "raft_term")))')
expect "put response header has cluster_id, member_id, revision, raft_term" True "$hdr"
hdr=$(printf '\nput t1 a\n\n\n' | ctl --endpoints="$all" txn -w json | /usr/bin/python3 -c '
import json,sys
h=json.load(sys.stdin)["header"]
print(all(h.get(f, 0) > 0 for f in ("cluster_id", "member_id", "revision", "raft_term")))')
expect "txn response header has cluster_id, member_id, revision, raft_term" True "$hdr"
# The internal ReadIndex method (leader -> followers) refuses malformed and
# foreign requests and the peer keeps serving.
out=$(/usr/bin/python3 - "$(ep 1)" <<'PY'
import sys, grpc
ch = grpc.insecure_channel(sys.argv[1])
call = ch.unary_unary("/k8c.store.Internal/ReadIndex")
for payload in (b"", b"abc", b"\xff" * 17, b"\x07" * 16):
    try:
        call(payload, timeout=5)
        print("accepted")
    except grpc.RpcError as e:
        print(e.code().name)
PY
)
expect "ReadIndex with bad payloads" "$(printf 'INVALID_ARGUMENT\nINVALID_ARGUMENT\nINVALID_ARGUMENT\nFAILED_PRECONDITION')" "$out"
expect "peer still serves after them" "$(printf 'foo\nv2')" "$(ctl --endpoints="$(ep 1)" get foo)"

# Txn: compare on value, success and failure branches.
out=$(printf 'value("foo") = "v2"\n\nput foo txn-ok\n\nput foo txn-bad\n\n' | ctl --endpoints="$all" txn)
expect "txn success branch" "$(printf 'SUCCESS\n\nOK')" "$out"
out=$(printf 'value("foo") = "nope"\n\nput foo x\n\nput other y\n\n' | ctl --endpoints="$all" txn)
expect "txn failure branch" "$(printf 'FAILURE\n\nOK')" "$out"
expect "txn result" "$(printf 'other\ny')" "$(ctl --endpoints="$all" get other)"

# Prefix ranges, revisions, delete.
ctl --endpoints="$all" put /registry/pods/a 1 >/dev/null
ctl --endpoints="$all" put /registry/pods/b 2 >/dev/null
ctl --endpoints="$all" put /registry/svc/c 3 >/dev/null
expect "prefix keys" "$(printf '/registry/pods/a\n/registry/pods/b')" \
    "$(ctl --endpoints="$all" get /registry/pods/ --prefix --keys-only | sed '/^$/d')"
expect "count in range response" '2' "$(ctl --endpoints="$all" get /registry/pods/ --prefix -w json |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')"
rev=$(ctl --endpoints="$all" get foo -w json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
expect "delete prefix" 2 "$(ctl --endpoints="$all" del /registry/pods/ --prefix)"
expect "read at old revision" "$(printf '/registry/pods/a\n1')" \
    "$(ctl --endpoints="$all" get /registry/pods/a --rev="$rev")"

# Compaction: old revisions are gone with etcd's error; current data stays.
expect "compaction" "compacted revision $rev" "$(ctl --endpoints="$all" compaction "$rev")"
out=$(ctl --endpoints="$all" get foo --rev=2 2>&1 || true)
expect_match "compacted read error" 'etcdserver: mvcc: required revision has been compacted' "$out"
expect "data after compaction" "$(printf 'foo\ntxn-ok')" "$(ctl --endpoints="$all" get foo)"

# Cluster and maintenance.
members=$(ctl --endpoints="$all" member list)
expect "member count" 3 "$(echo "$members" | wc -l)"
expect_match "member names" 's0.*http://127.0.0.1' "$members"
status=$(ctl --endpoints="$all" endpoint status -w json)
expect "one leader" 1 "$(echo "$status" | /usr/bin/python3 -c '
import json,sys
st=json.load(sys.stdin)
print(len({s["Status"]["leader"] for s in st}))')"

# Bad input: an oversized request and an empty key get etcd's errors.
big=$(head -c 70000 /dev/zero | tr '\0' x)
out=$(ctl --endpoints="$all" put big "$big" 2>&1 || true)
expect_match "request too large" 'etcdserver: request is too large' "$out"
out=$(ctl --endpoints="$all" put "" x 2>&1 || true)
expect_match "empty key" 'key is not provided' "$out"
expect "still serving" OK "$(ctl --endpoints="$all" put after-bad ok)"

# Failover: kill the leader; a new leader takes writes; the old one rejoins.
leader_id=$(ctl --endpoints="$all" endpoint status -w json | /usr/bin/python3 -c '
import json,sys
st=json.load(sys.stdin); print(st[0]["Status"]["leader"])')
for i in 0 1 2; do
    id=$(ctl --endpoints="$(ep $i)" endpoint status -w json | /usr/bin/python3 -c '
import json,sys; print(json.load(sys.stdin)[0]["Status"]["header"]["member_id"])')
    if [ "$id" = "$leader_id" ]; then leader=$i; fi
done
echo "leader is s$leader"
kill -9 "${pids[$leader]}"
wait "${pids[$leader]}" 2>/dev/null || true
others=()
for i in 0 1 2; do [ "$i" != "$leader" ] && others+=("$(ep $i)"); done
rest=$(IFS=,; echo "${others[*]}")
ok=0
for t in $(seq 1 50); do
    if ctl --endpoints="$rest" put after-failover yes >/dev/null 2>&1; then ok=1; break; fi
    sleep 0.1
done
[ $ok = 1 ] || fail "no new leader took writes after killing s$leader"
echo "ok: new leader took writes"
for n in $(seq 1 20); do ctl --endpoints="$rest" put "k$n" "$n" >/dev/null; done
start "$leader"
for t in $(seq 1 100); do
    out=$(ctl --endpoints="$(ep $leader)" get k20 --consistency=s 2>/dev/null || true)
    if [ "$out" = "$(printf 'k20\n20')" ]; then break; fi
    sleep 0.1
done
expect "restarted peer caught up" "$(printf 'k20\n20')" "$out"
expect "acknowledged write kept" "$(printf 'after-failover\nyes')" \
    "$(ctl --endpoints="$(ep $leader)" get after-failover)"

# etcd's server and mvcc gauges on /metrics, as its dashboards read them:
# every member has the leader, exactly one is it, and what each reports
# matches its endpoint status. Leader changes: each member saw one at least,
# and the two that lived through the failover above saw two.
got=$(/usr/bin/python3 - "$(ep 0)" "$(ep 1)" "$(ep 2)" <<'PY'
import json, subprocess, sys, urllib.request
names = ("etcd_server_has_leader", "etcd_server_is_leader", "etcd_server_proposals_committed_total",
         "etcd_server_proposals_applied_total", "etcd_mvcc_db_total_size_in_bytes",
         "etcd_mvcc_db_total_size_in_use_in_bytes", "etcd_server_quota_backend_bytes",
         "etcd_debugging_mvcc_current_revision", "etcd_server_leader_changes_seen_total")
leaders, bad, changes = 0, [], []
for ep in sys.argv[1:]:
    text = urllib.request.urlopen("http://%s/metrics" % ep, timeout=5).read().decode()
    m = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            m[k] = float(v)
    if any(n not in m for n in names) or "# TYPE etcd_server_has_leader gauge" not in text or \
            "# TYPE etcd_server_leader_changes_seen_total counter" not in text:
        bad.append("%s lacks some: %s" % (ep, [n for n in names if n not in m]))
        continue
    st = json.loads(subprocess.run(["etcdctl", "--endpoints=" + ep, "endpoint", "status", "-w", "json"],
                                   capture_output=True, text=True, check=True).stdout)[0]["Status"]
    leaders += m["etcd_server_is_leader"] == 1
    changes.append(int(m["etcd_server_leader_changes_seen_total"]))
    if m["etcd_server_has_leader"] != 1 or m["etcd_server_quota_backend_bytes"] != 2 ** 31 or \
            not 0 < m["etcd_server_proposals_applied_total"] <= m["etcd_server_proposals_committed_total"] or \
            not 0 < m["etcd_mvcc_db_total_size_in_use_in_bytes"] <= m["etcd_mvcc_db_total_size_in_bytes"] or \
            m["etcd_debugging_mvcc_current_revision"] < st["header"]["revision"]:
        bad.append("%s: %s / status %s" % (ep, {n: m[n] for n in names}, st))
if len(changes) == 3 and (min(changes) < 1 or sorted(changes)[1] < 2):
    bad.append("leader changes seen %s" % changes)
print("ok" if not bad and leaders == 1 else "leaders=%d %s" % (leaders, bad))
PY
)
expect "etcd gauges on /metrics" ok "$got"

# Graceful stop: every peer exits 0 on SIGTERM.
stop_peers
