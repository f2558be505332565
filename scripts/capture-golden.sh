#!/usr/bin/env bash
# capture-golden.sh - record golden captures of real Linux MPTCP traffic.
#
# Brings the test topology (scripts/netns.sh) up with kernel forwarding in
# fcp-p, and for each scenario runs tcpdump on p1, p2 and p3 (one pcap per
# interface, Ethernet frames, full snaplen, filter "tcp") while a Linux MPTCP
# client in fcp-c talks to a Linux server in fcp-s (scripts/golden_peer.py).
# The pcaps land in translate/testdata/<scenario>-<iface>.pcap; what each
# one shows is in translate/testdata/README.md.
#
# Usage: scripts/capture-golden.sh [scenario...]
#   scenarios: mptcp-v4-basic mptcp-v4-serverclose mptcp-v4-csum
#              mptcp-v6-basic tcp-fallback mptcp-v4-rst (default: all)
# Environment:
#   GOLDEN_OUT=DIR            write the pcaps to DIR (default translate/testdata)
#   GOLDEN_KEEP_TOPOLOGY=1    leave the namespaces up afterwards
#
# Requires root, iproute2, ethtool, tcpdump and python3. Every packet stays
# inside the namespaces fcp-c, fcp-p, fcp-s (198.18.0.0/15, 2001:db8::/32).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
readonly NETNS="$ROOT/scripts/netns.sh"
readonly PEER="$ROOT/scripts/golden_peer.py"
OUT=${GOLDEN_OUT:-$ROOT/translate/testdata}
readonly OUT
readonly IFACES=(p1 p2 p3)
readonly PORT=5201
readonly ALL_SCENARIOS=(mptcp-v4-basic mptcp-v4-serverclose mptcp-v4-csum
	mptcp-v6-basic tcp-fallback mptcp-v4-rst)

die() {
	echo "capture-golden.sh: $*" >&2
	exit 1
}

log() {
	echo "capture-golden.sh: $*" >&2
}

[[ $(id -u) -eq 0 ]] || die "must run as root"
for t in ip ethtool tcpdump python3 timeout; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found"
done

WORK=$(mktemp -d /tmp/capture-golden.XXXXXX)
readonly WORK
# PIDs this script started and has not reaped yet.
PIDS=()

cleanup() {
	local rc=$? pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [[ ${GOLDEN_KEEP_TOPOLOGY:-0} != 1 ]]; then
		"$NETNS" down >/dev/null || rc=1
	fi
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget() {
	local pid=$1 keep=() p
	for p in "${PIDS[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# start_tcpdump IFACE PCAP ERRFILE starts tcpdump in fcp-p, waits until it
# is listening, and leaves its PID in TCPDUMP_PID.
start_tcpdump() {
	local iface=$1 pcap=$2 err=$3 pid
	# ip netns exec execs tcpdump, so $! is tcpdump's own PID. -Z root keeps
	# it from dropping privileges before it opens the output file.
	ip netns exec fcp-p tcpdump -i "$iface" -n -s 0 -U -Z root -w "$pcap" tcp >/dev/null 2>"$err" &
	pid=$!
	PIDS+=("$pid")
	TCPDUMP_PID=$pid
	local i
	for i in $(seq 100); do
		grep -q 'listening on' "$err" && return 0
		kill -0 "$pid" 2>/dev/null || die "tcpdump on $iface exited: $(cat "$err")"
		sleep 0.05
	done
	die "tcpdump on $iface did not start: $(cat "$err")"
}

stop_tcpdump() {
	local pid=$1
	kill -INT "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	forget "$pid"
}

# warm_up resolves every neighbour on both paths so the captures begin with
# the connection, not with ARP/NDP delays.
warm_up() {
	local src dst i
	for src in 198.18.1.2 198.18.2.2 2001:db8:1::2 2001:db8:2::2; do
		if [[ $src == *:* ]]; then dst=2001:db8:3::2; else dst=198.18.3.2; fi
		for i in $(seq 10); do
			ip netns exec fcp-c ping -q -c 1 -W 1 -I "$src" "$dst" >/dev/null && break
			[[ $i == 10 ]] && die "no path from $src to $dst"
			sleep 0.2
		done
	done
}

# run_scenario NAME FAMILY CSUM SERVER_ARGS... -- CLIENT_ARGS...
run_scenario() {
	local name=$1 fam=$2 csum=$3
	shift 3
	local sargs=() cargs=()
	while [[ $1 != -- ]]; do
		sargs+=("$1")
		shift
	done
	shift
	cargs=("$@")
	local dir="$WORK/$name" addr
	mkdir -p "$dir"
	if [[ $fam == 4 ]]; then addr=198.18.3.2; else addr=2001:db8:3::2; fi

	log "$name: topology"
	"$NETNS" down >/dev/null
	NETNS_KERNEL_FORWARD=1 "$NETNS" up >/dev/null
	ip netns exec fcp-c sysctl -qw net.mptcp.checksum_enabled="$csum"
	ip netns exec fcp-s sysctl -qw net.mptcp.checksum_enabled="$csum"
	warm_up

	local -A tpid
	local i
	for i in "${IFACES[@]}"; do
		start_tcpdump "$i" "$dir/$i.pcap" "$dir/$i.err"
		tpid[$i]=$TCPDUMP_PID
	done
	sleep 0.5

	log "$name: server ${sargs[*]}"
	ip netns exec fcp-s timeout 30 python3 "$PEER" server --addr "$addr" --port "$PORT" \
		--ready "$dir/ready" "${sargs[@]}" &
	local spid=$!
	PIDS+=("$spid")
	for i in $(seq 100); do
		[[ -e $dir/ready ]] && break
		kill -0 "$spid" 2>/dev/null || die "$name: server exited early"
		sleep 0.05
	done
	[[ -e $dir/ready ]] || die "$name: server did not start"

	log "$name: client ${cargs[*]}"
	if [[ " ${cargs[*]} " == *" --close never "* ]]; then
		# Killed mid-transfer: no timeout wrapper, so $! is python itself.
		ip netns exec fcp-c python3 "$PEER" client --addr "$addr" --port "$PORT" \
			--ready "$dir/client-ready" "${cargs[@]}" &
		local cpid=$!
		PIDS+=("$cpid")
		for i in $(seq 200); do
			[[ -e $dir/client-ready ]] && break
			kill -0 "$cpid" 2>/dev/null || die "$name: client exited early"
			sleep 0.05
		done
		[[ -e $dir/client-ready ]] || die "$name: client did not get going within 10 s"
		# Mid-transfer: the client keeps writing and has unread data.
		sleep 0.3
		log "$name: SIGKILL client (pid $cpid)"
		kill -KILL "$cpid"
		wait "$cpid" 2>/dev/null || true
		forget "$cpid"
	else
		ip netns exec fcp-c timeout 30 python3 "$PEER" client --addr "$addr" --port "$PORT" \
			"${cargs[@]}" || die "$name: client failed"
	fi
	wait "$spid" || die "$name: server failed"
	forget "$spid"
	# Let the close handshakes and their last ACKs go by.
	sleep 1.5
	for i in "${IFACES[@]}"; do
		stop_tcpdump "${tpid[$i]}"
	done
	for i in "${IFACES[@]}"; do
		cp "$dir/$i.pcap" "$OUT/$name-$i.pcap"
		log "$name: $OUT/$name-$i.pcap $(stat -c %s "$dir/$i.pcap") bytes"
	done
}

scenario() {
	case "$1" in
	mptcp-v4-basic)
		run_scenario "$1" 4 0 --recv 200000 --send 200000 --close client -- \
			--send 200000 --recv 200000 --close client --wait-join 2
		;;
	mptcp-v4-serverclose)
		run_scenario "$1" 4 0 --recv 100000 --send 100000 --close server -- \
			--send 100000 --recv 100000 --close server --wait-join 2
		;;
	mptcp-v4-csum)
		run_scenario "$1" 4 1 --recv 150000 --send 150000 --close client -- \
			--send 150000 --recv 150000 --close client --wait-join 2
		;;
	mptcp-v6-basic)
		run_scenario "$1" 6 0 --recv 150000 --send 150000 --close client -- \
			--send 150000 --recv 150000 --close client --wait-join 2
		;;
	tcp-fallback)
		run_scenario "$1" 4 0 --proto tcp --recv 40000 --send 40000 --close client -- \
			--send 40000 --recv 40000 --close client --wait-join 0.5
		;;
	mptcp-v4-rst)
		run_scenario "$1" 4 0 --send 30000 --close never -- \
			--send 20000 --close never --wait-join 2
		;;
	*) die "unknown scenario '$1' (known: ${ALL_SCENARIOS[*]})" ;;
	esac
}

mkdir -p "$OUT"
log "kernel $(uname -r), tcpdump $(tcpdump --version 2>&1 | head -n1 | awk '{print $3}')"
if [[ $# -eq 0 ]]; then set -- "${ALL_SCENARIOS[@]}"; fi
for s in "$@"; do
	scenario "$s"
done
log "done"
