#!/usr/bin/env bash
# Installs every build and runtime dependency of k8c from Debian packages.
# Idempotent: the first run installs, later runs only check and return.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
  # libraries the tree links
  libraft-dev libuv1-dev liblmdb-dev libnghttp2-dev libprotobuf-c-dev
  protobuf-c-compiler libssl-dev libyaml-dev libhttp-parser-dev libwslay-dev
  libcmocka-dev libjemalloc-dev liblz4-dev
  # real peers the tests and benchmarks talk to
  nghttp2-client curl openssl python3 python3-grpcio python3-protobuf
  protobuf-compiler python3-kubernetes etcd-server etcd-client nginx-light
  iproute2 nftables
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "install-deps: installing ${missing[*]}" >&2
# Package maintainer scripts must not start daemons (etcd, nginx) on this host.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  created_policy=1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
[ $created_policy -eq 1 ] && $SUDO rm -f "$policy"
exit 0
