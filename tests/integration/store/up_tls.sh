#!/usr/bin/env bash
# `k8c up` as a user runs it: PKI, three TLS store peers with client
# certificate authentication, status, etcdctl over TLS, down --purge.
set -euo pipefail
K8C=$1
here=$(dirname "$0")
. "$here/lib.sh"
state=$(mktemp -d /tmp/k8c-up-test.XXXXXX)
export K8C_STATE_DIR=$state
# kubectl's config and cache stay in the test's folder; a context the user
# already had must survive the merge.
export HOME=$state/home KUBECONFIG=$state/home/.kube/config
mkdir -p "$HOME/.kube"
cat > "$KUBECONFIG" <<'KC'
apiVersion: v1
kind: Config
clusters:
- cluster: {server: "https://198.18.0.1:6443"}
  name: other
contexts:
- context: {cluster: other, user: other}
  name: other
current-context: other
users:
- name: other
  user: {token: x}
KC
cleanup() {
    "$K8C" down --purge >/dev/null 2>&1 || true
    [ "${keep:-0}" = 1 ] || rm -rf "$state"
}
trap cleanup EXIT

# Fixed default ports: skip cleanly if another cluster holds them.
for port in 32379 32380 32381 32390 32391 32392 6443 6444; do
    if (echo >/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
        fail "port $port is in use; stop the other local cluster first"
    fi
done
"$K8C" up
out=$("$K8C" status) || fail "status after up: $out"
echo "$out"
expect "every store healthy, every API server ready (GET /readyz)" 5 \
    "$(echo "$out" | grep -cE '^(store[0-2] .*healthy|apiserver2? .*ready)$')"
pki=$state/pki
ctl() {
    etcdctl --endpoints=https://127.0.0.1:32379,https://127.0.0.1:32380,https://127.0.0.1:32381 \
        --cacert="$pki/ca.crt" --cert="$pki/admin.crt" --key="$pki/admin.key" \
        --dial-timeout=2s --command-timeout=5s "$@"
}
for t in $(seq 1 100); do
    if ctl endpoint health >/dev/null 2>&1; then break; fi
    sleep 0.1
done
expect "put over TLS" OK "$(ctl put hello world)"
# The API servers run on the store; k8c up merged a k8c context into
# $KUBECONFIG, keeping the entries that were there.
expect "kubectl through k8c up" "default kube-node-lease kube-public kube-system" \
    "$(kubectl get ns -o jsonpath='{.items[*].metadata.name}')"
expect "other kubeconfig entries kept" "other k8c-2 k8c" "$(kubectl config get-contexts -o name | sort -r | tr '\n' ' ' | sed 's/ $//')"
expect "current context" "k8c" "$(kubectl config current-context)"
expect "second API server on the same store (context k8c-2)" "default https://127.0.0.1:6444" \
    "$(kubectl --context k8c-2 get ns default -o jsonpath='{.metadata.name}') $(kubectl config view -o jsonpath='{.clusters[?(@.name=="k8c-2")].cluster.server}')"
expect "get over TLS" "$(printf 'hello\nworld')" "$(ctl get hello)"
expect "members over TLS" 3 "$(ctl member list | wc -l)"
# Without a client certificate the store refuses the connection.
out=$(etcdctl --endpoints=https://127.0.0.1:32379 --cacert="$pki/ca.crt" \
    --dial-timeout=2s --command-timeout=3s get hello 2>&1 || true)
if [ "$out" = "$(printf 'hello\nworld')" ]; then fail "served a client without a certificate"; fi
echo "ok: client without certificate refused"
"$K8C" down
out=$("$K8C" status || true)
expect_match "status after down" 'store0 +- .*stopped' "$out"
"$K8C" up >/dev/null
expect "data kept across down/up" "$(printf 'hello\nworld')" "$(ctl get hello)"
"$K8C" down --purge
[ ! -e "$state" ] || fail "down --purge left $state"
