#!/usr/bin/env bash
# k8c-apiserver's forwarded subresources (pods/log, exec, attach,
# portforward, proxy; nodes/proxy) against a stand-in kubelet (kubelet.py,
# HTTPS on loopback), on real etcd 3.4.
# Usage: run.sh SCENARIO BIN_DIR PYTHON3
#   kubectl  the real kubectl v1.32: logs (-f), exec (websocket v5), attach,
#            get --raw through nodes/proxy, and the upstream error answers
#   python   websocket-client: port-forward (v4 channels), exec stdin
#            volume, backpressure (a paused reader must not grow the server)
set -euo pipefail
scenario=$1 bin=$2 py=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common.sh"
test_env k8c-proxy-test
make_certs "$tmp/pki" "/CN=admin/O=system:masters"
api_port=$(free_port)
kubelet_port=$(free_port)
dead_port=$(free_port) # nothing listens there

start_etcd
start_apiserver "$bin/k8c-apiserver" "$api_port" "$etcd_urls" "$tmp/api.log" -v=4
api_pid=${pids[-1]}

# The stand-in kubelet serves with the same test CA's server certificate
# (not verified by the API server yet: no --kubelet-certificate-authority).
/usr/bin/python3 "$here/kubelet.py" --port "$kubelet_port" --cert "$tmp/pki/server.crt" \
    --key "$tmp/pki/server.key" --log "$tmp/kubelet-requests.txt" >"$tmp/kubelet.log" 2>&1 &
pids+=($!)
wait_listen "$kubelet_port"
wait_apiserver_ready "$api_port" "$api_pid" "$tmp/api.log" \
    --cert "$tmp/pki/client.crt" --key "$tmp/pki/client.key" || fail "apiserver not ready"

write_kubeconfig "$api_port"
k() { kubectl "$@" 2>&1; }
# The last request the stand-in kubelet saw.
last_request() { tail -n 1 "$tmp/kubelet-requests.txt"; }
curl_api() {
    curl -s --cacert "$tmp/pki/ca.crt" --cert "$tmp/pki/client.crt" --key "$tmp/pki/client.key" "$@"
}

cat > "$tmp/objects.yaml" <<YAML
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {kubernetes.io/hostname: n1}}
status:
  addresses: [{type: Hostname, address: n1.invalid}, {type: InternalIP, address: 127.0.0.1}]
  daemonEndpoints: {kubeletEndpoint: {Port: $kubelet_port}}
---
apiVersion: v1
kind: Node
metadata: {name: dead}
status:
  addresses: [{type: InternalIP, address: 127.0.0.1}]
  daemonEndpoints: {kubeletEndpoint: {Port: $dead_port}}
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  nodeName: n1
  containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: two}
spec:
  nodeName: n1
  containers: [{name: a, image: busybox}, {name: waiting, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: unbound}
spec:
  containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: stranded}
spec:
  nodeName: dead
  containers: [{name: c, image: busybox}]
YAML
kubectl create -f "$tmp/objects.yaml" >/dev/null
expect "node status kept" "127.0.0.1 $kubelet_port" \
    "$(kubectl get node n1 -o jsonpath='{.status.addresses[1].address} {.status.daemonEndpoints.kubeletEndpoint.Port}')"

kubectl_suite() {
    # logs
    expect "logs" "c line 1
c line 2
c line 3
c line 4
c line 5" "$(k logs p)"
    expect "logs request" "GET /containerLogs/default/p/c" "$(last_request)"
    expect "logs --tail --timestamps" "2024-01-02T03:04:05.000000000Z c line 4
2024-01-02T03:04:05.000000000Z c line 5" "$(k logs p --tail=2 --timestamps)"
    expect "logs options to the kubelet (sorted, as url.Values.Encode)" \
        "GET /containerLogs/default/p/c?limitBytes=1000&sinceSeconds=60&tailLines=2&timestamps=true" \
        "$(k logs p --tail=2 --timestamps --since=60s --limit-bytes=1000 >/dev/null; last_request)"
    expect "logs -c" "a line 5" "$(k logs two -c a --tail=1)"
    # follow: the stream arrives line by line; head stops after 8 lines
    local started=$SECONDS
    expect "logs -f streams" "c line 5
c follow 1
c follow 2
c follow 3" "$(timeout 20 kubectl logs -f p | head -n 8 | tail -n 4)"
    [ $((SECONDS - started)) -lt 15 ] || fail "logs -f did not stop when the reader went away"
    expect "logs -f request" "GET /containerLogs/default/p/c?follow=true" "$(last_request)"
    # the kubelet stops streaming once kubectl is gone (its thread ends)
    for _ in $(seq 1 50); do
        grep -q 'proxy: backend closed kind=log name=p' "$tmp/api.log" && break
        sleep 0.1
    done
    expect_match "follow connection closed after the reader left" "backend closed kind=log name=p" \
        "$(grep 'backend closed kind=log' "$tmp/api.log" | tail -n 1)"
    # logs over HTTP/1.1 (curl): chunked, text/plain
    expect_match "logs over HTTP/1.1" "HTTP/1.1 200 OK.*content-type: text/plain.*c line 5" \
        "$(curl_api --http1.1 -i "https://127.0.0.1:$api_port/api/v1/namespaces/default/pods/p/log?tailLines=1" | tr -d '\r' | tr '\n' ' ')"

    # log errors, as upstream
    expect "logs: pod not found" 'error: error from server (NotFound): pods "nope" not found in namespace "default"' \
        "$(k logs nope || true)"
    expect "logs: several containers, none chosen" \
        'Error from server (BadRequest): a container name must be specified for pod two, choose one of: [a waiting]' \
        "$(k get --raw /api/v1/namespaces/default/pods/two/log || true)"
    expect "logs: container not in pod" 'Error from server (BadRequest): container zz is not valid for pod p' \
        "$(k get --raw '/api/v1/namespaces/default/pods/p/log?container=zz' || true)"
    expect "logs: kubelet error passed on" \
        'Error from server (BadRequest): container "waiting" in pod "two" is waiting to start: ContainerCreating' \
        "$(k logs two -c waiting || true)"
    expect "logs: unscheduled pod is an empty stream" "" "$(k logs unbound)"
    expect "logs: negative tailLines" \
        'The PodLogOptions "p" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0' \
        "$(k get --raw '/api/v1/namespaces/default/pods/p/log?tailLines=-1' || true)"
    expect "logs: kubelet unreachable" \
        "Error from server: Get \"https://127.0.0.1:$dead_port/containerLogs/default/stranded/c\": dial tcp 127.0.0.1:$dead_port: connect: connection refused" \
        "$(k logs stranded || true)"

    # exec over websocket v5.channel.k8s.io
    expect "exec echo" "hi" "$(k exec p -- echo hi)"
    expect "exec request" "GET /exec/default/p/c?command=echo&command=hi&stderr=1&stdout=1" "$(last_request)"
    expect "exec exit code" "3" "$(kubectl exec p -- exit 3 >/dev/null 2>&1; echo $?)"
    expect "exec exit code message" "command terminated with exit code 7" "$(k exec p -- exit 7 || true)"
    expect "exec stdin" "hello
world" "$(printf 'hello\nworld\n' | k exec -i p -- cat)"
    expect "exec stdin request" "GET /exec/default/p/c?command=cat&stderr=1&stdin=1&stdout=1" "$(last_request)"
    expect "exec stderr" "oops" "$(kubectl exec p -- stderr oops 2>&1 >/dev/null)"
    expect "exec 5 MB of output" "5000000" "$(kubectl exec p -- big 5000000 | wc -c)"
    expect "exec -c" "hi there" "$(k exec two -c a -- echo hi there)"
    expect "exec: no node" "Error from server (BadRequest): pod unbound does not have a host assigned" \
        "$(k exec unbound -- echo hi || true)"
    expect "exec: kubelet unreachable" \
        "Error from server: error dialing backend: dial tcp 127.0.0.1:$dead_port: connect: connection refused" \
        "$(k exec stranded -- echo hi || true)"
    expect "exec without upgrade" "Error from server (BadRequest): Upgrade request required" \
        "$(k get --raw '/api/v1/namespaces/default/pods/p/exec?command=ls&stdout=true' || true)"
    # attach
    expect "attach" "attached to c" "$(kubectl attach p 2>/dev/null)"
    expect "attach request" "GET /attach/default/p/c?stderr=1&stdout=1" "$(last_request)"

    # nodes/proxy
    expect "nodes/proxy healthz" "ok" "$(k get --raw /api/v1/nodes/n1/proxy/healthz)"
    expect "nodes/proxy request" "GET /healthz" "$(last_request)"
    expect "nodes/proxy POST: method, path, query, body; our credentials stay here" \
        '{"authorization": null, "body": "payload", "expect": null, "method": "POST", "path": "/echo/a/b", "query": "x=1&y=2", "x-test": "1"}' \
        "$(curl_api -X POST -H 'Authorization: Bearer xyz' -H 'X-Test: 1' -d payload \
            "https://127.0.0.1:$api_port/api/v1/nodes/n1/proxy/echo/a/b?x=1&y=2")"
    head -c 5000 /dev/zero > "$tmp/5k"
    expect "nodes/proxy: Expect not passed on, interim 100 skipped (HTTP/1.1 client)" \
        '200 {"authorization": null, "body": "5000 bytes", "expect": null, "method": "PUT", "path": "/echo", "query": "interim=1", "x-test": null}' \
        "$(curl_api --http1.1 -w '%{http_code} ' -o "$tmp/out" -X PUT --data-binary @"$tmp/5k" \
            "https://127.0.0.1:$api_port/api/v1/nodes/n1/proxy/echo?interim=1"; cat "$tmp/out")"
    expect_match "nodes/proxy response headers" "x-kubelet: stand-in" \
        "$(curl_api -i "https://127.0.0.1:$api_port/api/v1/nodes/n1/proxy/echo" | tr -d '\r')"
    expect "nodes/proxy 404 passed on" "404 404 page not found" \
        "$(curl_api -w '%{http_code} ' -o "$tmp/out" "https://127.0.0.1:$api_port/api/v1/nodes/n1/proxy/nothing"; cat "$tmp/out")"
    expect "nodes/proxy: no such node" 'Error from server (NotFound): nodes "nope" not found' \
        "$(k get --raw /api/v1/nodes/nope/proxy/healthz || true)"
    expect "nodes/proxy: kubelet unreachable" \
        "Error from server: error trying to reach node: dial tcp 127.0.0.1:$dead_port: connect: connection refused" \
        "$(k get --raw /api/v1/nodes/dead/proxy/healthz || true)"
    # pods/proxy dials the pod IP; loopback is refused as upstream does
    expect "pods/proxy: no global unicast pod IP" "Error from server (BadRequest): address not allowed" \
        "$(k get --raw /api/v1/namespaces/default/pods/p:8080/proxy/ || true)"
    # other subresources are still 404, methods still checked
    expect "logs: POST refused" "405" \
        "$(curl_api -o /dev/null -w '%{http_code}' -X POST "https://127.0.0.1:$api_port/api/v1/namespaces/default/pods/p/log")"
    expect "the server keeps serving" "p" "$(kubectl get pod p -o jsonpath='{.metadata.name}')"
}

case $scenario in
kubectl)
    kubectl_suite
    ;;
python)
    "$py" "$here/proxy_client.py" "https://127.0.0.1:$api_port" "$tmp/pki" "$api_pid"
    ;;
*)
    fail "unknown scenario $scenario"
    ;;
esac
kill -0 "$api_pid" || fail "k8c-apiserver died"
check_sanitizers
echo "PASS: apiserver_proxy $scenario"
