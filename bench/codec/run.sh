#!/usr/bin/env bash
# Codec benchmark: JSON and Kubernetes protobuf encode/decode of a typical Pod, the JSON
# parser alone, and python3's json.loads on the same document, in one run.
# Builds a release (no sanitizer) tree in build-bench-codec/ unless BUILD_DIR is set.
# Usage: bench/codec/run.sh [seconds-per-case]   Prints key=value lines, then a table, then the
# encode+decode rates against the goals (with malloc and with arena decoding, from wall and CPU
# time).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench-codec}
secs=${1:-1}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DK8C_SANITIZE=OFF >/dev/null
cmake --build "$build" --target bench_codec -j2 >/dev/null
tmp=$(mktemp -d /tmp/bench-codec.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$build/bench/bench_codec" "$here/pod.json" "$secs" "$tmp/pod.json" | tee "$tmp/out"
/usr/bin/python3 - "$tmp/pod.json" "$secs" <<'PY' | tee -a "$tmp/out"
import json, sys, time
text = open(sys.argv[1]).read()
secs = float(sys.argv[2])
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < secs:
    for _ in range(100):
        json.loads(text)
    n += 100
t = time.perf_counter() - t0
print("case=python3_json_loads ops_per_sec=%.0f ns_per_op=%.0f" % (n / t, t * 1e9 / n))
PY
/usr/bin/python3 - "$tmp/out" <<'PY'
import re, sys
rows = {}
for line in open(sys.argv[1]):
    kv = dict(re.findall(r"(\w+)=([\w.]+)", line))
    if "case" in kv:
        rows[kv["case"]] = kv
parse = float(rows["json_parse_only"]["ns_per_op"])
print("\n%-24s %12s %10s %14s %10s %12s" % ("case", "ops/s", "ns/op", "bytes alloc/op",
                                             "allocs/op", "vs parse"))
for name, kv in rows.items():
    print("%-24s %12s %10s %14s %10s %11.2fx" % (name, kv["ops_per_sec"], kv["ns_per_op"],
          kv.get("bytes_alloc_per_op", "-"), kv.get("allocs_per_op", "-"),
          float(kv["ns_per_op"]) / parse))
je = float(rows["json_encode"]["ns_per_op"]) + float(rows["json_decode"]["ns_per_op"])
pe = float(rows["protobuf_encode"]["ns_per_op"]) + float(rows["protobuf_decode"]["ns_per_op"])
print("\nJSON encode+decode: %.0f Pods/s (goal 50000)   protobuf encode+decode: %.0f Pods/s "
      "(goal 300000)" % (1e9 / je, 1e9 / pe))
# Decoding into an arena (k8c_arena_protobuf_allocator: no malloc per field, one release), and
# the same rates from CPU time: what one core does, however busy the machine is otherwise.
def ns(name, key):
    return float(rows[name].get(key, rows[name]["ns_per_op"]))
for label, key in (("wall time", "ns_per_op"), ("CPU time", "cpu_ns_per_op")):
    print("%-9s  JSON %7.0f Pods/s, %7.0f with arena decoding   protobuf %7.0f Pods/s, %7.0f "
          "with arena decoding" % (label,
                                   1e9 / (ns("json_encode", key) + ns("json_decode", key)),
                                   1e9 / (ns("json_encode", key) + ns("json_decode_arena", key)),
                                   1e9 / (ns("protobuf_encode", key) + ns("protobuf_decode", key)),
                                   1e9 / (ns("protobuf_encode", key) +
                                          ns("protobuf_decode_arena", key))))
PY
