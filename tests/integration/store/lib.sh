# Shared helpers for the store integration tests (sourced).
export ETCDCTL_API=3
here_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here_lib/../common.sh"

# store_ports: client and peer ports (cport[i], pport[i]) and $cluster for
# three peers s0, s1, s2 on loopback.
store_ports() {
    for i in 0 1 2; do cport[$i]=$(free_port); pport[$i]=$(free_port); done
    cluster="s0=http://127.0.0.1:${pport[0]},s1=http://127.0.0.1:${pport[1]},s2=http://127.0.0.1:${pport[2]}"
}
# stop_peers [PREFIX [SUFFIX]]: SIGTERM to s0..s2; each must exit 0 (checked
# as "PREFIXsI exit status after SIGTERMSUFFIX").
stop_peers() {
    local i rc
    for i in 0 1 2; do kill -TERM "${pids[$i]}"; done
    for i in 0 1 2; do
        rc=0
        wait "${pids[$i]}" || rc=$?
        expect "${1:-}s$i exit status after SIGTERM${2:-}" 0 "$rc"
    done
    pids=()
}
# store_start I [FLAGS...]: starts peer sI of $STORE with its data in $tmp/sI
# and its log in $tmp/sI.log (50 ms heartbeat, 500 ms election); pids[I].
store_start() {
    local i=$1
    shift
    "$STORE" --name "s$i" --data-dir "$tmp/s$i" \
        --listen-client-urls "http://127.0.0.1:${cport[$i]}" \
        --advertise-client-urls "http://127.0.0.1:${cport[$i]}" \
        --listen-peer-urls "http://127.0.0.1:${pport[$i]}" \
        --initial-advertise-peer-urls "http://127.0.0.1:${pport[$i]}" \
        --initial-cluster "$cluster" --heartbeat-interval 50 --election-timeout 500 "$@" \
        >>"$tmp/s$i.log" 2>&1 &
    pids[$i]=$!
}
