#!/usr/bin/env bash
# deps.sh installs what flexcp needs to build, test and demo on a fresh
# Debian 12 machine, and reserves hugepages. Idempotent: a second run on a
# ready machine changes nothing and does not touch the network.
#
# Environment:
#   HUGEPAGES_2M   number of 2 MB hugepages to keep reserved (default 1024)
#   DEPS_EXTRA     extra Debian packages to install (space separated)
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: must run as root (apt-get, hugepages, namespaces)" >&2
	exit 1
fi

pkgs=(
	build-essential pkg-config
	libdpdk-dev dpdk dpdk-dev   # libdpdk 22.11, PMDs, dpdk-testpmd
	iproute2 iptables ethtool tcpdump iperf3 mptcpd mptcpize procps psmisc
	iputils-ping curl bc python3
	nginx libnginx-mod-stream haproxy sockperf   # scripts/compare.sh: split proxies
	${DEPS_EXTRA:-}
)

missing=()
for p in "${pkgs[@]}"; do
	[ -z "$p" ] && continue
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	# nginx and haproxy (for `make compare`) would start system services
	# on install; flexcp's scripts start what they need in namespaces.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Go toolchain: the machine image ships it in /usr/local/go.
if ! command -v go >/dev/null 2>&1 && [ ! -x /usr/local/go/bin/go ]; then
	echo "deps: no Go toolchain found; install Go >= 1.26 into /usr/local/go" >&2
	exit 1
fi

# Hugepages: 2 MB pages reserved and hugetlbfs mounted.
want=${HUGEPAGES_2M:-1024}
nr=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
have=$(cat "$nr")
if [ "$have" -lt "$want" ]; then
	echo "$want" > "$nr"
	have=$(cat "$nr")
	if [ "$have" -lt "$want" ]; then
		echo "deps: could reserve only $have of $want 2 MB hugepages (memory fragmented?)" >&2
		[ "$have" -ge 256 ] || exit 1
	fi
fi
if ! grep -qs "^[^ ]* /dev/hugepages hugetlbfs" /proc/mounts; then
	mkdir -p /dev/hugepages
	mount -t hugetlbfs nodev /dev/hugepages
fi

# AF_XDP needs locked memory for its UMEM.
ulimit -l unlimited 2>/dev/null || true
exit 0
