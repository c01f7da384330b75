#!/usr/bin/env bash
# The OpenAPI documents of apiserver/openapi against the real kubectl 1.32: a mock server
# (mock_server.py) serves them with legacy discovery, and kubectl must explain fields from them,
# skip client-side validation for create/apply (the PATCH operations carry fieldValidation), and
# compute strategic merge patches for apply from its compiled-in types (apply reads /openapi/v2
# for the patch type, and its PATCH operations consume */*, so kubectl builds no patch from the
# v2 schemas), and read /openapi/v2 (protobuf) where kubectl needs it: explain
# --output=plaintext-openapiv2, kinds no v3 document has.
# Usage: run.sh DUMP_BIN PYTHON3   (DUMP_BIN: test_api_openapi, run with --dump DIR)
# Exits 77 (skipped) when no kubectl 1.32 is installed.
set -euo pipefail
dump_bin=$1 py=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common.sh"

kubectl=
for k in /usr/lib/google-cloud-sdk/bin/kubectl.1.32 "$(command -v kubectl.1.32 || true)"; do
    if [ -n "$k" ] && [ -x "$k" ]; then kubectl=$k; break; fi
done
if [ -z "$kubectl" ]; then
    echo "SKIP: no kubectl 1.32"
    exit 77
fi

tmp=$(mktemp -d /tmp/k8c-openapi-test.XXXXXX)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/dump" "$tmp/home"
"$dump_bin" --dump "$tmp/dump" || fail "dump failed"
port=$(free_port)
"$py" "$here/mock_server.py" "$tmp/dump" "$port" >"$tmp/server.log" 2>&1 &
pid=$!
wait_listen "$port" || { cat "$tmp/server.log"; exit 1; }

export HOME=$tmp/home KUBECONFIG=/dev/null
k() { timeout 60 "$kubectl" --server "http://127.0.0.1:$port" --cache-dir "$tmp/cache" "$@"; }
log=$tmp/dump/requests.log

out=$(k explain pods.spec.containers 2>&1) || fail "explain pods.spec.containers: $out"
expect_match "explain: containers is a list of Container" 'FIELD: containers <\[\]Container>' "$out"
expect_match "explain: name is a required string" 'name[[:space:]]+<string> -required-' "$out"
expect_match "explain: image is a string" 'image[[:space:]]+<string>' "$out"
expect_match "explain: ports is a list" 'ports[[:space:]]+<\[\]ContainerPort>' "$out"
expect_match "explain: our description" 'The container image to run' "$out"
out=$(k explain svc.spec.ports.targetPort 2>&1) || fail "explain targetPort: $out"
expect_match "explain: targetPort is IntOrString" 'FIELD: targetPort <IntOrString>' "$out"
out=$(k explain deploy.spec.template.spec.containers.resources.limits 2>&1) ||
    fail "explain limits: $out"
expect_match "explain: limits map to Quantity" 'FIELD: limits <map\[string\]Quantity>' "$out"
out=$(k explain pod.metadata.creationTimestamp 2>&1) || fail "explain creationTimestamp: $out"
expect_match "explain: creationTimestamp is a string" 'FIELD: creationTimestamp <string>' "$out"
out=$(k explain nodes.spec 2>&1) || fail "explain nodes.spec: $out"
expect_match "explain: cluster-scoped kind" 'KIND:[[:space:]]+Node' "$out"
out=$(k explain pod.spec.volumes 2>&1) || fail "explain pod.spec.volumes: $out"
expect_match "explain: inline volume source" 'configMap[[:space:]]+<ConfigMapVolumeSource>' "$out"

cat > "$tmp/deploy.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
        ports: [{containerPort: 80}]
        resources: {limits: {cpu: 500m, memory: 128Mi}}
YAML
sed 's/replicas: 2/replicas: 3/; s/image: nginx/image: nginx:2/' "$tmp/deploy.yaml" > "$tmp/deploy2.yaml"

: > "$log"
out=$(k create -f "$tmp/deploy.yaml" --dry-run=server 2>&1) || fail "create --dry-run=server: $out"
expect "create -f validates with the v3 documents" "deployment.apps/web created (server dry run)" "$out"
expect_match "create sends fieldValidation=Strict" \
    'POST /apis/apps/v1/namespaces/default/deployments\?dryRun=All&[^ ]*fieldValidation=Strict' \
    "$(cat "$log")"
grep -q '^GET /openapi/v3/apis/apps/v1?hash=' "$log" || fail "kubectl did not read apis/apps/v1"
if grep -q '^GET /openapi/v2' "$log"; then fail "create fell back to /openapi/v2"; fi

out=$(k apply -f "$tmp/deploy.yaml" 2>&1) || fail "apply (create): $out"
expect "apply creates" "deployment.apps/web created" "$out"
: > "$log"
out=$(k apply -f "$tmp/deploy2.yaml" 2>&1) || fail "apply (patch): $out"
expect "apply patches" "deployment.apps/web configured" "$out"
patch=$(grep '^PATCH ' "$log" || true)
expect_match "apply sends a strategic merge patch" \
    'application/strategic-merge-patch\+json .*"\$setElementOrder/containers":\[\{"name":"web"\}\]' \
    "$patch"
expect_match "apply patch changes replicas" '"replicas":3' "$patch"

# /openapi/v2 in protobuf: explain's v2 mode reads it whole, and a kind no document has sends
# validation there before kubectl reports the missing mapping (not a protobuf error)
out=$(k explain pods.spec.containers --output=plaintext-openapiv2 2>&1) ||
    fail "explain (openapiv2): $out"
expect_match "explain v2: containers field" 'RESOURCE: containers <\[\]Object>' "$out"
expect_match "explain v2: image is a string" 'image[[:space:]]+<string>' "$out"
printf 'apiVersion: example.com/v1\nkind: Foo\nmetadata:\n  name: x\n' >"$tmp/foo.yaml"
out=$(k apply -f "$tmp/foo.yaml" 2>&1) && fail "apply of an unknown kind succeeded: $out"
expect_match "unknown kind: upstream's message" \
    'no matches for kind "Foo" in version "example.com/v1"' "$out"
grep -q '^GET /openapi/v2' "$log" || fail "kubectl did not read /openapi/v2"
echo "all passed"
