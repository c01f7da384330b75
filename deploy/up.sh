#!/usr/bin/env bash
# Brings the local k8c control plane up on this machine: installs the Debian
# dependencies, builds (Release, in build/), and runs `k8c up`, which creates
# the PKI in ~/.k8c and starts three k8c-store peers over TLS and two
# k8c-apiservers on them, waits for /readyz and merges the k8c and k8c-2 contexts into
# ~/.kube/config. `build/bin/k8c status` and `build/bin/k8c down` manage it
# afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target k8c_cli k8c-store k8c-apiserver
exec ./build/bin/k8c up "$@"
