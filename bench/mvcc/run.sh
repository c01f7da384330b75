#!/bin/bash
# Runs the store/mvcc micro-benchmark in a scratch dir (removed on exit).
# Usage: bench/mvcc/run.sh [build-dir]   (needs the bench_mvcc target built)
set -euo pipefail
build=${1:-build}
bin="$build/bin/bench_mvcc"
[ -x "$bin" ] || { echo "build $bin first: cmake --build $build --target bench_mvcc" >&2; exit 1; }
dir=$(mktemp -d /tmp/k8c-bench-mvcc-XXXXXX)
trap 'rm -rf "$dir"' EXIT
"$bin" "$dir/db"
