#!/usr/bin/env bash
# Integration tests of lib/grpc against real gRPC (python3-grpcio).
# Usage: run.sh SCENARIO BIN_DIR PROTO_ROOT PYTHON3
#   py-h2c | py-tls      grpcio client -> our C server (k8c-grpc-echo)
#   c-h2c | c-tls | c-unix   our C client (k8c-grpc-echo-client) -> grpcio server
#   c-self               our C client -> our C server, over TLS
#   garbage              lying length prefix and other bad input via nghttp; server keeps serving
#   metrics              /metrics, /healthz, /livez, /readyz on the C server, scraped with curl
set -euo pipefail
scenario=$1 bin=$2 proto=$3 py=$4
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common.sh"
tmp=$(mktemp -d /tmp/k8c-grpc-test.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

# Starts our C echo server; extra args are passed through.
start_c_server() {
    local port=$1
    shift
    "$bin/k8c-grpc-echo" --listen="127.0.0.1:$port" --not-ready-file="$tmp/not-ready" "$@" \
        2> "$tmp/server.log" &
    server_pid=$!
    pids+=($server_pid)
    wait_listen "$port"
}

# Stops our C server with SIGTERM and checks it shut down cleanly: exit status
# 0 and no sanitizer report (leaks, memory errors, undefined behaviour).
stop_c_server() {
    kill -TERM "$server_pid"
    local rc=0
    wait "$server_pid" || rc=$?
    if [[ $rc != 0 ]] || grep -qE "AddressSanitizer|LeakSanitizer|runtime error" "$tmp/server.log"; then
        echo "FAIL: server did not shut down cleanly (exit $rc)" >&2
        cat "$tmp/server.log" >&2
        exit 1
    fi
    echo "ok   server shut down cleanly"
}

# Starts the grpcio echo server on ADDRESS (extra args: cert key [client-ca]).
start_py_server() {
    local address=$1
    shift
    PYTHONPATH=$here "$py" "$here/py_echo_server.py" "$proto" "$tmp/pyserver" "$address" "$@" \
        > "$tmp/pyserver.out" 2> "$tmp/pyserver.log" &
    pids+=($!)
    for _ in $(seq 1 100); do
        grep -q READY "$tmp/pyserver.out" 2>/dev/null && return 0
        sleep 0.1
    done
    cat "$tmp/pyserver.log" >&2
    return 1
}

show_logs() {
    echo "--- server log (tail)" >&2
    tail -n 40 "$tmp/server.log" "$tmp/pyserver.log" 2>/dev/null >&2 || true
}
trap 'show_logs; cleanup' EXIT

case $scenario in
py-h2c)
    port=$(free_port)
    start_c_server "$port"
    PYTHONPATH=$here "$py" "$here/py_echo_client.py" "$proto" "$tmp/pyclient" "127.0.0.1:$port"
    stop_c_server
    ;;
py-tls)
    make_certs "$tmp/pki"
    port=$(free_port)
    start_c_server "$port" --tls-cert="$tmp/pki/server.crt" --tls-key="$tmp/pki/server.key"
    PYTHONPATH=$here "$py" "$here/py_echo_client.py" "$proto" "$tmp/pyclient" \
        "localhost:$port" "$tmp/pki/ca.crt"
    stop_c_server
    ;;
c-h2c)
    port=$(free_port)
    start_py_server "127.0.0.1:$port"
    "$bin/k8c-grpc-echo-client" --target="127.0.0.1:$port"
    # Nothing listening: the call fails with UNAVAILABLE, no hang, no crash.
    closed=$(free_port)
    if "$bin/k8c-grpc-echo-client" --target="127.0.0.1:$closed" --only-unary > "$tmp/refused.out" 2>&1; then
        echo "FAIL: call to a closed port succeeded" >&2
        exit 1
    fi
    grep -q "status=UNAVAILABLE" "$tmp/refused.out" || { cat "$tmp/refused.out"; exit 1; }
    echo "ok   closed port -> UNAVAILABLE"
    ;;
c-tls)
    make_certs "$tmp/pki"
    port=$(free_port)
    # The grpcio server requires a client certificate signed by the CA (mutual TLS).
    start_py_server "127.0.0.1:$port" "$tmp/pki/server.crt" "$tmp/pki/server.key" "$tmp/pki/ca.crt"
    "$bin/k8c-grpc-echo-client" --target="localhost:$port" --ca="$tmp/pki/ca.crt" \
        --cert="$tmp/pki/client.crt" --key="$tmp/pki/client.key"
    # Without the client certificate the handshake must fail (UNAVAILABLE), cleanly.
    if "$bin/k8c-grpc-echo-client" --target="localhost:$port" --ca="$tmp/pki/ca.crt" \
        --only-unary > "$tmp/nocert.out" 2>&1; then
        echo "FAIL: call without client certificate succeeded" >&2
        exit 1
    fi
    grep -q UNAVAILABLE "$tmp/nocert.out" || { cat "$tmp/nocert.out"; exit 1; }
    echo "ok   mutual TLS enforced: call without client certificate failed with UNAVAILABLE"
    ;;
c-self)
    # Our client against our server (how k8c components talk to each other), over TLS.
    make_certs "$tmp/pki"
    port=$(free_port)
    start_c_server "$port" --tls-cert="$tmp/pki/server.crt" --tls-key="$tmp/pki/server.key"
    "$bin/k8c-grpc-echo-client" --target="localhost:$port" --ca="$tmp/pki/ca.crt"
    stop_c_server
    ;;
c-unix)
    sock=$tmp/echo.sock
    start_py_server "unix:$sock"
    wait_listen "unix:$sock"
    "$bin/k8c-grpc-echo-client" --target="unix:$sock"
    ;;
garbage)
    port=$(free_port)
    start_c_server "$port"
    "$py" "$here/garbage.py" "$port"
    stop_c_server
    ;;
metrics)
    port=$(free_port)
    start_c_server "$port"
    PYTHONPATH=$here "$py" "$here/metrics_check.py" "$proto" "$tmp/pyclient" "$port" "$tmp/not-ready"
    stop_c_server
    ;;
*)
    echo "unknown scenario $scenario" >&2
    exit 2
    ;;
esac
trap cleanup EXIT
echo "scenario $scenario passed"
