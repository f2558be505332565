#!/usr/bin/env bash
# netns.sh - the flexcp test topology (docs: /work/shared/DESIGN.md section 7).
#
#   fcp-c (client)             fcp-p (proxy)                fcp-s (server)
#   c1 198.18.1.2/24  <---->  p1 198.18.1.1/24
#      2001:db8:1::2/64          2001:db8:1::1/64
#   c2 198.18.2.2/24  <---->  p2 198.18.2.1/24
#      2001:db8:2::2/64          2001:db8:2::1/64
#                             p3 198.18.3.1/24  <---->  s1 198.18.3.2/24
#                                2001:db8:3::1/64          2001:db8:3::2/64
#
# Usage: scripts/netns.sh up|down|status
#
# Environment:
#   NETNS_PREFIX=fcp        name the namespaces PREFIX-c, PREFIX-p, PREFIX-s
#                           (default fcp), so that several copies of the
#                           topology can exist side by side (one per test
#                           run; the integration tests read FCP_NETNS_PREFIX
#                           and pass it here). Interface names and addresses
#                           are the same in every copy: they live inside the
#                           namespaces.
#   NETNS_QUEUES=N          create the veths with N rx and N tx queues
#                           (default 1). Changing N needs `down` first.
#   NETNS_KERNEL_FORWARD=1  enable IPv4/IPv6 forwarding in fcp-p, so the
#                           kernel routes between the paths (golden captures,
#                           kernel baselines). Default 0: flexcp owns p1, p2,
#                           p3 through DPDK and the kernel must not forward.
#   NETNS_DELAY_PATH2=1     insert a bridge namespace PREFIX-d on access
#                           path 2: c2 <-> d1 (PREFIX-d) and d2 (PREFIX-d)
#                           <-> p2, d1 and d2 without addresses. Path 2
#                           carries nothing until a bridge runs in PREFIX-d,
#                           normally the delay element:
#                             ip netns exec PREFIX-d bin/flexcp-delay run \
#                               --a d1 --b d2 --control /run/PREFIX-delay.sock
#                           (direction ab is client to proxy). Default 0:
#                           c2 <-> p2 directly, as drawn above. Switching
#                           needs `down` first.
#   NETNS_DELAY_PATH1=1     the same on access path 1: namespace PREFIX-e,
#                           c1 <-> e1 and e2 <-> p1 (default 0).
#   NETNS_PROXY_ADDRS=0|1   give p1, p2, p3 kernel IP addresses (1) or none
#                           at all, not even an IPv6 link-local (0). Default:
#                           1 when NETNS_KERNEL_FORWARD=1, else 0, because
#                           flexcp answers ARP/NDP for .1 / ::1 itself.
#
# `up` is idempotent: it creates what is missing and resets addresses,
# routes, rules, MPTCP endpoints and sysctls to the values above, so it can
# also switch between the kernel-forwarding and the flexcp mode. `down`
# removes the three namespaces (and with them every veth, route and
# endpoint); it succeeds when nothing exists. `status` prints the topology
# and exits 0 only when it is complete.
#
# Requires root, iproute2 (ip, with `ip mptcp`) and ethtool.
set -euo pipefail

NETNS_PREFIX=${NETNS_PREFIX:-fcp}
[[ $NETNS_PREFIX =~ ^[a-z][a-z0-9]{0,7}$ ]] || { echo "netns.sh: NETNS_PREFIX must be 1-8 lowercase letters/digits, got '$NETNS_PREFIX'" >&2; exit 1; }
readonly NS_C=$NETNS_PREFIX-c NS_P=$NETNS_PREFIX-p NS_S=$NETNS_PREFIX-s
readonly NS_D=$NETNS_PREFIX-d NS_E=$NETNS_PREFIX-e
readonly ALL_NS=("$NS_C" "$NS_P" "$NS_S")
DELAY_PATH2=${NETNS_DELAY_PATH2:-0}
[[ $DELAY_PATH2 == 0 || $DELAY_PATH2 == 1 ]] || { echo "netns.sh: NETNS_DELAY_PATH2 must be 0 or 1, got '$DELAY_PATH2'" >&2; exit 1; }
DELAY_PATH1=${NETNS_DELAY_PATH1:-0}
[[ $DELAY_PATH1 == 0 || $DELAY_PATH1 == 1 ]] || { echo "netns.sh: NETNS_DELAY_PATH1 must be 0 or 1, got '$DELAY_PATH1'" >&2; exit 1; }
# Policy-routing table for path 2 in fcp-c.
readonly PATH2_TABLE=102

die() {
	echo "netns.sh: $*" >&2
	exit 1
}

need() {
	command -v "$1" >/dev/null 2>&1 || die "$1 not found; install $2"
}

nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

ns_exists() {
	[[ -e /run/netns/$1 ]] || ip netns list 2>/dev/null | awk '{print $1}' | grep -qx -- "$1"
}

preflight() {
	[[ $(id -u) -eq 0 ]] || die "must run as root (namespaces, veths, sysctls)"
	need ip iproute2
	need ethtool ethtool
	ip mptcp limits show >/dev/null 2>&1 || die "'ip mptcp' unsupported: need iproute2 >= 5.8 and a kernel with CONFIG_MPTCP"
}

# link_queues NS DEV prints the numrxqueues of DEV in NS.
link_queues() {
	nsx "$1" ip -d link show dev "$2" | sed -n 's/.*numrxqueues \([0-9]*\).*/\1/p' | head -n1
}

# mkveth NS_A DEV_A NS_B DEV_B creates the veth pair unless it exists.
mkveth() {
	local na=$1 da=$2 nb=$3 db=$4
	if nsx "$na" ip link show dev "$da" >/dev/null 2>&1; then
		nsx "$nb" ip link show dev "$db" >/dev/null 2>&1 ||
			die "$na/$da exists but its peer $nb/$db does not; run '$0 down' first"
		local q
		q=$(link_queues "$na" "$da")
		[[ $q == "$QUEUES" ]] ||
			die "$na/$da has $q queues, NETNS_QUEUES=$QUEUES; run '$0 down' first"
		return 0
	fi
	# A stray end left in the other namespace would make `ip link add` fail.
	if nsx "$nb" ip link show dev "$db" >/dev/null 2>&1; then
		nsx "$nb" ip link del dev "$db"
	fi
	ip link add "$da" netns "$na" numtxqueues "$QUEUES" numrxqueues "$QUEUES" type veth \
		peer name "$db" netns "$nb" numtxqueues "$QUEUES" numrxqueues "$QUEUES" ||
		die "cannot create veth $na/$da <-> $nb/$db"
}

# offloads_off NS DEV turns off every offload that would make the frames on
# the veth differ from what a real wire carries: segmentation (TSO/GSO/USO),
# coalescing (GRO, LRO, GRO-list), and checksum offload (so captured TCP
# checksums are complete and valid). Features a kernel does not know are
# skipped one by one.
offloads_off() {
	local ns=$1 dev=$2 f
	nsx "$ns" ethtool -K "$dev" rx off tx off sg off tso off gso off gro off >/dev/null 2>&1 ||
		die "ethtool -K $dev (in $ns) failed"
	for f in lro rx-gro-list rx-udp-gro-forwarding tx-udp-segmentation tx-gso-list; do
		nsx "$ns" ethtool -K "$dev" "$f" off >/dev/null 2>&1 || true
	done
}

sysctl_set() {
	local ns=$1 kv=$2
	nsx "$ns" sysctl -qw "$kv" >/dev/null || die "sysctl $kv in $ns failed"
}

# addrs NS DEV V4/LEN V6/LEN sets exactly these addresses on DEV.
addrs() {
	local ns=$1 dev=$2 v4=$3 v6=$4
	nsx "$ns" ip addr replace "$v4" dev "$dev"
	nsx "$ns" ip -6 addr replace "$v6" dev "$dev" nodad
}

# noaddrs NS DEV removes every kernel address from DEV, including the IPv6
# link-local, and keeps the kernel from generating a new one.
noaddrs() {
	local ns=$1 dev=$2
	nsx "$ns" ip link set dev "$dev" addrgenmode none
	nsx "$ns" ip addr flush dev "$dev"
	nsx "$ns" ip -6 addr flush dev "$dev"
}

# wait_ready waits until every veth end is operationally up (the kernel
# turns the carrier on asynchronously, up to a second after `link set up`;
# until then it drops what is sent) and no IPv6 address is still
# tentative.
wait_ready() {
	local d i ends=("$NS_C:c1" "$NS_C:c2" "$NS_P:p1" "$NS_P:p2" "$NS_P:p3" "$NS_S:s1")
	[[ $DELAY_PATH2 == 1 ]] && ends+=("$NS_D:d1" "$NS_D:d2")
	[[ $DELAY_PATH1 == 1 ]] && ends+=("$NS_E:e1" "$NS_E:e2")
	for d in "${ends[@]}"; do
		for i in $(seq 100); do
			[[ $(nsx "${d%%:*}" cat "/sys/class/net/${d#*:}/operstate") == up ]] &&
				! nsx "${d%%:*}" ip -6 addr show dev "${d#*:}" tentative | grep -q inet6 &&
				break
			[[ $i == 100 ]] && die "${d%%:*}/${d#*:} did not come up within 5 s"
			sleep 0.05
		done
	done
}

# bridged NS CDEV B1 B2 PDEV puts an access path through bridge namespace
# NS: CDEV (client) <-> B1 and B2 <-> PDEV (proxy), B1 and B2 up without
# addresses, for the delay element to bridge.
bridged() {
	local ns=$1 cdev=$2 b1=$3 b2=$4 pdev=$5 d
	mkveth "$NS_C" "$cdev" "$ns" "$b1"
	mkveth "$ns" "$b2" "$NS_P" "$pdev"
	for d in "$b1" "$b2"; do
		offloads_off "$ns" "$d"
		noaddrs "$ns" "$d"
		nsx "$ns" ip link set dev "$d" up
	done
}

up() {
	preflight
	QUEUES=${NETNS_QUEUES:-1}
	[[ $QUEUES =~ ^[1-9][0-9]*$ ]] || die "NETNS_QUEUES must be a positive integer, got '$QUEUES'"
	local fwd=${NETNS_KERNEL_FORWARD:-0}
	[[ $fwd == 0 || $fwd == 1 ]] || die "NETNS_KERNEL_FORWARD must be 0 or 1, got '$fwd'"
	local paddrs=${NETNS_PROXY_ADDRS:-$fwd}
	[[ $paddrs == 0 || $paddrs == 1 ]] || die "NETNS_PROXY_ADDRS must be 0 or 1, got '$paddrs'"
	if [[ $fwd == 1 && $paddrs == 0 ]]; then
		die "NETNS_KERNEL_FORWARD=1 needs NETNS_PROXY_ADDRS=1 (the kernel must own the next hops)"
	fi

	local ns all=("${ALL_NS[@]}")
	[[ $DELAY_PATH2 == 1 ]] && all+=("$NS_D")
	[[ $DELAY_PATH1 == 1 ]] && all+=("$NS_E")
	for ns in "${all[@]}"; do
		ns_exists "$ns" || ip netns add "$ns" || die "cannot create namespace $ns"
		nsx "$ns" ip link set dev lo up
		# Plain, predictable L3 in the test namespaces.
		sysctl_set "$ns" net.ipv4.conf.all.rp_filter=0
		sysctl_set "$ns" net.ipv4.conf.default.rp_filter=0
		sysctl_set "$ns" net.ipv6.conf.all.accept_ra=0
		sysctl_set "$ns" net.ipv6.conf.default.accept_ra=0
		# No duplicate address detection on these private links, so the
		# link-local addresses are usable at once (nodad for the rest).
		sysctl_set "$ns" net.ipv6.conf.all.accept_dad=0
		sysctl_set "$ns" net.ipv6.conf.default.accept_dad=0
	done

	if [[ $DELAY_PATH1 == 1 ]]; then
		bridged "$NS_E" c1 e1 e2 p1
	else
		mkveth "$NS_C" c1 "$NS_P" p1
	fi
	if [[ $DELAY_PATH2 == 1 ]]; then
		bridged "$NS_D" c2 d1 d2 p2
	else
		mkveth "$NS_C" c2 "$NS_P" p2
	fi
	mkveth "$NS_P" p3 "$NS_S" s1

	local d
	for d in c1 c2; do offloads_off "$NS_C" "$d"; done
	for d in p1 p2 p3; do offloads_off "$NS_P" "$d"; done
	offloads_off "$NS_S" s1

	# Client and server ends.
	addrs "$NS_C" c1 198.18.1.2/24 2001:db8:1::2/64
	addrs "$NS_C" c2 198.18.2.2/24 2001:db8:2::2/64
	addrs "$NS_S" s1 198.18.3.2/24 2001:db8:3::2/64

	# Proxy ends.
	for d in p1 p2 p3; do
		if [[ $paddrs == 1 ]]; then
			nsx "$NS_P" ip link set dev "$d" addrgenmode eui64
			# A forwarding IPv6 router sends its neighbour solicitations
			# from a link-local address and sends none without one. After
			# NETNS_PROXY_ADDRS=0 there is none; a down/up (below) makes
			# the kernel generate it again.
			if ! nsx "$NS_P" ip -6 addr show dev "$d" scope link | grep -q inet6; then
				nsx "$NS_P" ip link set dev "$d" down
			fi
		else
			noaddrs "$NS_P" "$d"
		fi
	done
	if [[ $paddrs == 1 ]]; then
		addrs "$NS_P" p1 198.18.1.1/24 2001:db8:1::1/64
		addrs "$NS_P" p2 198.18.2.1/24 2001:db8:2::1/64
		addrs "$NS_P" p3 198.18.3.1/24 2001:db8:3::1/64
	fi
	local v
	for v in ipv4.ip_forward=$fwd ipv6.conf.all.forwarding=$fwd; do
		sysctl_set "$NS_P" "net.$v"
	done

	for d in c1 c2; do nsx "$NS_C" ip link set dev "$d" up; done
	for d in p1 p2 p3; do nsx "$NS_P" ip link set dev "$d" up; done
	nsx "$NS_S" ip link set dev s1 up

	# fcp-c: default by path 1; whatever is sourced from path 2's address
	# leaves by c2 (table $PATH2_TABLE).
	nsx "$NS_C" ip route replace default via 198.18.1.1 dev c1 onlink
	nsx "$NS_C" ip -6 route replace default via 2001:db8:1::1 dev c1 onlink
	nsx "$NS_C" ip route replace 198.18.2.0/24 dev c2 src 198.18.2.2 table "$PATH2_TABLE"
	nsx "$NS_C" ip route replace default via 198.18.2.1 dev c2 onlink table "$PATH2_TABLE"
	nsx "$NS_C" ip -6 route replace 2001:db8:2::/64 dev c2 table "$PATH2_TABLE"
	nsx "$NS_C" ip -6 route replace default via 2001:db8:2::1 dev c2 onlink table "$PATH2_TABLE"
	while nsx "$NS_C" ip rule del from 198.18.2.2 table "$PATH2_TABLE" 2>/dev/null; do :; done
	while nsx "$NS_C" ip -6 rule del from 2001:db8:2::2 table "$PATH2_TABLE" 2>/dev/null; do :; done
	nsx "$NS_C" ip rule add from 198.18.2.2 table "$PATH2_TABLE" pref 1000
	nsx "$NS_C" ip -6 rule add from 2001:db8:2::2 table "$PATH2_TABLE" pref 1000

	# fcp-s: everything back through the proxy.
	nsx "$NS_S" ip route replace default via 198.18.3.1 dev s1 onlink
	nsx "$NS_S" ip -6 route replace default via 2001:db8:3::1 dev s1 onlink

	# MPTCP: both ends enabled; the client opens one extra subflow from
	# path 2's address (v4 endpoint for v4 connections, v6 for v6).
	sysctl_set "$NS_C" net.mptcp.enabled=1
	sysctl_set "$NS_S" net.mptcp.enabled=1
	# Linux >= 6.12: after MP_CAPABLE SYNs time out twice and the plain
	# retry succeeds, the kernel declares a blackhole and sends no
	# MP_CAPABLE for blackhole_timeout (default 3600 s). On a loaded test
	# machine one lost SYN pair would silently turn every later
	# connection into plain TCP (seen in a 30-minute soak): keep MPTCP on.
	if [[ -e /proc/sys/net/mptcp/blackhole_timeout ]]; then
		sysctl_set "$NS_C" net.mptcp.blackhole_timeout=0
	fi
	nsx "$NS_C" ip mptcp endpoint flush
	nsx "$NS_C" ip mptcp limits set subflows 2 add_addr_accepted 2
	nsx "$NS_C" ip mptcp endpoint add 198.18.2.2 dev c2 subflow
	nsx "$NS_C" ip mptcp endpoint add 2001:db8:2::2 dev c2 subflow

	wait_ready

	echo "netns.sh: up (queues=$QUEUES kernel_forward=$fwd proxy_addrs=$paddrs delay_path1=$DELAY_PATH1 delay_path2=$DELAY_PATH2)"
}

down() {
	[[ $(id -u) -eq 0 ]] || die "must run as root"
	need ip iproute2
	local ns rc=0 all=("${ALL_NS[@]}" "$NS_D" "$NS_E")
	for ns in "${all[@]}"; do
		if ns_exists "$ns"; then
			ip netns del "$ns" || {
				echo "netns.sh: cannot delete namespace $ns" >&2
				rc=1
			}
		fi
	done
	# Deleting a namespace destroys its veth ends, which takes the peers
	# with them; wait until the kernel has finished.
	for _ in $(seq 50); do
		local left=0
		for ns in "${all[@]}"; do ns_exists "$ns" && left=1; done
		[[ $left == 0 ]] && break
		sleep 0.1
	done
	for ns in "${all[@]}"; do
		ns_exists "$ns" && die "namespace $ns still exists"
	done
	[[ $rc == 0 ]] || exit 1
	echo "netns.sh: down"
}

status() {
	[[ $(id -u) -eq 0 ]] || die "must run as root"
	need ip iproute2
	local ns ok=1 d
	for ns in "${ALL_NS[@]}"; do
		if ! ns_exists "$ns"; then
			echo "$ns: absent"
			ok=0
			continue
		fi
		echo "== $ns"
		nsx "$ns" ip -br addr show
		nsx "$ns" ip route show
		nsx "$ns" ip -6 route show 2>/dev/null | grep -v '^fe80::/64\|^multicast\|^local' || true
	done
	if [[ $ok == 1 ]]; then
		for d in "$NS_C:c1" "$NS_C:c2" "$NS_P:p1" "$NS_P:p2" "$NS_P:p3" "$NS_S:s1"; do
			nsx "${d%%:*}" ip link show dev "${d#*:}" >/dev/null 2>&1 || {
				echo "${d%%:*}/${d#*:}: absent"
				ok=0
			}
		done
		echo "== $NS_C rules, MPTCP"
		nsx "$NS_C" ip rule show | grep "lookup $PATH2_TABLE" || ok=0
		nsx "$NS_C" ip -6 rule show | grep "lookup $PATH2_TABLE" || ok=0
		nsx "$NS_C" ip mptcp limits show
		nsx "$NS_C" ip mptcp endpoint show
		echo "== $NS_P forwarding: ipv4 $(nsx "$NS_P" sysctl -n net.ipv4.ip_forward)" \
			"ipv6 $(nsx "$NS_P" sysctl -n net.ipv6.conf.all.forwarding)"
	fi
	if [[ $ok == 1 ]]; then
		echo "netns.sh: topology is up"
	else
		echo "netns.sh: topology is incomplete" >&2
		exit 1
	fi
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
*)
	echo "usage: $0 up|down|status" >&2
	exit 2
	;;
esac
