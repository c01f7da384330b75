#!/usr/bin/env bash
# Runs every k8c test on a fresh machine: installs the Debian dependencies,
# checks formatting, configures an ASan+UBSan -Werror build (clang, with
# libFuzzer targets), builds, and runs ctest (unit, integration, e2e, fuzz).
#   K8C_BUILD_DIR   build folder (default: build-test)
#   K8C_FUZZ_SECONDS  seconds per fuzz target (default 20)
#   CTEST_ARGS      extra ctest arguments (e.g. -R unit)
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install-deps.sh

build=${K8C_BUILD_DIR:-build-test}

# Formatting is part of the contract: every tracked C file matches .clang-format.
if command -v clang-format >/dev/null && [ -d .git ]; then
  files=$(git ls-files '*.c' '*.h')
  if [ -n "$files" ]; then
    bad=$(echo "$files" | xargs clang-format --dry-run 2>&1 | grep -c 'warning:' || true)
    if [ "$bad" -gt 0 ]; then
      echo "$files" | xargs clang-format --dry-run 2>&1 | grep 'warning:' | cut -d: -f1 | sort -u >&2
      echo "test.sh: $bad lines differ from .clang-format (run clang-format -i on the files above)" >&2
      exit 1
    fi
  fi
fi

CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DK8C_SANITIZE=ON -DK8C_WERROR=ON -DK8C_FUZZ=ON \
  -DK8C_FUZZ_SECONDS="${K8C_FUZZ_SECONDS:-20}" >/dev/null
cmake --build "$build" -j"$(nproc)"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$build"
ctest --output-on-failure -j2 ${CTEST_ARGS:-}
