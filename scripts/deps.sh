#!/usr/bin/env bash
# deps.sh - install the Debian packages hashspace needs, when some are missing.
# As root it runs apt-get; otherwise it names the command to run and fails.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libzmq3-dev libxxhash-dev zlib1g-dev libssl-dev libsodium-dev libmurmurhash-dev
  libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev libinih-dev libhiredis-dev redis-server
  libcmocka-dev libmemcached-dev python3 python3-zmq wamerican gnuplot-nox
)
if [ "${HS_DEPS_SANITIZERS:-0}" = 1 ]; then
  packages+=(clang libclang-rt-14-dev)
fi
# Debian packages: scripts/build-debs.sh, make deb.
if [ "${HS_DEPS_PACKAGING:-0}" = 1 ]; then
  packages+=(debhelper dh-python dpkg-dev fakeroot lintian)
fi
# promtool (Debian's prometheus package: the server too, 96 MB, not started
# here) checks packaging/prometheus in test_prometheus_kit. Opt-in.
if [ "${HS_DEPS_PROMETHEUS:-0}" = 1 ]; then
  packages+=(prometheus)
fi
# bench/peers_cluster (hashspace against NATS and RabbitMQ): the servers and
# their C clients. Opt-in, so that `make test` does not install RabbitMQ.
if [ "${HS_DEPS_PEERS:-0}" = 1 ]; then
  packages+=(nats-server libnats-dev rabbitmq-server librabbitmq-dev)
fi

# The dashboard's browser test (tests/integration/test_dashboard.py): headless
# chromium driven over the DevTools protocol. Opt-in (chromium is large);
# without it that test is skipped and says so. CI sets it.
if [ "${HS_DEPS_BROWSER:-0}" = 1 ]; then
  packages+=(chromium python3-websocket)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "hashspace: missing Debian packages: ${missing[*]}" >&2
  echo "hashspace: run as root: apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "hashspace: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
