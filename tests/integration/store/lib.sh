# Shared helpers for the store integration tests (sourced).
export ETCDCTL_API=3
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
