#!/usr/bin/env bash
# Integration tests of k8c-apiserver with the real clients.
# Usage: run.sh SCENARIO BIN_DIR PYTHON3
#   kubectl-etcd   kubectl against k8c-apiserver on three real etcd 3.4 members
#   kubectl-store  the same on three k8c-store peers
#   python         the Python kubernetes client (HTTP/1.1) on three etcd members: CRUD,
#                  watch, patch
#   python-store   the same on three k8c-store peers
#   watchcache     lists at resourceVersion=0, fan-out to many watchers, selector
#                  transitions, 410 Expired (python, raw HTTP); protobuf watch
#                  frames, bookmarks and ERROR frames (watch_protobuf.py)
#   retry          writes the API server tries again: their answer lost after they were
#                  applied (lossy_proxy.py), generateName collisions
#   hostile        bad bodies, limits, wrong types and methods: upstream Status answers
set -euo pipefail
scenario=$1 bin=$2 py=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common.sh"
test_env k8c-api-test
make_certs "$tmp/pki" "/CN=admin/O=system:masters"
openssl genrsa -out "$tmp/pki/sa.key" 2048 2>/dev/null
api_port=$(free_port)
etcd_urls=
etcd_ctl_url=

# start_store: three k8c-store peers s0..s2 (50 ms heartbeat, 500 ms election).
start_store() {
    start_cluster s "$bin/k8c-store" --heartbeat-interval 50 --election-timeout 500
    etcd_urls=$(cluster_urls s)
}

# start_api_nowait [FLAGS...]: the API server on $etcd_urls, not waited for ($api_pid).
start_api_nowait() {
    start_apiserver "$bin/k8c-apiserver" "$api_port" "$etcd_urls" "$tmp/api.log" \
        --token-auth-file="$tmp/tokens.csv" --service-account-signing-key-file="$tmp/pki/sa.key" \
        --service-account-issuer=https://kubernetes.default.svc.cluster.local "$@"
    api_pid=${pids[-1]}
}
wait_api() {
    wait_apiserver_ready "$api_port" "$api_pid" "$tmp/api.log" -H "Authorization: Bearer t0ken" ||
        fail "apiserver not ready"
}
start_api() {
    start_api_nowait "$@"
    wait_api
}
# start_other_api PORT URLS NAME: one more API server on PORT over the stores at URLS (the
# same tokens, its log $tmp/NAME.log), waited for.
start_other_api() {
    start_apiserver "$bin/k8c-apiserver" "$1" "$2" "$tmp/$3.log" --token-auth-file="$tmp/tokens.csv"
    wait_apiserver_ready "$1" "${pids[-1]}" "$tmp/$3.log" -H "Authorization: Bearer t0ken" ||
        fail "$3 not ready"
}

echo 't0ken,alice,1001,"dev,system:masters"' > "$tmp/tokens.csv"
write_kubeconfig "$api_port"
k() { kubectl "$@" 2>&1; }

# dependent NAME OWNER: a ConfigMap NAME owned (blockOwnerDeletion) by deployment OWNER.
dependent() {
    local uid
    uid=$(kubectl get deploy "$2" -o jsonpath='{.metadata.uid}')
    kubectl create -f - >/dev/null <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: $1
  ownerReferences:
  - {apiVersion: apps/v1, kind: Deployment, name: $2, uid: "$uid", blockOwnerDeletion: true}
data: {a: b}
YAML
}
# gone_within NAME CMD...: CMD (a kubectl get) answers NotFound within 20 s.
gone_within() {
    local name=$1 out=""
    shift
    for _ in $(seq 1 100); do
        out=$("$@" 2>&1 || true)
        [[ $out == *NotFound* ]] && break
        sleep 0.2
    done
    expect_match "$name" "NotFound" "$out"
}

# Garbage collection by ownerReferences, as kube-controller-manager's
# collector does: kubectl delete --cascade=background|foreground|orphan, and
# an object marked for deletion going with its last finalizer.
gc_suite() {
    k create deployment gc-bg --image=nginx >/dev/null
    dependent dep-bg gc-bg
    expect "cascade background" 'deployment.apps "gc-bg" deleted' "$(k delete deploy gc-bg)"
    gone_within "background: dependent deleted" kubectl get cm dep-bg

    k create deployment gc-fg --image=nginx >/dev/null
    dependent dep-fg gc-fg
    kubectl patch cm dep-fg --type=merge -p '{"metadata":{"finalizers":["example.com/hold"]}}' >/dev/null
    expect "cascade foreground, not waiting" 'deployment.apps "gc-fg" deleted' \
        "$(k delete deploy gc-fg --cascade=foreground --wait=false)"
    expect_match "foreground: owner waits with its finalizer" "foregroundDeletion" \
        "$(kubectl get deploy gc-fg -o jsonpath='{.metadata.finalizers}')"
    for _ in $(seq 1 50); do
        ts=$(kubectl get cm dep-fg -o jsonpath='{.metadata.deletionTimestamp}' 2>&1 || true)
        [ -n "$ts" ] && break
        sleep 0.2
    done
    expect_match "foreground: dependent with a finalizer marked for deletion" '^[0-9]{4}-' "$ts"
    kubectl patch cm dep-fg --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
    gone_within "dependent gone with its last finalizer" kubectl get cm dep-fg
    gone_within "foreground: owner gone after its dependents" kubectl get deploy gc-fg

    k create deployment gc-fw --image=nginx >/dev/null
    dependent dep-fw gc-fw
    expect "cascade foreground with --wait" 'deployment.apps "gc-fw" deleted' \
        "$(k delete deploy gc-fw --cascade=foreground --timeout=30s)"
    expect_match "foreground --wait: owner gone" "NotFound" "$(k get deploy gc-fw || true)"
    expect_match "foreground --wait: dependent gone" "NotFound" "$(k get cm dep-fw || true)"

    k create deployment gc-or --image=nginx >/dev/null
    dependent dep-or gc-or
    expect "cascade orphan" 'deployment.apps "gc-or" deleted' \
        "$(k delete deploy gc-or --cascade=orphan --timeout=30s)"
    expect_match "orphan: owner gone" "NotFound" "$(k get deploy gc-or || true)"
    expect "orphan: dependent kept without the owner reference" "dep-or []" \
        "$(kubectl get cm dep-or -o jsonpath='{.metadata.name} [{.metadata.ownerReferences}]')"
    k delete cm dep-or >/dev/null
}

# jwt_claims TOKEN: the token's payload (base64url, unpadded) decoded.
jwt_claims() {
    local p
    p=$(cut -d. -f2 <<<"$1" | tr '_-' '/+')
    while [ $((${#p} % 4)) -ne 0 ]; do p+="="; done
    base64 -d <<<"$p"
}
# refused TOKEN: kubectl with TOKEN (sa, token_suite's) until it answers
# Unauthorized, 2 s at most (the watch cache learns of a deletion): its last answer.
refused() {
    local out
    for _ in $(seq 1 10); do
        out=$("${sa[@]}" --token="$1" get sa 2>&1 || true)
        [[ $out == *Unauthorized* ]] && break
        sleep 0.2
    done
    echo "$out"
}
# token_suite: TokenRequest (kubectl create token) and the tokens it gives.
token_suite() {
    local tok bad sa=(kubectl --kubeconfig=/dev/null --server="https://127.0.0.1:$api_port"
        --certificate-authority="$tmp/pki/ca.crt")
    k create sa bot >/dev/null
    tok=$(kubectl create token bot --duration=15m)
    expect_match "create token" '^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "$tok"
    expect_match "token claims" '"aud":\["https://kubernetes.default.svc.cluster.local"\].*"kubernetes.io":\{"namespace":"default","serviceaccount":\{"name":"bot","uid":"[0-9a-f-]{36}"\}\}.*"sub":"system:serviceaccount:default:bot"' \
        "$(jwt_claims "$tok")"
    expect_match "token whoami" "Username +system:serviceaccount:default:bot .*Groups +\[system:serviceaccounts system:serviceaccounts:default system:authenticated\]" \
        "$("${sa[@]}" --token="$tok" auth whoami | tr '\n' ' ')"
    expect_match "token lists" "^bot$" "$("${sa[@]}" --token="$tok" get sa bot -o name | cut -d/ -f2)"
    # the payload changed (its sub), the signature not: refused
    bad=$(cut -d. -f1 <<<"$tok").$(cut -d. -f2 <<<"$tok" | tr 'A-Za-z' 'B-ZAb-za').$(cut -d. -f3 <<<"$tok")
    expect_match "forged token" "Unauthorized" "$("${sa[@]}" --token="$bad" get sa 2>&1 || true)"
    expect_match "other audience" "Unauthorized" \
        "$("${sa[@]}" --token="$(kubectl create token bot --audience=vault)" get sa 2>&1 || true)"
    expect "token for a missing account" 'error: failed to create token: serviceaccounts "nobody" not found' \
        "$(k create token nobody || true)"
    expect "token too short" 'error: failed to create token: TokenRequest.authentication.k8s.io "bot" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes' \
        "$(k create token bot --duration=1m || true)"
    expect "token bound to a missing pod" 'error: failed to create token: pods "nopod" not found' \
        "$(k create token bot --bound-object-kind=Pod --bound-object-name=nopod || true)"
    k create secret generic botsecret --from-literal=a=b >/dev/null
    tok=$(kubectl create token bot --bound-object-kind=Secret --bound-object-name=botsecret)
    expect_match "token bound to a secret" '"secret":\{"name":"botsecret","uid":"[0-9a-f-]{36}"\}' \
        "$(jwt_claims "$tok")"
    expect_match "secret-bound token" "^bot$" "$("${sa[@]}" --token="$tok" get sa bot -o name | cut -d/ -f2)"
    k delete secret botsecret >/dev/null
    expect_match "token of a deleted secret" "Unauthorized" "$(refused "$tok")"
    k run botpod --image=busybox --restart=Never --overrides='{"spec":{"serviceAccountName":"bot"}}' >/dev/null
    k run otherpod --image=busybox --restart=Never >/dev/null
    expect_match "token bound to a pod" '"pod":\{"name":"botpod","uid":"[0-9a-f-]{36}"\}' \
        "$(jwt_claims "$(kubectl create token bot --bound-object-kind=Pod --bound-object-name=botpod)")"
    expect "token bound to another account's pod" 'error: failed to create token: cannot bind token for serviceaccount "bot" to pod running with different serviceaccount name.' \
        "$(k create token bot --bound-object-kind=Pod --bound-object-name=otherpod || true)"
    k delete pod botpod otherpod --grace-period=0 --force >/dev/null 2>&1
    # bad TokenRequests, with curl
    local c=(curl -s --cacert "$tmp/pki/ca.crt" --cert "$tmp/pki/client.crt" --key "$tmp/pki/client.key")
    local u="https://127.0.0.1:$api_port/api/v1/namespaces/default/serviceaccounts/bot/token"
    expect_match "token request not JSON" '"code":400' "$("${c[@]}" -X POST -H 'Content-Type: application/json' -d '{"spec":' "$u")"
    expect_match "token bound to a ConfigMap" '"message":"cannot bind token to object of type /v1, Kind=ConfigMap".*"code":400' \
        "$("${c[@]}" -X POST -H 'Content-Type: application/json' -d '{"spec":{"boundObjectRef":{"kind":"ConfigMap","apiVersion":"v1","name":"x"}}}' "$u")"
    expect_match "token expirationSeconds of the wrong type" '"code":400' \
        "$("${c[@]}" -X POST -H 'Content-Type: application/json' -d '{"spec":{"expirationSeconds":"soon"}}' "$u")"
    expect_match "GET on token" '"code":405' "$("${c[@]}" "$u")"
    expect_match "api-resources lists the token subresource" "serviceaccounts/token" \
        "$(kubectl get --raw /api/v1 | tr '{' '\n' | grep -o '"name":"serviceaccounts/token"' | tr -d '"' | sed 's/name://')"
    # the account deleted, then made anew (another UID): its old token is refused
    tok=$(kubectl create token bot)
    k delete sa bot >/dev/null
    expect_match "token of a deleted account" "Unauthorized" "$(refused "$tok")"
    k create sa bot >/dev/null
    expect_match "token of an account made anew" "Unauthorized" "$("${sa[@]}" --token="$tok" get sa 2>&1 || true)"
    tok=$(kubectl create token bot)
    expect_match "new account's token" "^bot$" "$("${sa[@]}" --token="$tok" get sa bot -o name | cut -d/ -f2)"
    k delete sa bot >/dev/null
}

kubectl_suite() {
    expect_match "version" "Server Version: v1.32" "$(k version)"
    expect "namespaces at start" "default kube-node-lease kube-public kube-system" \
        "$(kubectl get ns -o jsonpath='{.items[*].metadata.name}')"
    expect "kubernetes service IP" "198.19.0.1" "$(kubectl get svc kubernetes -o jsonpath='{.spec.clusterIP}')"
    expect_match "kubernetes endpoint slice" "^kubernetes IPv4 https:[0-9]+ true [0-9.]+$" \
        "$(kubectl get endpointslice kubernetes -o jsonpath='{.metadata.labels.kubernetes\.io/service-name} {.addressType} {.ports[0].name}:{.ports[0].port} {.endpoints[0].conditions.ready} {.endpoints[0].addresses[0]}')"
    expect "create deployment (protobuf body)" "deployment.apps/web created" "$(k create deployment web --image=nginx:1.25 --replicas=2)"
    expect_match "get deployments table" "^NAME +READY +UP-TO-DATE +AVAILABLE +AGE.*web +0/2 +0 +0 " "$(k get deploy)"
    expect "defaults: strategy" "RollingUpdate 25% 10 IfNotPresent" \
        "$(kubectl get deploy web -o jsonpath='{.spec.strategy.type} {.spec.strategy.rollingUpdate.maxSurge} {.spec.revisionHistoryLimit} {.spec.template.spec.containers[0].imagePullPolicy}')"
    expect_match "duplicate create" "deployments.apps \"web\" already exists" "$(k create deployment web --image=nginx || true)"
    expect "not found" 'Error from server (NotFound): deployments.apps "nope" not found' "$(k get deploy nope || true)"
    # A NUL in a string (a text file with one, as a protobuf body and as JSON) is refused: it
    # used to be cut there and the rest lost.
    printf 'ab\0cd\n' >"$tmp/nul.txt"
    expect "NUL in a string, protobuf" 'error: failed to create configmap: ConfigMap in version "v1" cannot be handled as a ConfigMap: DataEntry.value: a NUL character (\u0000) in a string is not supported' \
        "$(k create configmap nul --from-file="$tmp/nul.txt" || true)"
    expect "NUL in a string, JSON" 'Error from server (BadRequest): error when creating "STDIN": ConfigMap in version "v1" cannot be handled as a ConfigMap: data.nul.txt: a NUL character (\u0000) in a string is not supported' \
        "$(kubectl create configmap nul --from-file="$tmp/nul.txt" --dry-run=client -o json | k create -f - || true)"
    cat > "$tmp/app.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {key: value}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, labels: {app: api}}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: nginx:1.25
        ports: [{containerPort: 80}]
        envFrom: [{configMapRef: {name: cfg}}]
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec:
  type: NodePort
  selector: {app: api}
  ports: [{port: 80, targetPort: 80, nodePort: 30080}]
YAML
    expect "apply" "configmap/cfg created
deployment.apps/api created
service/api created" "$(k apply -f "$tmp/app.yaml")"
    expect "apply again" "configmap/cfg unchanged
deployment.apps/api unchanged
service/api unchanged" "$(k apply -f "$tmp/app.yaml")"
    sed -i 's/replicas: 2/replicas: 4/' "$tmp/app.yaml"
    expect_match "apply change" "deployment.apps/api configured" "$(k apply -f "$tmp/app.yaml")"
    expect "apply bumped generation" "4 2" "$(kubectl get deploy api -o jsonpath='{.spec.replicas} {.metadata.generation}')"
    expect_match "service NodePort" "api +NodePort +198\.19\.[0-9]+\.[0-9]+ +<none> +80:30080/TCP" "$(k get svc api)"
    expect_match "node port taken" "provided port is already allocated" \
        "$(k create service nodeport other --tcp=80 --node-port=30080 || true)"
    expect_match "cluster IP out of range" "is not in the valid range" \
        "$(k create service clusterip bad --tcp=80 --clusterip=10.9.9.9 || true)"
    expect "scale" "deployment.apps/api scaled" "$(k scale deploy api --replicas=3)"
    expect "scale subresource" "3 3" "$(kubectl get deploy api -o jsonpath='{.spec.replicas} {.metadata.generation}')"
    # the deployment's managedFields: spec.replicas now belongs to the scale's manager
    expect "scale: managedFields" 'kubectl scale {"f:spec":{"f:replicas":{}}}' \
        "$(kubectl get deploy api --show-managed-fields -o jsonpath='{range .metadata.managedFields[?(@.subresource=="scale")]}{.manager} {.subresource} {.fieldsV1}{end}')"
    # --dry-run=server writes nothing: scale (the subresource), delete (dryRun in the
    # DeleteOptions body), deletecollection and pods/binding (in the query)
    expect "scale, server dry run" "deployment.apps/api scaled (server dry run)|3 3" \
        "$(k scale deploy api --replicas=7 --dry-run=server)|$(kubectl get deploy api -o jsonpath='{.spec.replicas} {.metadata.generation}')"
    expect "delete, server dry run" "deployment.apps \"api\" deleted (server dry run)|api" \
        "$(k delete deploy api --dry-run=server)|$(kubectl get deploy api -o name | sed 's|.*/||')"
    kubectl delete --raw "/apis/apps/v1/namespaces/default/deployments?dryRun=All" >/dev/null
    expect "deletecollection, dry run" "api" "$(kubectl get deploy api -o name | sed 's|.*/||')"
    expect_match "dryRun other than All" 'The CreateOptions "" is invalid: dryRun: Unsupported value: \[\]string\{"x"\}: supported values: "All"' \
        "$(echo '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dry"}}' | kubectl create --raw "/api/v1/namespaces/default/configmaps?dryRun=x" -f - 2>&1 || true)"
    expect_match "get --subresource=scale: the Scale's table" \
        'NAME +DESIRED +AVAILABLE +AGE
api +3 +0 +[0-9]+s$' "$(k get deploy api --subresource=scale)"
    # autoscaling/v1 (kubectl autoscale posts one), stored as autoscaling/v2
    local hv1=/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers
    expect "autoscale" "horizontalpodautoscaler.autoscaling/api autoscaled" \
        "$(k autoscale deploy api --min=2 --max=5 --cpu-percent=70)"
    expect "autoscale: stored as v2" "Resource cpu Utilization 70 2 5" \
        "$(kubectl get hpa api -o jsonpath='{.spec.metrics[0].type} {.spec.metrics[0].resource.name} {.spec.metrics[0].resource.target.type} {.spec.metrics[0].resource.target.averageUtilization} {.spec.minReplicas} {.spec.maxReplicas}')"
    # a server-side apply at v2 conflicts with the v1 fields kubectl autoscale owns, named as v1 names them
    cat > "$tmp/hpa2.yaml" <<'YAML'
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  maxReplicas: 6
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 80}}
YAML
    expect_match "apply at v2: conflicts in v1 terms" 'Apply failed with 2 conflicts: conflicts with "kubectl-autoscale" using autoscaling/v1: - \.spec\.maxReplicas - \.spec\.targetCPUUtilizationPercentage ' \
        "$(k apply --server-side -f "$tmp/hpa2.yaml" 2>&1 | tr '\n' ' ' || true)"
    k patch hpa api --type=merge -p '{"spec":{"metrics":[{"type":"Resource","resource":{"name":"memory","target":{"type":"AverageValue","averageValue":"100Mi"}}},{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":70}}}]}}' >/dev/null
    kubectl get --raw "$hv1/api" >"$tmp/hpa1.json"
    expect_match "autoscaling/v1 read" '"apiVersion":"autoscaling/v1".*"autoscaling.alpha.kubernetes.io/metrics":"\[\{\\"type\\":\\"Resource\\",\\"resource\\":\{\\"name\\":\\"memory\\".*"targetCPUUtilizationPercentage":70' \
        "$(cat "$tmp/hpa1.json")"
    sed -e 's/"maxReplicas":5/"maxReplicas":6/' -e 's/"targetCPUUtilizationPercentage":70/"targetCPUUtilizationPercentage":60/' "$tmp/hpa1.json" >"$tmp/hpa1b.json"
    kubectl replace --raw "$hv1/api" -f "$tmp/hpa1b.json" >/dev/null
    expect "autoscaling/v1 write keeps v2-only metrics" "memory 100Mi cpu 60 6" \
        "$(kubectl get hpa api -o jsonpath='{.spec.metrics[0].resource.name} {.spec.metrics[0].resource.target.averageValue} {.spec.metrics[1].resource.name} {.spec.metrics[1].resource.target.averageUtilization} {.spec.maxReplicas}')"
    expect "autoscaling/v1 annotations not stored" "" "$(kubectl get hpa api -o jsonpath='{.metadata.annotations}')"
    expect_match "autoscaling/v1 validated as v2" 'The HorizontalPodAutoscaler "bad" is invalid: +\* spec.minReplicas: Invalid value: 0: must be greater than or equal to 1 \* spec.metrics: Forbidden: must specify at least one Object or External metric to support scaling to zero replicas' \
        "$(echo '{"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler","metadata":{"name":"bad"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"api"},"minReplicas":0,"maxReplicas":3}}' | k create -f - | tr '\n' ' ' || true)"
    kubectl delete --raw "$hv1/api" >/dev/null
    expect_match "autoscaling/v1 delete" "NotFound" "$(k get hpa api || true)"
    expect "label" "deployment.apps/api labeled" "$(k label deploy api tier=backend)"
    expect "label selector" "api" "$(kubectl get deploy -l 'tier in (backend),app' -o name | sed 's|.*/||')"
    expect "field selector" "web" "$(kubectl get deploy --field-selector metadata.name=web -o name | sed 's|.*/||')"
    expect "merge patch" "deployment.apps/api patched" "$(k patch deploy api --type=merge -p '{"spec":{"minReadySeconds":5}}')"
    expect "json patch" "deployment.apps/api patched" "$(k patch deploy api --type=json -p '[{"op":"replace","path":"/spec/replicas","value":1}]')"
    # a JSON patch that does not apply (a failed test): upstream's generic 422, as kubectl shows it
    expect "json patch test fails" "The request is invalid: the server rejected our request due to an error in our request" \
        "$(k patch deploy api --type=json -p '[{"op":"test","path":"/spec/replicas","value":9}]' 2>&1 || true)"
    expect "strategic merge patch" "deployment.apps/api patched" \
        "$(k patch deploy api -p '{"spec":{"template":{"spec":{"containers":[{"name":"api","image":"nginx:1.26"}]}}}}')"
    expect "patched" "5 1 nginx:1.26 80" "$(kubectl get deploy api -o jsonpath='{.spec.minReadySeconds} {.spec.replicas} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].ports[0].containerPort}')"
    expect_match "strict validation" 'cannot be handled as a ConfigMap: strict decoding error: unknown field "bogus"' \
        "$(echo '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x2"},"bogus":1}' | k create -f - || true)"
    cat > "$tmp/bad.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: Bad_Name}
spec:
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: b}}
    spec:
      containers: [{name: c, image: nginx, ports: [{containerPort: 70000}]}]
YAML
    out=$(k apply -f "$tmp/bad.yaml" || true)
    expect_match "422 name" 'metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain' "$out"
    expect_match "422 selector" 'spec.template.metadata.labels: Invalid value: map\[string\]string\{"app":"b"\}: `selector` does not match template `labels`' "$out"
    expect_match "422 port" 'containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive' "$out"
    expect_match "immutable selector" 'spec.selector: Invalid value: .*field is immutable' \
        "$(k patch deploy web --type=merge -p '{"spec":{"selector":{"matchLabels":{"x":"y"}}}}' || true)"
    expect "job selector generated" "true" \
        "$(k create job j1 --image=busybox -- true >/dev/null; kubectl get job j1 -o jsonpath='{.spec.selector.matchLabels.batch\.kubernetes\.io/controller-uid}' | grep -q . && echo true)"
    expect_match "fieldValidation=Warn" 'Warning: unknown field "bogus"' \
        "$(echo '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"warned"},"bogus":1}' | k create -f - --validate=warn)"
    # security contexts: privileged containers need --allow-privileged, IDs are in range
    expect "privileged refused" 'The Pod "priv" is invalid: spec.containers[0].securityContext.privileged: Forbidden: disallowed by cluster policy' \
        "$(k run priv --image=busybox --privileged=true 2>&1 || true)"
    expect_match "runAsUser range" 'spec.securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive' \
        "$(k run uid --image=busybox --overrides='{"spec":{"securityContext":{"runAsUser":-1}}}' 2>&1 || true)"
    # default admission plugins: Priority, DefaultTolerationSeconds, DefaultStorageClass,
    # TaintNodesByCondition
    expect "system priority classes" "system-cluster-critical system-node-critical" \
        "$(kubectl get priorityclasses -o jsonpath='{.items[*].metadata.name}')"
    k run prio --image=busybox >/dev/null
    expect "priority resolved" "0 PreemptLowerPriority node.kubernetes.io/not-ready:300 node.kubernetes.io/unreachable:300" \
        "$(kubectl get pod prio -o jsonpath='{.spec.priority} {.spec.preemptionPolicy} {range .spec.tolerations[*]}{.key}:{.tolerationSeconds} {end}' | sed 's/ $//')"
    expect "unknown priority class" 'Error from server (Forbidden): pods "noprio" is forbidden: no PriorityClass with name nope was found' \
        "$(k run noprio --image=busybox --overrides='{"spec":{"priorityClassName":"nope"}}' || true)"
    echo '{"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"dflt"},"value":7,"globalDefault":true}' | k create -f - >/dev/null
    expect "one default priority class" 'Error from server (Forbidden): error when creating "STDIN": priorityclasses.scheduling.k8s.io "dflt2" is forbidden: PriorityClass dflt is already marked as default. Only one default can exist' \
        "$(echo '{"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"dflt2"},"value":8,"globalDefault":true}' | k create -f - || true)"
    k run prio2 --image=busybox >/dev/null
    expect "default priority class" "dflt 7" "$(kubectl get pod prio2 -o jsonpath='{.spec.priorityClassName} {.spec.priority}')"
    k delete pod prio prio2 --wait=false >/dev/null; k delete priorityclass dflt >/dev/null
    echo '{"apiVersion":"storage.k8s.io/v1","kind":"StorageClass","metadata":{"name":"std","annotations":{"storageclass.kubernetes.io/is-default-class":"true"}},"provisioner":"example.com/p"}' | k create -f - >/dev/null
    echo '{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"dsc"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}' | k create -f - >/dev/null
    expect "default storage class" "std" "$(kubectl get pvc dsc -o jsonpath='{.spec.storageClassName}')"
    k delete pvc dsc >/dev/null; k delete storageclass std >/dev/null
    echo '{"apiVersion":"v1","kind":"Node","metadata":{"name":"tainted"}}' | k create -f - >/dev/null
    expect "new node tainted" "node.kubernetes.io/not-ready:NoSchedule" \
        "$(kubectl get node tainted -o jsonpath='{range .spec.taints[*]}{.key}:{.effect}{end}')"
    k delete node tainted >/dev/null
    # Pod Security admission: the namespace's labels pick the level
    k create namespace psa >/dev/null
    k -n psa run before --image=busybox >/dev/null
    expect "psa enforce label warns about existing pods" 'Warning: existing pods in namespace "psa" violate the new PodSecurity enforce level "restricted:latest"
Warning: before: allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile
namespace/psa labeled' "$(k label namespace psa pod-security.kubernetes.io/enforce=restricted)"
    expect "psa enforce" 'Error from server (Forbidden): pods "nginx" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "nginx" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "nginx" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "nginx" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "nginx" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")' \
        "$(k -n psa run nginx --image=nginx || true)"
    expect "psa restricted pod admitted" "pod/ok created" \
        "$(k -n psa run ok --image=busybox --overrides='{"spec":{"securityContext":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"ok","image":"busybox","securityContext":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}}]}}')"
    expect "psa warns workloads" 'Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "nginx" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "nginx" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "nginx" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "nginx" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")
deployment.apps/web created' "$(k -n psa create deployment web --image=nginx)"
    expect "psa label values" 'The Namespace "psa" is invalid: metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: "strict": must be one of privileged, baseline, restricted' \
        "$(k label namespace psa pod-security.kubernetes.io/warn=strict || true)"
    k delete namespace psa --wait=false >/dev/null
    echo '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"psb","labels":{"pod-security.kubernetes.io/enforce":"baseline"}}}' | k create -f - >/dev/null
    expect "psa baseline" 'Error from server (Forbidden): pods "x" is forbidden: violates PodSecurity "baseline:latest": non-default capabilities (container "x" must not include "SYS_ADMIN" in securityContext.capabilities.add), host namespaces (hostNetwork=true), hostPath volumes (volume "h"), hostPort (container "x" uses hostPorts 10000, 8080)' \
        "$(k -n psb run x --image=busybox --overrides='{"spec":{"hostNetwork":true,"volumes":[{"name":"h","hostPath":{"path":"/"}}],"containers":[{"name":"x","image":"busybox","ports":[{"containerPort":8080,"hostPort":8080},{"containerPort":10000,"hostPort":10000}],"securityContext":{"capabilities":{"add":["SYS_ADMIN"]}}}]}}' || true)"
    k delete namespace psb --wait=false >/dev/null
    # fields of feature gates 1.32 leaves off are dropped, as upstream's strategies drop them
    k run gated --image=busybox --overrides='{"spec":{"hostUsers":false,"securityContext":{"supplementalGroupsPolicy":"Strict"},"containers":[{"name":"gated","image":"busybox","securityContext":{"procMount":"Unmasked"}}]}}' >/dev/null
    expect "disabled gates dropped" "|Default|" \
        "$(kubectl get pod gated -o jsonpath='{.spec.hostUsers}|{.spec.containers[0].securityContext.procMount}|{.spec.securityContext.supplementalGroupsPolicy}')"
    k delete pod gated --wait=false >/dev/null
    # RuntimeClass: served with upstream's table; the admission plugin resolves a pod's class
    k create -f - >/dev/null <<'YAML'
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: gvisor}
handler: runsc
overhead: {podFixed: {cpu: 250m, memory: 64Mi}}
scheduling:
  nodeSelector: {runtime: gvisor}
  tolerations: [{key: sandbox, operator: Exists, effect: NoSchedule}]
YAML
    expect_match "runtimeclass table" 'NAME +HANDLER +AGE
gvisor +runsc +[0-9]+s$' "$(k get runtimeclass)"
    k run rc1 --image=busybox --overrides='{"spec":{"runtimeClassName":"gvisor"}}' >/dev/null
    expect "pod takes its RuntimeClass's overhead, node selector and toleration" \
        '{"cpu":"250m","memory":"64Mi"} {"runtime":"gvisor"} sandbox' \
        "$(kubectl get pod rc1 -o jsonpath='{.spec.overhead} {.spec.nodeSelector} {.spec.tolerations[2].key}')"
    expect "unknown RuntimeClass" \
        'Error from server (Forbidden): pods "rc2" is forbidden: pod rejected: RuntimeClass "kata" not found' \
        "$(k run rc2 --image=busybox --overrides='{"spec":{"runtimeClassName":"kata"}}' || true)"
    expect "overhead without a RuntimeClass" \
        'Error from server (Forbidden): pods "rc3" is forbidden: pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead' \
        "$(k run rc3 --image=busybox --overrides='{"spec":{"overhead":{"cpu":"1"}}}' || true)"
    expect "node selector conflict" \
        'Error from server (Forbidden): pods "rc4" is forbidden: conflict: runtimeClass.scheduling.nodeSelector[runtime] = gvisor; pod.spec.nodeSelector[runtime] = runc' \
        "$(k run rc4 --image=busybox --overrides='{"spec":{"runtimeClassName":"gvisor","nodeSelector":{"runtime":"runc"}}}' || true)"
    expect "runtimeclass handler immutable" \
        'The RuntimeClass "gvisor" is invalid: handler: Invalid value: "kata": field is immutable' \
        "$(k patch runtimeclass gvisor --type=merge -p '{"handler":"kata"}' || true)"
    # hostile sizes: a merge of more than 5000 tolerations is refused at once
    "$py" -c 'import json; print(json.dumps({"apiVersion":"v1","kind":"Pod","metadata":{"name":"rc5"},"spec":{"runtimeClassName":"gvisor","containers":[{"name":"c","image":"busybox"}],"tolerations":[{"key":"t%d" % i,"operator":"Exists"} for i in range(5000)]}}))' >"$tmp/tolerations.json"
    expect "too many tolerations to merge" \
        'Error from server (Forbidden): error when creating "'"$tmp"'/tolerations.json": pods "rc5" is forbidden: pod rejected: 5003 tolerations with those of RuntimeClass "gvisor", more than the 5000 that can be merged' \
        "$(k create -f "$tmp/tolerations.json" || true)"
    k delete pod rc1 --wait=false >/dev/null
    # events live one hour: they carry a store lease
    if [ -n "$etcd_ctl_url" ]; then
        expect "no lease before the first event" "found 0 leases" \
            "$(ETCDCTL_API=3 etcdctl --endpoints="$etcd_ctl_url" lease list)"
    fi
    echo '{"apiVersion":"v1","kind":"Event","metadata":{"name":"ev1"},"involvedObject":{"kind":"Pod","name":"p","namespace":"default"},"reason":"Test","message":"hello","type":"Normal"}' | k create -f - >/dev/null
    if [ -n "$etcd_ctl_url" ]; then
        expect_match "event lease" '"lease":[1-9]' "$(ETCDCTL_API=3 etcdctl --endpoints="$etcd_ctl_url" get /registry/events/default/ev1 -w json)"
    fi
    # field labels per kind, with upstream's values (an event's source is its component or
    # reporting controller; a pod's spec.hostNetwork is false unless set, tested below)
    echo '{"apiVersion":"v1","kind":"Event","metadata":{"name":"ev2"},"involvedObject":{"kind":"Pod","name":"p","namespace":"default"},"reason":"Test","source":{"component":"tester"}}' | k create -f - >/dev/null
    if [ -n "$etcd_ctl_url" ]; then
        # the events of a minute share one lease of 1 h + the 60 s reuse window (upstream's
        # leaseManager)
        e1=$(ETCDCTL_API=3 etcdctl --endpoints="$etcd_ctl_url" get /registry/events/default/ev1 -w json |
            "$py" -c 'import json,sys; print("%016x" % json.load(sys.stdin)["kvs"][0]["lease"])')
        e2=$(ETCDCTL_API=3 etcdctl --endpoints="$etcd_ctl_url" get /registry/events/default/ev2 -w json |
            "$py" -c 'import json,sys; print("%016x" % json.load(sys.stdin)["kvs"][0]["lease"])')
        expect "events share a lease" "$e1" "$e2"
        expect_match "event lease TTL" "lease $e1 granted with TTL\(3660s\)" \
            "$(ETCDCTL_API=3 etcdctl --endpoints="$etcd_ctl_url" lease timetolive "$e1")"
    fi
    expect "event field selectors" "ev2" "$(kubectl get events --field-selector source=tester,reason=Test -o name | sed 's|.*/||')"
    expect_match "unknown field label" 'field selector "spec.nodeName=x": field label not supported: spec.nodeName' \
        "$(k get events --field-selector spec.nodeName=x 2>&1 || true)"
    # upstream words a bad requirement once (labels.Parse), other syntax errors bare
    expect "label selector requirement error" "Error from server (BadRequest): unable to parse requirement: found '', expected: ',' or ')'" \
        "$(kubectl get --raw '/api/v1/namespaces/default/events?labelSelector=a+in+(b' 2>&1 || true)"
    # a negative timeoutSeconds ends the watch at once (upstream's timer fires at once)
    expect "negative timeoutSeconds" "rc=0" \
        "$(timeout 20 kubectl get --raw '/api/v1/namespaces/default/events?watch=1&timeoutSeconds=-1' >/dev/null 2>&1; echo "rc=$?")"
    expect "label selector syntax error" "Error from server (BadRequest): found ',', expected: identifier after ','" \
        "$(kubectl get --raw '/api/v1/namespaces/default/events?watch=1&labelSelector=a,,b' 2>&1 || true)"
    # events.k8s.io/v1: the same events, under the new API's names
    echo '{"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"ne1"},"eventTime":"2026-12-01T14:00:00.000000Z","reportingController":"example.com/ctl","reportingInstance":"i1","action":"Testing","reason":"Tested","regarding":{"kind":"Pod","name":"np","namespace":"default"},"note":"new api","type":"Normal"}' | k create -f - >/dev/null
    expect "events.k8s.io read as core" "new api example.com/ctl np" \
        "$(kubectl get events ne1 -o jsonpath='{.message} {.reportingComponent} {.involvedObject.name}')"
    expect "core event read as events.k8s.io" "Test tester p" \
        "$(kubectl get events.v1.events.k8s.io ev2 -o jsonpath='{.reason} {.deprecatedSource.component} {.regarding.name}')"
    expect "events.k8s.io field selector" "ne1" "$(kubectl get events.events.k8s.io --field-selector regarding.name=np,reportingController=example.com/ctl -o name | sed 's|.*/||')"
    expect_match "events.k8s.io table" "Normal +Tested +pod/np +new api" "$(k get events.events.k8s.io)"
    expect_match "events.k8s.io update rules" 'The Event "ne1" is invalid: message: Invalid value: "changed": field is immutable' \
        "$(k patch events.events.k8s.io ne1 --type=merge -p '{"note":"changed"}' || true)"
    expect "events.k8s.io series" "2" \
        "$(k patch events.events.k8s.io ne1 --type=merge -p '{"series":{"count":2,"lastObservedTime":"2026-12-01T14:05:00.000000Z"}}' >/dev/null; kubectl get events.events.k8s.io ne1 -o jsonpath='{.series.count}')"
    # output forms and read-only commands
    expect_match "get -o wide" "^NAME +READY +UP-TO-DATE +AVAILABLE +AGE +CONTAINERS +IMAGES +SELECTOR" "$(k get deploy -o wide)"
    expect_match "get -o yaml" "kind: Deployment" "$(k get deploy web -o yaml)"
    expect "get -o json" "web" "$(kubectl get deploy web -o json | "$py" -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["name"])')"
    expect "custom-columns" "NAME   REPLICAS
web    2" "$(k get deploy web -o custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas)"
    expect_match "get -A" "default +kubernetes +ClusterIP" "$(k get svc -A)"
    expect_match "--show-labels" "app=web" "$(k get deploy web --show-labels)"
    expect "--sort-by" "api web" "$(kubectl get deploy --sort-by=.metadata.name -o jsonpath='{.items[*].metadata.name}')"
    expect_match "describe" "Replicas: +[0-9]+ desired \\| 0 updated" "$(k describe deploy api)"
    expect_match "api-versions" "apps/v1" "$(k api-versions)"
    expect_match "api-resources" "deployments +deploy +apps/v1 +true +Deployment" "$(k api-resources)"
    expect_match "explain" "FIELD: strategy <DeploymentStrategy>" "$(k explain deploy.spec.strategy)"
    expect_match "cluster-info" "running at https://127.0.0.1:$api_port" "$(k cluster-info)"
    expect_match "get --raw" '"kind":"APIVersions"' "$(k get --raw /api)"
    expect "annotate" "deployment.apps/web annotated" "$(k annotate deploy web note=hello)"
    expect "annotation" "hello" "$(kubectl get deploy web -o jsonpath='{.metadata.annotations.note}')"
    sed 's/nginx:1.26/nginx:1.27/' "$tmp/app.yaml" > "$tmp/app2.yaml"
    expect_match "diff" '[-]  replicas: 1 [+]  replicas: 4' "$(k diff -f "$tmp/app2.yaml" | tr '\n' ' ' || true)"
    printf '#!/bin/sh\nsed -i "s/replicas: 2/replicas: 6/" "$1"\n' > "$tmp/editor.sh"
    chmod +x "$tmp/editor.sh"
    expect "edit" "deployment.apps/web edited" "$(EDITOR="$tmp/editor.sh" k edit deploy web)"
    expect "edited" "6" "$(kubectl get deploy web -o jsonpath='{.spec.replicas}')"
    k patch deploy web --subresource=status --type=merge -p '{"status":{"conditions":[{"type":"Available","status":"True","reason":"Test","message":"ok"}]}}' >/dev/null
    expect "wait --for=condition" "deployment.apps/web condition met" "$(k wait deploy/web --for=condition=Available --timeout=20s)"
    # status updates are validated as upstream's Validate<Kind>StatusUpdate
    expect "status: negative counter" 'The Deployment "web" is invalid: status.updatedReplicas: Invalid value: -1: must be greater than or equal to 0' \
        "$(k patch deploy web --subresource=status --type=merge -p '{"status":{"updatedReplicas":-1}}' || true)"
    k patch deploy web --subresource=status --type=merge -p '{"status":{"replicas":2,"readyReplicas":2,"availableReplicas":1,"collisionCount":2}}' >/dev/null
    expect "status: above status.replicas" 'The Deployment "web" is invalid: status.readyReplicas: Invalid value: 3: cannot be greater than status.replicas' \
        "$(k patch deploy web --subresource=status --type=merge -p '{"status":{"readyReplicas":3}}' || true)"
    expect "status: collisionCount decremented" 'The Deployment "web" is invalid: status.collisionCount: Invalid value: 1: cannot be decremented' \
        "$(k patch deploy web --subresource=status --type=merge -p '{"status":{"collisionCount":1}}' || true)"
    expect "status: valid update kept" "2 2 1 2" "$(kubectl get deploy web -o jsonpath='{.status.replicas} {.status.readyReplicas} {.status.availableReplicas} {.status.collisionCount}')"
    expect "namespace status: phase" "The Namespace \"default\" is invalid: status.Phase: Invalid value: \"Terminating\": may only be 'Active' if \`deletionTimestamp\` is empty" \
        "$(k patch ns default --subresource=status --type=merge -p '{"status":{"phase":"Terminating"}}' || true)"
    # server-side apply: field ownership, conflicts, force
    cat > "$tmp/ssa.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: ssa, labels: {app: ssa}}
spec:
  replicas: 2
  selector: {matchLabels: {app: ssa}}
  template:
    metadata: {labels: {app: ssa}}
    spec:
      containers: [{name: c, image: nginx}]
YAML
    expect "server-side apply" "deployment.apps/ssa serverside-applied" "$(k apply --server-side -f "$tmp/ssa.yaml")"
    expect "apply entry" "kubectl Apply" "$(kubectl get deploy ssa -o jsonpath='{.metadata.managedFields[0].manager} {.metadata.managedFields[0].operation}')"
    k patch deploy ssa --field-manager=hpa --type=merge -p '{"spec":{"replicas":7}}' >/dev/null
    sed -i 's/replicas: 2/replicas: 4/' "$tmp/ssa.yaml"
    expect_match "apply conflict" 'Apply failed with 1 conflict: conflict with "hpa" using apps/v1: .spec.replicas' \
        "$(k apply --server-side -f "$tmp/ssa.yaml" || true)"
    expect "apply --force-conflicts" "deployment.apps/ssa serverside-applied" "$(k apply --server-side --force-conflicts -f "$tmp/ssa.yaml")"
    expect "forced value" "4" "$(kubectl get deploy ssa -o jsonpath='{.spec.replicas}')"
    # list paging: 30 configmaps, pages of 7
    for i in $(seq 1 30); do echo "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"page-$i\",\"labels\":{\"page\":\"yes\"}}}"; done > "$tmp/cms.json"
    k create -f "$tmp/cms.json" >/dev/null
    expect "paged list" "30" "$(kubectl get cm -l page=yes --chunk-size=7 -o name | wc -l)"
    expect "delete collection" "" "$(kubectl delete cm -l page=yes >/dev/null 2>&1; kubectl get cm -l page=yes -o name)"
    # watch: events arrive as they happen
    (timeout 8 kubectl get cm -w --output-watch-events >"$tmp/watch.out" 2>&1 || true) &
    local wpid=$!
    sleep 2
    k create cm watched --from-literal=a=b >/dev/null
    k label cm watched x=y >/dev/null
    k delete cm watched >/dev/null
    wait "$wpid" || true
    expect_match "watch ADDED/MODIFIED/DELETED" "ADDED +watched.*MODIFIED +watched.*DELETED +watched" "$(tr '\n' ' ' < "$tmp/watch.out")"
    # update with a stale resourceVersion
    kubectl get deploy api -o json > "$tmp/api.json"
    k label deploy api again=1 >/dev/null
    expect_match "conflict" "the object has been modified" "$(k replace -f "$tmp/api.json" || true)"
    # pods: table columns and delete of an unscheduled pod
    expect "run" "pod/p1 created" "$(k run p1 --image=busybox --restart=Never -- sleep 1)"
    expect_match "pod field selector: hostNetwork" "(^| )p1( |$)" "$(kubectl get pods --field-selector spec.hostNetwork=false -o name | sed 's|.*/||' | tr '\n' ' ')"
    expect_match "pod table" "^NAME +READY +STATUS +RESTARTS +AGE.*p1 +0/1 +Pending +0 " "$(k get pods)"
    # pods/ephemeralcontainers: kubectl debug adds one; existing ones stay as they are
    k debug p1 --image=busybox --profile=general -c dbg >/dev/null
    expect "debug: ephemeral container added" "dbg busybox File SYS_PTRACE" \
        "$(kubectl get pod p1 -o jsonpath='{.spec.ephemeralContainers[0].name} {.spec.ephemeralContainers[0].image} {.spec.ephemeralContainers[0].terminationMessagePolicy} {.spec.ephemeralContainers[0].securityContext.capabilities.add[0]}')"
    expect "debug: managed through the subresource" "ephemeralcontainers" \
        "$(kubectl get pod p1 -o jsonpath='{.metadata.managedFields[?(@.manager=="kubectl")].subresource}')"
    expect "ephemeral container removed" 'The Pod "p1" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not be removed' \
        "$(k patch pod p1 --subresource=ephemeralcontainers --type=json -p '[{"op":"remove","path":"/spec/ephemeralContainers/0"}]' || true)"
    expect "ephemeral container changed" 'The Pod "p1" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "dbg" may not be changed' \
        "$(k patch pod p1 --subresource=ephemeralcontainers --type=json -p '[{"op":"replace","path":"/spec/ephemeralContainers/0/image","value":"alpine"}]' || true)"
    expect_match "ephemeral container fields" 'spec.ephemeralContainers\[0\].targetContainerName: Not found: "nope".*spec.ephemeralContainers\[0\].ports: Forbidden: cannot be set for an Ephemeral Container' \
        "$(k patch pod p1 --subresource=ephemeralcontainers --type=strategic -p '{"spec":{"ephemeralContainers":[{"name":"d2","image":"busybox","targetContainerName":"nope","ports":[{"containerPort":80}]}]}}' | tr '\n' ' ' || true)"
    k patch pod p1 --subresource=ephemeralcontainers --type=merge -p '{"metadata":{"labels":{"x":"y"}}}' >/dev/null
    expect "ephemeral: nothing but the containers changes" "" "$(kubectl get pod p1 -o jsonpath='{.metadata.labels.x}')"
    expect "pod status: IPs" 'The Pod "p1" is invalid: status.podIPs[0]: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)' \
        "$(k patch pod p1 --subresource=status --type=merge -p '{"status":{"podIP":"10.0.0.300","podIPs":[{"ip":"10.0.0.300"}]}}' || true)"
    k patch pod p1 --subresource=status --type=merge -p '{"status":{"podIP":"fd00::5","podIPs":[{"ip":"fd00::5"}]}}' >/dev/null
    expect "pod status: valid IP kept" "fd00::5" "$(kubectl get pod p1 -o jsonpath='{.status.podIPs[0].ip}')"
    # LimitRanger admission, in a namespace of its own
    k create ns limits >/dev/null
    cat > "$tmp/lr.yaml" <<'YAML'
apiVersion: v1
kind: LimitRange
metadata: {name: lr, namespace: limits}
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 128Mi}
    defaultRequest: {cpu: 100m}
    max: {cpu: "1"}
    min: {memory: 64Mi}
    maxLimitRequestRatio: {cpu: "10"}
  - type: PersistentVolumeClaim
    max: {storage: 2Gi}
YAML
    k apply -f "$tmp/lr.yaml" >/dev/null
    for _ in $(seq 50); do k -n limits run lr-wait --image=nginx --dry-run=server -o jsonpath='{.metadata.annotations}' 2>/dev/null | grep -q limit-ranger && break; sleep 0.1; done
    k -n limits run l1 --image=nginx >/dev/null
    expect "limit ranger: defaults" '{"limits":{"cpu":"500m","memory":"128Mi"},"requests":{"cpu":"100m","memory":"128Mi"}} LimitRanger plugin set: cpu, memory request for container l1; cpu, memory limit for container l1' \
        "$(kubectl -n limits get pod l1 -o jsonpath='{.spec.containers[0].resources} {.metadata.annotations.kubernetes\.io/limit-ranger}')"
    expect "limit ranger: max" 'Error from server (Forbidden): pods "l2" is forbidden: maximum cpu usage per Container is 1, but limit is 2' \
        "$(k -n limits run l2 --image=nginx --overrides='{"spec":{"containers":[{"name":"l2","image":"nginx","resources":{"limits":{"cpu":"2"}}}]}}' 2>&1 || true)"
    expect "limit ranger: min and ratio" 'Error from server (Forbidden): pods "l3" is forbidden: [minimum memory usage per Container is 64Mi, but request is 10Mi, cpu max limit to request ratio per Container is 10, but provided ratio is 100.000000]' \
        "$(k -n limits run l3 --image=nginx --overrides='{"spec":{"containers":[{"name":"l3","image":"nginx","resources":{"requests":{"cpu":"10m","memory":"10Mi"},"limits":{"cpu":"1"}}}]}}' 2>&1 || true)"
    expect_match "limit ranger: claim" 'persistentvolumeclaims "c1" is forbidden: maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi' \
        "$(echo '{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"c1"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"5Gi"}}}}' | k -n limits create -f - 2>&1 || true)"
    expect "limit ranger: other namespaces untouched" "{}|" "$(k run l5 --image=nginx --dry-run=server -o jsonpath='{.spec.containers[0].resources}|{.metadata.annotations}')"
    expect "pod deletion cost" 'The Pod "dc" is invalid: metadata.annotations[controller.kubernetes.io/pod-deletion-cost]: Invalid value: "abc": must be a 32bit integer' \
        "$(k run dc --image=nginx --annotations=controller.kubernetes.io/pod-deletion-cost=abc || true)"
    expect "pod status: one IP per family" 'The Pod "p1" is invalid: status.podIPs: Invalid value: []core.PodIP{core.PodIP{IP:"fd00::5"}, core.PodIP{IP:"fd00::6"}}: may specify no more than one IP for each IP family' \
        "$(k patch pod p1 --subresource=status --type=merge -p '{"status":{"podIPs":[{"ip":"fd00::5"},{"ip":"fd00::6"}]}}' || true)"
    expect "status subresource: no DELETE" "Error from server (MethodNotAllowed): the server does not allow this method on the requested resource" \
        "$(k delete --raw /api/v1/namespaces/default/pods/p1/status || true)"
    expect "delete pod" 'pod "p1" deleted' "$(k delete pod p1 --wait=true --timeout=20s)"
    # namespaces: delete takes the contents with it
    k create ns scratch >/dev/null
    k -n scratch create cm inside --from-literal=a=b >/dev/null
    k -n scratch create svc clusterip s1 --tcp=80 >/dev/null
    expect "delete namespace" 'namespace "scratch" deleted' "$(k delete ns scratch --timeout=30s)"
    expect_match "namespace gone" "NotFound" "$(k get ns scratch || true)"
    expect "delete deployment" 'deployment.apps "api" deleted' "$(k delete deploy api)"
    gc_suite
    expect "auth can-i" "yes" "$(k auth can-i create pods)"
    # SelfSubjectRulesReview: every verb on every resource and URL
    expect_match "auth can-i --list" "^\*\.\* +\[\] +\[\] +\[\*\] +\[\*\] +\[\] +\[\*\]$" \
        "$(k auth can-i --list | tail -n +2 | tr -s ' \n' ' ' | sed 's/ $//')"
    expect_match "auth whoami" "Username +admin.*Groups +\[system:masters system:authenticated\]" "$(k auth whoami | tr '\n' ' ')"
    # impersonation (--as, --as-group, --as-uid): the request acts as that user
    expect_match "auth whoami --as" "Username +bob .*UID +42 .*Groups +\[devs ops system:authenticated\]" \
        "$(k auth whoami --as=bob --as-group=devs --as-group=ops --as-uid=42 | tr '\n' ' ')"
    expect_match "auth whoami --as a service account" \
        "Username +system:serviceaccount:kube-system:x .*Groups +\[system:serviceaccounts system:serviceaccounts:kube-system system:authenticated\]" \
        "$(k auth whoami --as=system:serviceaccount:kube-system:x | tr '\n' ' ')"
    token_suite
    expect "token auth" "alice" "$(curl -s --cacert "$tmp/pki/ca.crt" -H 'Authorization: Bearer t0ken' \
        "https://127.0.0.1:$api_port/api/v1/namespaces/default/configmaps" -X POST \
        -H 'Content-Type: application/json' -d '{"metadata":{"name":"by-alice"}}' >/dev/null; echo alice)"
    expect_match "metrics" 'apiserver_request_total\{verb="LIST",group="apps",version="v1",resource="deployments",subresource="",scope="namespace",component="apiserver",code="200"\} [1-9]' \
        "$(kubectl get --raw /metrics)"
    expect_match "duration histogram" 'apiserver_request_duration_seconds_bucket\{verb="POST"' "$(kubectl get --raw /metrics)"
    # this very GET is in flight while the metrics are written; the process collector
    expect_match "in-flight and process metrics" \
        'apiserver_current_inflight_requests\{request_kind="readOnly"\} 1.*process_resident_memory_bytes [1-9][0-9]{6,}' \
        "$(kubectl get --raw /metrics | tr '\n' ' ')"
    expect "readyz" "ok" "$(kubectl get --raw /readyz)"
    expect "readyz verbose" "[+]ping ok [+]log ok [+]etcd ok [+]etcd-readiness ok [+]informer-sync ok [+]poststarthook/bootstrap-controller ok readyz check passed" \
        "$(kubectl get --raw '/readyz?verbose' | tr '\n' ' ' | sed 's/ $//')"
    expect "livez excluding etcd" "[+]ping ok [+]log ok [+]etcd excluded: ok [+]poststarthook/bootstrap-controller ok livez check passed" \
        "$(kubectl get --raw '/livez?verbose&exclude=etcd' | tr '\n' ' ' | sed 's/ $//')"
    expect "one check" "ok" "$(kubectl get --raw /readyz/informer-sync)"
    # componentstatuses: probed at request time (no scheduler or controller manager runs here)
    out=$(kubectl get cs 2>&1)
    expect_match "get cs: deprecation warning" 'Warning: v1 ComponentStatus is deprecated in v1.19\+' "$out"
    expect_match "get cs: store member" 'etcd-0 +Healthy +ok' "$out"
    expect_match "get cs: scheduler probed" 'scheduler +(Healthy|Unhealthy +Get "https://127.0.0.1:10259/healthz": )' "$out"
    expect "get cs etcd-0" "True ok" "$(kubectl get cs etcd-0 -o jsonpath='{.conditions[0].status} {.conditions[0].message}' 2>/dev/null)"
    expect_match "get cs: unknown component" 'Internal error occurred: Component not found: nope' "$(kubectl get cs nope 2>&1 || true)"
    # plain curl, HTTP/1.1 and HTTP/2
    c=(curl -s --cacert "$tmp/pki/ca.crt" --cert "$tmp/pki/client.crt" --key "$tmp/pki/client.key")
    u="https://127.0.0.1:$api_port/api/v1/namespaces/default/configmaps"
    expect_match "curl create" '"kind":"ConfigMap".*"name":"curl1"' \
        "$("${c[@]}" --http1.1 -X POST -H 'Content-Type: application/json' -d '{"metadata":{"name":"curl1"},"data":{"a":"b"}}' "$u")"
    expect_match "curl yaml" "kind: ConfigMap" "$("${c[@]}" --http2 -H 'Accept: application/yaml' "$u/curl1")"
    expect_match "curl merge patch" '"a":"c"' \
        "$("${c[@]}" -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{"data":{"a":"c"}}' "$u/curl1")"
    expect_match "curl watch" '"type":"ADDED".*"name":"curl1"' \
        "$("${c[@]}" --max-time 3 "$u?watch=1&fieldSelector=metadata.name%3Dcurl1" || true)"
    expect_match "curl delete" '"status":"Success"' "$("${c[@]}" -X DELETE "$u/curl1")"
    expect "anonymous refused" "401" "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$tmp/pki/ca.crt" "https://127.0.0.1:$api_port/api/v1/pods")"
}

case $scenario in
kubectl-etcd)
    # three etcd 3.4 members, as the store's are three
    start_cluster e etcd --heartbeat-interval 50 --election-timeout 500
    etcd_urls=$(cluster_urls e)
    etcd_ctl_url=$etcd_urls
    start_api
    kubectl_suite
    # /readyz fails while the store is unreachable
    for m in e0 e1 e2; do kill "${pid[$m]}"; done
    for m in e0 e1 e2; do wait "${pid[$m]}" 2>/dev/null || true; done
    for _ in $(seq 1 50); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$tmp/pki/ca.crt" -H 'Authorization: Bearer t0ken' "https://127.0.0.1:$api_port/readyz")
        [ "$code" = 500 ] && break
        sleep 0.2
    done
    expect "readyz without the store" "500" "$code"
    for _ in $(seq 1 50); do # the store probe runs every 2 s
        body=$(curl -s --cacert "$tmp/pki/ca.crt" -H 'Authorization: Bearer t0ken' "https://127.0.0.1:$api_port/readyz" | tr '\n' ' ')
        [[ $body == *"[-]etcd "* ]] && break
        sleep 0.2
    done
    expect_match "readyz says which check" '\[-\]etcd failed: reason withheld .*readyz check failed' "$body"
    ;;
kubectl-store)
    start_store
    etcd_ctl_url=$etcd_urls
    start_api
    kubectl_suite
    ;;
python | python-store)
    if [ "$scenario" = python ]; then
        start_cluster e etcd --heartbeat-interval 50 --election-timeout 500
        etcd_urls=$(cluster_urls e)
    else
        start_store
    fi
    start_api
    "$py" "$here/python_client.py" "https://127.0.0.1:$api_port" "$tmp/pki"
    ;;
watchcache)
    start_etcd
    start_api --watch-cache-size=20 --watch-cache-fanout-batch=1
    "$py" "$here/watchcache.py" "127.0.0.1:$api_port" "$tmp/pki"
    "$py" "$here/watch_protobuf.py" "127.0.0.1:$api_port" "$tmp/pki"
    # Lists at resourceVersion=N and consistent lists (no resourceVersion)
    # from the cache once it has caught up; too new a version: 504.
    c=(curl -s --cacert "$tmp/pki/ca.crt" -H 'Authorization: Bearer t0ken')
    u="https://127.0.0.1:$api_port/api/v1/namespaces/default/configmaps"
    rv=$("${c[@]}" -X POST -H 'Content-Type: application/json' -d '{"metadata":{"name":"fresh1"}}' "$u" |
        "$py" -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["resourceVersion"])')
    expect_match "list at the write's resourceVersion sees it" '"name":"fresh1"' \
        "$("${c[@]}" "$u?resourceVersion=$rv")"
    "${c[@]}" -X POST -H 'Content-Type: application/json' -d '{"metadata":{"name":"fresh2"}}' "$u" >/dev/null
    expect_match "consistent list sees the last write" '"name":"fresh2"' "$("${c[@]}" "$u")"
    expect_match "list with a paging limit (store)" '"name":"fresh2"' "$("${c[@]}" "$u?limit=500")"
    out=$("${c[@]}" -w ' %{http_code}' "$u?resourceVersion=$((rv + 1000000))")
    expect_match "resourceVersion ahead of the store: 504" \
        "Too large resource version: $((rv + 1000000)), current: [0-9]+.* 504\$" "$out"
    ;;
multi)
    # The first API server starts while its store answers nothing (every peer stopped): the
    # creates of its bootstrap time out and are retried until every object exists. It used to
    # turn ready with the namespaces missing for good after such a failure, as `k8c up` once
    # did in CI while the peers were still electing.
    start_store
    kill -STOP "${pid[s0]}" "${pid[s1]}" "${pid[s2]}"
    etcd_urls="http://127.0.0.1:${cport[s0]}"
    start_api_nowait --request-timeout=1s
    for _ in $(seq 1 100); do
        grep -q 'bootstrap: cannot create' "$tmp/api.log" && break
        sleep 0.1
    done
    kill -CONT "${pid[s0]}" "${pid[s1]}" "${pid[s2]}"
    grep -q 'bootstrap: cannot create' "$tmp/api.log" || fail "the bootstrap never failed"
    wait_api
    expect "bootstrap retried until every namespace exists" \
        "default kube-node-lease kube-public kube-system" \
        "$(kubectl get ns -o jsonpath='{.items[*].metadata.name}')"
    # a write the store leaves unanswered past --request-timeout: upstream's 504
    kill -STOP "${pid[s0]}" "${pid[s1]}" "${pid[s2]}"
    out=$(kubectl create configmap stalled 2>&1 || true)
    kill -CONT "${pid[s0]}" "${pid[s1]}" "${pid[s2]}"
    expect "store silent past --request-timeout" \
        "error: failed to create configmap: Timeout: request did not complete within requested timeout - context deadline exceeded" "$out"
    wait_api
    # two API servers on one store: service IPs and node ports stay unique
    api_port2=$(free_port)
    start_apiserver "$bin/k8c-apiserver" "$api_port2" "$etcd_urls" "$tmp/api2.log" \
        --service-node-port-range=30000-30039
    creators=()
    for srv in "$api_port" "$api_port2"; do
        (for i in $(seq 1 15); do
            kubectl --server="https://127.0.0.1:$srv" --request-timeout=20s create service nodeport \
                "s-$srv-$i" --tcp=80 >/dev/null 2>&1 || echo "create failed s-$srv-$i"
        done) &
        creators+=($!)
    done
    wait "${creators[@]}"
    ips=$(kubectl get svc -o jsonpath='{range .items[*]}{.spec.clusterIP}{"\n"}{end}')
    ports=$(kubectl get svc -o jsonpath='{range .items[*]}{.spec.ports[0].nodePort}{"\n"}{end}' | grep -v '^$')
    expect "31 services" "31" "$(echo "$ips" | wc -l)"
    expect "cluster IPs unique" "$(echo "$ips" | wc -l)" "$(echo "$ips" | sort -u | wc -l)"
    expect "node ports unique" "$(echo "$ports" | wc -l)" "$(echo "$ports" | sort -u | wc -l)"
    # ?timeout= shortens the second server's --request-timeout (60 s): a write the stopped
    # store leaves unanswered gets the 504 after it, not after a minute
    kill -STOP "${pid[s0]}" "${pid[s1]}" "${pid[s2]}"
    t0=$SECONDS
    out=$(echo '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"late"}}' |
        kubectl --server="https://127.0.0.1:$api_port2" create --raw \
            "/api/v1/namespaces/default/configmaps?timeout=2s" -f - 2>&1 || true)
    took=$((SECONDS - t0))
    kill -CONT "${pid[s0]}" "${pid[s1]}" "${pid[s2]}"
    expect_match "?timeout=2s ends the request" "request did not complete within requested timeout" "$out"
    [ "$took" -lt 20 ] || fail "?timeout=2s answered after ${took}s"
    # A third API server on all three peers. With the raft leader stopped (as
    # a partition leaves it), writes go on through the other two: a peer that
    # hangs is noticed by keepalive pings, a follower's forward to the stopped
    # leader fails the same way, and UNAVAILABLE answers are tried again.
    # They used to hang until the leader came back.
    api_port3=$(free_port)
    start_other_api "$api_port3" "$(cluster_urls s)" api3
    # A watch through it lives on across every stop below and misses nothing:
    # the watch cache resumes its store watch on another peer.
    rv=$(kubectl --server="https://127.0.0.1:$api_port3" get configmaps \
        -o jsonpath='{.metadata.resourceVersion}')
    curl -sN --max-time 150 --cacert "$tmp/pki/ca.crt" -H 'Authorization: Bearer t0ken' \
        "https://127.0.0.1:$api_port3/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$rv" \
        >"$tmp/watch3.out" 2>&1 &
    watch3=$!
    for round in 1 2; do
        leader=""
        for _ in $(seq 1 50); do
            port=$(etcdctl --endpoints="$(cluster_urls s)" endpoint status 2>/dev/null |
                awk -F', ' '$5 == "true" { sub(".*:", "", $1); print $1 }')
            for i in 0 1 2; do [ "${cport[s$i]}" = "$port" ] && leader=s$i; done
            [ -n "$leader" ] && break
            sleep 0.2
        done
        [ -n "$leader" ] || fail "no store leader"
        kill -STOP "${pid[$leader]}"
        out=$(for i in 1 2 3; do
            kubectl --server="https://127.0.0.1:$api_port3" --request-timeout=40s create configmap \
                "part-$round-$i" 2>&1
        done)
        kill -CONT "${pid[$leader]}"
        expect "writes with the store leader $leader stopped (round $round)" \
            "configmap/part-$round-1 created configmap/part-$round-2 created configmap/part-$round-3 created" \
            "$(echo $out)"
        wait_api
    done
    # Each peer stopped in turn: one of them serves the API server's store watch.
    for i in 0 1 2; do
        kill -STOP "${pid[s$i]}"
        out=$(kubectl --server="https://127.0.0.1:$api_port3" --request-timeout=40s create configmap \
            "part-s$i" 2>&1)
        kill -CONT "${pid[s$i]}"
        expect "write with store peer s$i stopped" "configmap/part-s$i created" "$out"
        wait_api
    done
    for _ in $(seq 1 150); do
        grep -q '"name":"part-s2"' "$tmp/watch3.out" && break
        sleep 0.2
    done
    kill -0 "$watch3" 2>/dev/null || fail "the watch ended: $(tail -c 300 "$tmp/watch3.out")"
    kill "$watch3"
    wait "$watch3" 2>/dev/null || true
    expect "the watch saw every write" \
        "part-1-1 part-1-2 part-1-3 part-2-1 part-2-2 part-2-3 part-s0 part-s1 part-s2" \
        "$(grep -o '"name":"part-[^"]*"' "$tmp/watch3.out" | cut -d'"' -f4 | tr '\n' ' ' | sed 's/ $//')"
    ;;
retry)
    # A write whose answer is lost after the store applied it (the leader killed between commit
    # and reply): the API server tries it again on the next peer, where its compare fails.
    # lossy_proxy.py stands in front of etcd on two ports, the API server's two peers, and
    # drops one answer when armed. Upstream answers AlreadyExists, Conflict or NotFound for
    # the write that was made, and releases the cluster IP of a stored service.
    start_etcd
    target=${etcd_urls#http://} p1=$(free_port) p2=$(free_port)
    "$py" "$here/lossy_proxy.py" "$target" "$tmp/lose" "$p1" "$p2" >"$tmp/proxy.log" 2>&1 &
    pids+=($!)
    wait_listen "$p1"
    wait_listen "$p2"
    etcd_urls="http://127.0.0.1:$p1,http://127.0.0.1:$p2"
    start_api --v=1
    ectl() { ETCDCTL_API=3 etcdctl --endpoints="http://$target" "$@"; }
    # the holder an allocated cluster IP's key names ("" when the IP is free)
    ip_holder() { ectl get --print-value-only "/registry/k8c/serviceips/$1"; }
    # lose KEY: the next transaction on KEY is applied and its answer lost
    lose() { printf '%s' "/registry/$1" >"$tmp/lose"; }
    lost() { [ ! -e "$tmp/lose" ] || fail "$1: no answer was lost"; }
    lose configmaps/default/lost1
    expect "create, its answer lost" "configmap/lost1 created" "$(k create configmap lost1 --from-literal=a=b)"
    lost create
    kubectl get configmap lost1 -o json | sed 's/"a": "b"/"a": "c"/' >"$tmp/lost1.json"
    lose configmaps/default/lost1
    expect "replace, its answer lost" "configmap/lost1 replaced" "$(k replace -f "$tmp/lost1.json")"
    lost replace
    expect "the replaced value" "c" "$(kubectl get configmap lost1 -o jsonpath='{.data.a}')"
    lose services/specs/default/lost-svc
    expect "service create, its answer lost" "service/lost-svc created" \
        "$(k create service clusterip lost-svc --tcp=80)"
    lost "service create"
    ip=$(kubectl get service lost-svc -o jsonpath='{.spec.clusterIP}')
    expect "its cluster IP stays allocated" \
        "default/lost-svc/$(kubectl get service lost-svc -o jsonpath='{.metadata.uid}')" \
        "$(ip_holder "$ip")"
    lose services/specs/default/lost-svc
    expect "delete, its answer lost" 'service "lost-svc" deleted' "$(k delete service lost-svc --wait=false)"
    lost delete
    expect "its cluster IP released" "" "$(ip_holder "$ip")"
    expect_match "the API server saw them as lost" "answered by a lost try" "$(cat "$tmp/api.log")"
    # A release frees a value only while its key names the service (by uid; by name in a value
    # without one): a second release (two deletes racing, or one tried again) must not free what
    # another service took since, even one of the same name.
    k create service clusterip held-svc --tcp=80 >/dev/null
    k create service clusterip held-svc2 --tcp=80 >/dev/null
    k create service clusterip freed-svc --tcp=80 >/dev/null
    k create service clusterip legacy-svc --tcp=80 >/dev/null
    held=$(kubectl get service held-svc -o jsonpath='{.spec.clusterIP}')
    held2=$(kubectl get service held-svc2 -o jsonpath='{.spec.clusterIP}')
    freed=$(kubectl get service freed-svc -o jsonpath='{.spec.clusterIP}')
    legacy=$(kubectl get service legacy-svc -o jsonpath='{.spec.clusterIP}')
    ectl put "/registry/k8c/serviceips/$legacy" default/legacy-svc >/dev/null
    other=default/held-svc/00000000-0000-4000-8000-000000000000
    ectl put "/registry/k8c/serviceips/$held" "$other" >/dev/null
    ectl put "/registry/k8c/serviceips/$held2" default/other-svc >/dev/null
    k delete service held-svc held-svc2 freed-svc legacy-svc >/dev/null
    for _ in $(seq 1 50); do
        [ -z "$(ip_holder "$legacy")" ] && break
        sleep 0.1
    done
    expect "the deleted service's IP released" "" "$(ip_holder "$freed")"
    expect "an IP whose key names the service without a uid released" "" "$(ip_holder "$legacy")"
    expect "an IP another service of that name holds kept" "$other" "$(ip_holder "$held")"
    expect "an IP another service holds kept" "default/other-svc" "$(ip_holder "$held2")"
    # A create in the way of an object being deleted says so, as upstream's store does.
    k create configmap fin1 >/dev/null
    k patch configmap fin1 -p '{"metadata":{"finalizers":["example.com/hold"]}}' >/dev/null
    k delete configmap fin1 --wait=false >/dev/null
    expect "create over an object being deleted" \
        'error: failed to create configmap: object is being deleted: configmaps "fin1" already exists' \
        "$(k create configmap fin1)"
    k patch configmap fin1 --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]' >/dev/null
    # generateName: 20000 creates draw 5 random characters (27^5 names) each, about 14 of them
    # a name already taken, which upstream (RetryGenerateName, GA in 1.32) tries again with
    # another name, 8 times in all. None may fail. (Through a second API server straight on
    # etcd: the proxy is slow.)
    api_port2=$(free_port)
    start_other_api "$api_port2" "http://$target" api2
    echo '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"g-"}}' >"$tmp/gen.json"
    out=$(h2load -n 20000 -c 4 -m 16 -H "Authorization: Bearer t0ken" \
        -H "Content-Type: application/json" -d "$tmp/gen.json" \
        "https://127.0.0.1:$api_port2/api/v1/namespaces/default/configmaps" 2>&1)
    expect "20000 generateName creates" "status codes: 20000 2xx, 0 3xx, 0 4xx, 0 5xx" \
        "$(echo "$out" | grep '^status codes')"
    expect "20000 generated names" "20000" "$(ectl get --prefix --keys-only /registry/configmaps/default/g- | grep -c .)"
    ;;
hostile)
    start_etcd
    start_api --max-requests-inflight=50
    "$py" "$here/hostile.py" "127.0.0.1:$api_port" "$tmp/pki"
    # request headers over the limit (64 KiB) over HTTP/1.1: 431 (HTTP/2: hostile.py)
    big=$(head -c 40000 /dev/zero | tr '\0' a)
    expect "oversized headers over HTTP/1.1: 431" "431" "$(curl -s -o /dev/null \
        -w '%{http_code}' --http1.1 --cacert "$tmp/pki/ca.crt" -H 'Authorization: Bearer t0ken' \
        -H "X-A: $big" -H "X-B: $big" "https://127.0.0.1:$api_port/api/v1/pods")"
    # command lines: errors and exit code 2, as kube-apiserver's
    rc=0
    out=$("$bin/k8c-apiserver" stray --v=2 2>&1) || rc=$?
    expect "stray argument: exit 2" "2" "$rc"
    expect_match "stray argument refused" 'does not take any arguments, got \["stray" "--v=2"\]' "$out"
    rc=0
    out=$("$bin/k8c-apiserver" --no-such-flag 2>&1) || rc=$?
    expect "unknown flag: exit 2" "2" "$rc"
    expect_match "unknown flag refused" 'unknown flag: --no-such-flag' "$out"
    expect "still serving" "ok" "$(curl -s --cacert "$tmp/pki/ca.crt" -H 'Authorization: Bearer t0ken' "https://127.0.0.1:$api_port/healthz")"
    ;;
*)
    fail "unknown scenario $scenario"
    ;;
esac
check_sanitizers
echo "PASS: $scenario"
