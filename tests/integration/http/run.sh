#!/usr/bin/env bash
# Integration tests of lib/http (k8c-http-test-server) with real clients.
# Usage: run.sh SCENARIO BIN_DIR PYTHON3
#   http1      curl --http1.1: keep-alive, POST, chunked streaming, HEAD, 404, 413
#   h2c        curl --http2-prior-knowledge and nghttp: concurrent streams, POST, streaming
#   tls        curl over TLS: ALPN h2 and http/1.1, client certificate subject, cert reload
#   h2load     h2load over h2c and TLS: every request succeeds
#   websocket  python websocket-client: text, binary, ping/pong, close
#   hostile    malformed and oversized input, slow and vanishing clients (hostile.py)
#   fanout     early flushes: a fan-out to 80 streams on two curl connections
set -euo pipefail
scenario=$1 bin=$2 py=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common.sh"
tmp=$(mktemp -d /tmp/k8c-http-test.XXXXXX)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

port=$(free_port)
start() {
    "$bin/k8c-http-test-server" --listen="127.0.0.1:$port" "$@" >"$tmp/server.log" 2>&1 &
    pid=$!
    wait_listen "$port" || { cat "$tmp/server.log"; exit 1; }
}
alive() {
    kill -0 "$pid" 2>/dev/null || { cat "$tmp/server.log"; fail "server died"; }
    expect "$1: server still serves" "hello" "$(curl -sS --max-time 5 "http://127.0.0.1:$port/hello")"
}
url=http://127.0.0.1:$port

case $scenario in
http1)
    start
    expect "GET" "hello" "$(curl -sS --http1.1 "$url/hello")"
    expect "protocol" "HTTP/1.1" "$(curl -sS --http1.1 "$url/proto")"
    # Two requests on one connection: curl says it re-used the connection.
    out=$(curl -sSv --http1.1 "$url/hello" "$url/hello" 2>&1)
    expect_match "keep-alive" "Re-using existing connection" "$out"
    expect "POST echo" "some body" "$(curl -sS --http1.1 --data-binary 'some body' "$url/echo")"
    head -c 1000000 /dev/urandom > "$tmp/blob"
    curl -sS --http1.1 --data-binary @"$tmp/blob" "$url/echo" -o "$tmp/blob.out"
    cmp "$tmp/blob" "$tmp/blob.out" || fail "1 MB echo differs"
    echo "ok: 1 MB POST echoed"
    hdrs=$(curl -sS --http1.1 -D - -o "$tmp/stream.out" "$url/stream?n=5")
    expect_match "chunked encoding" "[Tt]ransfer-[Ee]ncoding: chunked" "$hdrs"
    expect "chunked body" "$(printf 'line %d\n' 0 1 2 3 4)" "$(cat "$tmp/stream.out")"
    out=$(curl -sS --http1.1 -I "$url/hello" | tr -d '\r')
    expect_match "HEAD" "content-length: 6" "${out,,}"
    expect "404" "404" "$(curl -sS --http1.1 -o /dev/null -w '%{http_code}' "$url/nothing")"
    head -c 5000000 /dev/zero > "$tmp/big"
    expect "413 past the body limit" "413" \
        "$(curl -sS --http1.1 --data-binary @"$tmp/big" -o /dev/null -w '%{http_code}' "$url/echo" || true)"
    curl -sS --http1.1 "$url/big?bytes=20000000" -o "$tmp/big.out"
    expect "20 MB streamed with backpressure" "20000000" "$(stat -c %s "$tmp/big.out")"
    # HTTP/1.0: no chunking, the close ends the body.
    expect "HTTP/1.0 stream" "$(printf 'line %d\n' 0 1 2)" "$(curl -sS --http1.0 "$url/stream?n=3")"
    alive http1
    ;;
h2c)
    start
    expect "GET" "hello" "$(curl -sS --http2-prior-knowledge "$url/hello")"
    expect "protocol" "HTTP/2" "$(curl -sS --http2-prior-knowledge "$url/proto")"
    # curl --http2 on cleartext asks for Upgrade: h2c; we answer in HTTP/1.1.
    expect "upgrade ignored" "hello" "$(curl -sS --http2 "$url/hello")"
    expect "POST echo" "h2 body" "$(curl -sS --http2-prior-knowledge --data-binary 'h2 body' "$url/echo")"
    # 40 headers of 60-byte values (mixed-case names): the server keeps every
    # one, names lower-cased, in order, past the first 256-byte header block.
    hargs=() want=""
    for i in $(seq 1 40); do
        v=$(printf 'v%02d-%057d' "$i" "$i")
        hargs+=(-H "X-Hdr-$i: $v")
        want+="x-hdr-$i: $v"$'\n'
    done
    got=$(curl -sS --http2-prior-knowledge "${hargs[@]}" "$url/headers" | grep '^x-hdr-')
    expect "40 request headers over h2" "${want%$'\n'}" "$got"
    got=$(curl -sS --http1.1 "${hargs[@]}" "$url/headers" | grep '^x-hdr-')
    expect "40 request headers over HTTP/1.1" "${want%$'\n'}" "$got"
    out=$(nghttp -n -m 100 -s "$url/hello" 2>&1)
    expect "nghttp: 100 concurrent streams" "100" "$(echo "$out" | grep -c '/hello' || true)"
    out=$(nghttp -v "$url/stream?n=3" 2>&1)
    expect_match "nghttp streaming" "line 2" "$out"
    expect_match "END_STREAM" "END_STREAM" "$out"
    head -c 3000000 /dev/urandom > "$tmp/blob"
    curl -sS --http2-prior-knowledge --data-binary @"$tmp/blob" "$url/echo" -o "$tmp/blob.out"
    cmp "$tmp/blob" "$tmp/blob.out" || fail "3 MB h2 echo differs"
    echo "ok: 3 MB POST over h2c echoed"
    curl -sS --http2-prior-knowledge "$url/big?bytes=30000000" -o "$tmp/big.out"
    expect "30 MB over h2 with flow control" "30000000" "$(stat -c %s "$tmp/big.out")"
    alive h2c
    ;;
tls)
    make_certs "$tmp/pki" "/CN=alice/O=system:masters/O=dev"
    start --tls-cert="$tmp/pki/server.crt" --tls-key="$tmp/pki/server.key" \
        --client-ca="$tmp/pki/ca.crt"
    surl=https://localhost:$port
    c=(curl -sS --cacert "$tmp/pki/ca.crt" --resolve "localhost:$port:127.0.0.1")
    expect "ALPN h2" "2" "$("${c[@]}" --http2 -o /dev/null -w '%{http_version}' "$surl/hello")"
    expect "ALPN http/1.1" "1.1" "$("${c[@]}" --http1.1 -o /dev/null -w '%{http_version}' "$surl/hello")"
    expect "no client certificate" "cn= o=" "$("${c[@]}" "$surl/whoami")"
    expect "client certificate subject" "cn=alice o=system:masters,dev" \
        "$("${c[@]}" --cert "$tmp/pki/client.crt" --key "$tmp/pki/client.key" "$surl/whoami")"
    # A certificate from another CA is refused at the handshake.
    make_certs "$tmp/other"
    if "${c[@]}" --cert "$tmp/other/client.crt" --key "$tmp/other/client.key" "$surl/whoami" 2>/dev/null; then
        fail "a client certificate from an unknown CA was accepted"
    fi
    echo "ok: unknown client CA refused"
    serial1=$(echo | openssl s_client -connect "127.0.0.1:$port" 2>/dev/null | openssl x509 -noout -serial)
    openssl x509 -req -in "$tmp/pki/server.csr" -CA "$tmp/pki/ca.crt" -CAkey "$tmp/pki/ca.key" \
        -CAcreateserial -out "$tmp/pki/server.crt" -days 2 -extfile "$tmp/pki/server.ext" 2>/dev/null
    expect "reload" "reloaded" "$("${c[@]}" -X POST "$surl/-/reload")"
    serial2=$(echo | openssl s_client -connect "127.0.0.1:$port" 2>/dev/null | openssl x509 -noout -serial)
    [ -n "$serial1" ] && [ "$serial1" != "$serial2" ] || fail "certificate not reloaded ($serial1 / $serial2)"
    echo "ok: certificate reloaded without restart"
    expect "still serving after reload" "hello" "$("${c[@]}" "$surl/hello")"
    ;;
h2load)
    make_certs "$tmp/pki"
    start --tls-cert="$tmp/pki/server.crt" --tls-key="$tmp/pki/server.key"
    out=$(h2load -n 20000 -c 10 -m 20 "https://127.0.0.1:$port/hello" 2>&1)
    expect_match "h2load TLS h2" "20000 total, 20000 started, 20000 done, 20000 succeeded" "$out"
    out=$(h2load -n 2000 -c 10 --h1 "https://127.0.0.1:$port/hello" 2>&1)
    expect_match "h2load TLS http/1.1" "2000 total, 2000 started, 2000 done, 2000 succeeded" "$out"
    kill "$pid"; wait "$pid" || true; pid=
    start
    out=$(h2load -n 20000 -c 10 -m 20 "$url/hello" 2>&1)
    expect_match "h2load h2c" "20000 total, 20000 started, 20000 done, 20000 succeeded" "$out"
    out=$(h2load -n 2000 -c 10 --h1 "$url/hello" 2>&1)
    expect_match "h2load cleartext http/1.1" "2000 total, 2000 started, 2000 done, 2000 succeeded" "$out"
    ;;
websocket)
    start
    "$py" "$here/ws_check.py" "127.0.0.1:$port"
    alive websocket
    ;;
fanout)
    # Each tick sends 40 lines of 1000 bytes to each connection's streams, more
    # than --flush-early: a connection is flushed when the sends move on to
    # the other one, and streams ended meanwhile are closed at the next
    # regular flush. Every stream must get all its lines, whole and in order.
    # (nghttp: curl 7.88 --parallel fails over h2c.) A line is one send and
    # fits a DATA frame, so nghttp prints whole lines, streams interleaved
    # (windows large enough that flow control splits none).
    start --flush-early=16384
    nghttp -w 20 -W 24 -m 40 "$url/sub?n=20&bytes=1000" >"$tmp/a" 2>"$tmp/a.err" &
    pid_a=$!
    nghttp -w 20 -W 24 -m 40 "$url/sub?n=20&bytes=1000" >"$tmp/b" 2>"$tmp/b.err" &
    pid_b=$!
    wait "$pid_a" || { cat "$tmp/a.err"; fail "nghttp a failed"; }
    wait "$pid_b" || { cat "$tmp/b.err"; fail "nghttp b failed"; }
    bad=$(cat "$tmp/a" "$tmp/b" | awk '
        length($0) != 999 || $1 != "sub" || $3 != "line" { bad++; next }
        { if ($4 != next_line[$2] + 0) bad++; next_line[$2] = $4 + 1 }
        END { n = 0; for (id in next_line) { n++; if (next_line[id] != 20) bad++ }
              if (n != 80) bad++; print bad + 0 }')
    expect "80 streams with all 20 lines, whole and in order" 0 "$bad"
    stats=$(curl -sS --http2-prior-knowledge "$url/stats")
    expect_match "early flushes happened" "early=[1-9]" "$stats"
    expect_match "no stream ended in error" "closed_early=0 " "$stats"
    echo "stats: $stats"
    alive fanout
    ;;
hostile)
    start --setup-timeout=1s --max-body=1Mi
    "$py" "$here/hostile.py" "$port"
    alive hostile
    expect "no stream left open" "streams=1" "$(curl -sS "$url/stats" | cut -d' ' -f1)"
    ;;
*)
    fail "unknown scenario $scenario"
    ;;
esac
check_sanitizers
echo "PASS: $scenario"
