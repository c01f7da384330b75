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
# free_port: a TCP port nothing listens on now.
free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
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
