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
    no_sanitizer_reports
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
# start_peers [FLAGS...]: s0..s2 on new ports (store_ports) with empty data dirs. free_port
# only says a port was free when it looked: a peer whose port another process took
# meanwhile exits at once ("bind: address already in use"), and then all three start again
# on other ports (3 tries).
start_peers() {
    local try i alive up
    for try in 1 2 3; do
        store_ports
        for i in 0 1 2; do rm -rf "$tmp/s$i"; store_start "$i" "$@"; done
        # a peer serves clients only once raft started (and listens on its peer port)
        for _ in $(seq 1 200); do
            alive=1 up=1
            for i in 0 1 2; do
                kill -0 "${pids[$i]}" 2>/dev/null || alive=0
                (: </dev/tcp/127.0.0.1/"${cport[$i]}") 2>/dev/null || up=0
            done
            if [ "$alive" = 0 ] || [ "$up" = 1 ]; then break; fi
            sleep 0.1
        done
        if [ "$alive" = 1 ]; then return 0; fi
        echo "a peer did not start (try $try): $(grep -h 'cannot start' "$tmp"/s?.log | tail -1)" >&2
        for i in 0 1 2; do kill "${pids[$i]}" 2>/dev/null || true; done
        for i in 0 1 2; do wait "${pids[$i]}" 2>/dev/null || true; done
    done
    fail "the peers did not start"
}
