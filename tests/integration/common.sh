# Helpers shared by the integration test scripts (sourced).
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
# expect NAME EXPECTED ACTUAL
expect() {
    if [ "$2" != "$3" ]; then
        printf 'FAIL: %s\n  expected: %q\n  actual:   %q\n' "$1" "$2" "$3" >&2
        exit 1
    fi
    echo "ok: $1"
}
# expect_match NAME REGEX ACTUAL
expect_match() {
    if ! [[ "$3" =~ $2 ]]; then
        printf 'FAIL: %s\n  expected to match: %s\n  actual: %q\n' "$1" "$2" "$3" >&2
        exit 1
    fi
    echo "ok: $1"
}
# free_port: a TCP port nothing uses now (freeport.py: below the ephemeral range).
free_port() {
    /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/freeport.py"
}
# wait_listen PORT|unix:PATH: waits (10 s at most) until it accepts connections.
wait_listen() {
    local target=$1
    for _ in $(seq 1 100); do
        if [[ $target == unix:* ]]; then
            [[ -S ${target#unix:} ]] && return 0
        elif /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1',$target),0.2)" \
            2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "nothing listens on $target" >&2
    return 1
}
# make_certs DIR [CLIENT_SUBJECT]: ca.crt/key, server.crt/key for localhost and
# 127.0.0.1, client.crt/key (default subject /CN=k8c-test-client).
make_certs() {
    local d=$1 subj=${2:-/CN=k8c-test-client}
    mkdir -p "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 1 \
        -subj "/CN=k8c-test-ca" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout "$d/server.key" -out "$d/server.csr" \
        -subj "/CN=localhost" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$d/server.ext"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
        -out "$d/server.crt" -days 1 -extfile "$d/server.ext" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout "$d/client.key" -out "$d/client.csr" \
        -subj "$subj" 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' > "$d/client.ext"
    openssl x509 -req -in "$d/client.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
        -out "$d/client.crt" -days 1 -extfile "$d/client.ext" 2>/dev/null
}

# test_env PREFIX: a fresh $tmp (/tmp/PREFIX.XXXXXX) and an empty pids list. On
# exit every process in pids is stopped and $tmp removed (kept with keep=1); when
# a command fails, the tails of $tmp/*.log go to stderr.
test_env() {
    tmp=$(mktemp -d "/tmp/$1.XXXXXX")
    pids=()
    trap test_cleanup EXIT
    trap 'show_logs' ERR
}
# stop_pids: stops every process in pids and waits for each.
stop_pids() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
test_cleanup() {
    stop_pids
    if [ "${keep:-0}" = 0 ]; then rm -rf "$tmp"; fi
}
show_logs() { tail -n 30 "$tmp"/*.log >&2 || true; }
# no_sanitizer_reports: fails on any AddressSanitizer, LeakSanitizer or UBSan report in
# $tmp/*.log (the servers' stderr; leaks are reported when a server exits).
no_sanitizer_reports() {
    if grep -l -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$tmp"/*.log 2>/dev/null; then
        grep -h -A30 -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$tmp"/*.log | head -80 >&2
        fail "sanitizer report in a server log"
    fi
    echo "ok: no sanitizer report in the servers' logs"
}
# check_sanitizers: stops every process in pids, then no_sanitizer_reports.
check_sanitizers() {
    stop_pids
    pids=()
    no_sanitizer_reports
}

# start_etcd: a one-member etcd (the etcd on PATH) with its data in $tmp/etcd and
# its log in $tmp/etcd.log; returns once it accepts connections. Its client URL
# is in $etcd_urls, its pid appended to pids.
start_etcd() {
    local cp pp
    cp=$(free_port) pp=$(free_port)
    etcd --data-dir "$tmp/etcd" --listen-client-urls "http://127.0.0.1:$cp" \
        --advertise-client-urls "http://127.0.0.1:$cp" --listen-peer-urls "http://127.0.0.1:$pp" \
        --initial-advertise-peer-urls "http://127.0.0.1:$pp" \
        --initial-cluster "default=http://127.0.0.1:$pp" >"$tmp/etcd.log" 2>&1 &
    pids+=($!)
    wait_listen "$cp"
    etcd_urls="http://127.0.0.1:$cp"
}

# start_cluster NAME BIN [FLAGS...]: a three-member cluster of BIN (k8c-store or
# etcd) on loopback, started with FLAGS too (heartbeat, election timeout, token):
# members NAME0..NAME2, their data in $tmp/NAMEi, their logs appended to
# $tmp/NAMEi.log; returns once each accepts client connections. Sets cport[NAMEi],
# pport[NAMEi] and pid[NAMEi] (global associative arrays) and appends the pids
# to pids.
start_cluster() {
    local s=$1 bin=$2 cluster="" i
    shift 2
    declare -gA cport pport pid
    for i in 0 1 2; do
        cport[$s$i]=$(free_port)
        pport[$s$i]=$(free_port)
        cluster+="${cluster:+,}$s$i=http://127.0.0.1:${pport[$s$i]}"
    done
    for i in 0 1 2; do
        "$bin" --name "$s$i" --data-dir "$tmp/$s$i" \
            --listen-client-urls "http://127.0.0.1:${cport[$s$i]}" \
            --advertise-client-urls "http://127.0.0.1:${cport[$s$i]}" \
            --listen-peer-urls "http://127.0.0.1:${pport[$s$i]}" \
            --initial-advertise-peer-urls "http://127.0.0.1:${pport[$s$i]}" \
            --initial-cluster "$cluster" "$@" >>"$tmp/$s$i.log" 2>&1 &
        pid[$s$i]=$!
        pids+=($!)
    done
    for i in 0 1 2; do wait_listen "${cport[$s$i]}"; done
}
# cluster_urls NAME: the client URLs of start_cluster's NAME, comma-separated.
cluster_urls() {
    local i urls=""
    for i in 0 1 2; do urls+="${urls:+,}http://127.0.0.1:${cport[$1$i]}"; done
    echo "$urls"
}

# start_apiserver BIN PORT ETCD_URLS LOG [FLAGS...]: BIN (k8c-apiserver) on
# 127.0.0.1:PORT over the stores at ETCD_URLS, serving $tmp/pki's server
# certificate (make_certs), trusting its CA for client certificates, service IPs
# from 198.19.0.0/16, and FLAGS; its output appended to LOG. Its pid is appended
# to pids (the last one); returns once PORT accepts connections.
start_apiserver() {
    local bin=$1 port=$2 urls=$3 log=$4
    shift 4
    "$bin" --etcd-servers="$urls" --bind-address=127.0.0.1 --secure-port="$port" \
        --tls-cert-file="$tmp/pki/server.crt" --tls-private-key-file="$tmp/pki/server.key" \
        --client-ca-file="$tmp/pki/ca.crt" --service-cluster-ip-range=198.19.0.0/16 "$@" \
        >>"$log" 2>&1 &
    pids+=($!)
    wait_listen "$port"
}
# wait_apiserver_ready PORT PID LOG [CURL_ARGS...]: waits (60 s at most) until
# https://127.0.0.1:PORT/readyz answers 2xx to curl trusting $tmp/pki/ca.crt with
# CURL_ARGS (the credentials); readyz needs the store to have a leader. Returns 1,
# with LOG's tail on stderr, if it does not or the process PID exits first.
wait_apiserver_ready() {
    local port=$1 api=$2 log=$3
    shift 3
    for _ in $(seq 1 600); do
        curl -sf --cacert "$tmp/pki/ca.crt" "$@" "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 &&
            return 0
        kill -0 "$api" 2>/dev/null || break
        sleep 0.1
    done
    echo "k8c-apiserver on port $port not ready; its log:" >&2
    tail -n 20 "$log" >&2
    return 1
}

# write_kubeconfig PORT: $tmp/kubeconfig for the API server on 127.0.0.1:PORT as
# make_certs' client certificate, exported as KUBECONFIG; HOME=$tmp keeps
# kubectl's discovery cache there.
write_kubeconfig() {
    cat >"$tmp/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- cluster: {certificate-authority: $tmp/pki/ca.crt, server: "https://127.0.0.1:$1"}
  name: k8c
contexts:
- context: {cluster: k8c, user: admin}
  name: k8c
current-context: k8c
users:
- name: admin
  user: {client-certificate: $tmp/pki/client.crt, client-key: $tmp/pki/client.key}
KC
    export KUBECONFIG=$tmp/kubeconfig
    export HOME=$tmp
}
