#!/usr/bin/env bash
# wire.sh - flexcp-pktgen's wire mode, end to end: the standard topology
# (scripts/netns.sh), flexcp in PREFIX-p on AF_XDP, and the generator
# playing the model's MPTCP client from c1 and c2 (PREFIX-c) and its TCP
# server from s1 (PREFIX-s), once per payload size. Everything it creates
# (namespaces, the flexcp process) is removed at the end, also on failure.
#
# Usage: scripts/wire.sh            (make bench-wire runs it)
#
# Environment:
#   NETNS_PREFIX=fcpw   namespace prefix (PREFIX-c, PREFIX-p, PREFIX-s)
#   SECS=5              data phase per run, seconds
#   SIZES="64 1432"     payload sizes, one run each (1432 is the largest a
#                       1500-byte MTU carries once flexcp adds its 28-byte
#                       DSS: the model's client sends MSS-sized segments)
#   CONNS=64 SUBFLOWS=2 connections x subflows
#   DIRECTION=both      c2s, s2c or both
#   DRIVER=af_xdp       the generator's PMD: af_xdp or af_packet
#   GEN_CPU=0           the generator's CPU; flexcp's worker takes CPU 1
#                       (its EAL main thread CPU 0, idle)
#   IDLE=poll           flexcp's idle mode (poll or adaptive)
#   OUT=results         where wire-<size>.json/.md go
#   PKTGEN_ARGS=...     more flags for flexcp-pktgen wire
#   BASELINE=kernel     instead of flexcp, the kernel of PREFIX-p forwards
#                       (NETNS_KERNEL_FORWARD=1 plus routes for the model's
#                       addresses) and the model runs untranslated
#                       (flexcp-pktgen wire --baseline: connections
#                       established in place, data only); reports
#                       wire-kernel-<size>.json/.md
set -euo pipefail

cd "$(dirname "$0")/.."
export NETNS_PREFIX=${NETNS_PREFIX:-fcpw}
SECS=${SECS:-5}
SIZES=${SIZES:-64 1432}
CONNS=${CONNS:-64}
SUBFLOWS=${SUBFLOWS:-2}
DIRECTION=${DIRECTION:-both}
DRIVER=${DRIVER:-af_xdp}
GEN_CPU=${GEN_CPU:-0}
IDLE=${IDLE:-poll}
OUT=${OUT:-results}
PKTGEN_ARGS=${PKTGEN_ARGS:-}
BASELINE=${BASELINE:-}
[[ -z $BASELINE || $BASELINE == kernel ]] || { echo "wire.sh: BASELINE must be empty or kernel, got '$BASELINE'" >&2; exit 1; }

die() {
	echo "wire.sh: $*" >&2
	exit 1
}

[[ $(id -u) -eq 0 ]] || die "must run as root (namespaces, AF_XDP, hugepages)"
[[ -x bin/flexcp && -x bin/flexcp-pktgen ]] || die "bin/flexcp and bin/flexcp-pktgen missing: make build"
[[ $IDLE == poll || $IDLE == adaptive ]] || die "IDLE must be poll or adaptive, got '$IDLE'"

work=$(mktemp -d /tmp/flexcp-wire.XXXXXX)
flexcp_pid=
cleanup() {
	local rc=$?
	if [[ -n $flexcp_pid ]] && kill -0 "$flexcp_pid" 2>/dev/null; then
		kill -TERM "$flexcp_pid" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 "$flexcp_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$flexcp_pid" 2>/dev/null || true
	fi
	bash scripts/netns.sh down >/dev/null || rc=1
	if [[ $rc != 0 && -f $work/flexcp.log ]]; then
		echo "wire.sh: flexcp's log:" >&2
		tail -n 40 "$work/flexcp.log" >&2
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash scripts/netns.sh down >/dev/null
if [[ $BASELINE == kernel ]]; then
	NETNS_KERNEL_FORWARD=1 bash scripts/netns.sh up
	for ((j = 0; j < SUBFLOWS; j++)); do
		ip -n "$NETNS_PREFIX-p" route replace "198.18.$((32 * j)).0/24" via "198.18.$((j % 2 + 1)).2"
	done
	ip -n "$NETNS_PREFIX-p" route replace 198.19.0.0/24 via 198.18.3.2
	mkdir -p "$OUT"
	for s in $SIZES; do
		# shellcheck disable=SC2086
		bin/flexcp-pktgen wire --baseline --netns-prefix "$NETNS_PREFIX" --duration "${SECS}s" --connections "$CONNS" \
			--subflows "$SUBFLOWS" --size "$s" --direction "$DIRECTION" --driver "$DRIVER" --gen-cpu "$GEN_CPU" \
			--json "$OUT/wire-kernel-$s.json" --md "$OUT/wire-kernel-$s.md" $PKTGEN_ARGS
	done
	exit 0
fi
bash scripts/netns.sh up

# flexcp: examples/netns.toml, its worker polling, plus the routes of the
# model's client addresses toward c1 and c2.
sed -e "s/^idle = \"adaptive\"/idle = \"$IDLE\"/" examples/netns.toml >"$work/flexcp.toml"
bin/flexcp-pktgen wire --flexcp-routes --subflows "$SUBFLOWS" >>"$work/flexcp.toml"
# start_flexcp starts flexcp in PREFIX-p and waits for its metrics
# endpoint; stop_flexcp ends it (by PID). Each run gets a fresh flexcp:
# the model opens the same 4-tuples every run and never closes them.
start_flexcp() {
	ip netns exec "$NETNS_PREFIX-p" bin/flexcp --config "$work/flexcp.toml" >"$work/flexcp.log" 2>&1 &
	flexcp_pid=$!
	for i in $(seq 150); do
		kill -0 "$flexcp_pid" 2>/dev/null || die "flexcp exited during start-up: $(cat "$work/flexcp.log")"
		ip netns exec "$NETNS_PREFIX-p" bash -c 'exec 3<>/dev/tcp/127.0.0.1/9750' 2>/dev/null && return 0
		[[ $i == 150 ]] && die "flexcp did not come up in 30 s"
		sleep 0.2
	done
}
stop_flexcp() {
	echo "wire.sh: flexcp's counters:"
	ip netns exec "$NETNS_PREFIX-p" bash -c 'exec 3<>/dev/tcp/127.0.0.1/9750; printf "GET /metrics HTTP/1.0\r\n\r\n" >&3; cat <&3' |
		grep -E '^flexcp_(ethdev_[io]packets|drops|connections_opened|joins_accepted)_total' | grep -v ' 0$' || true
	kill -TERM "$flexcp_pid"
	wait "$flexcp_pid" || die "flexcp exited with an error: $(tail -n 20 "$work/flexcp.log")"
	flexcp_pid=
}

mkdir -p "$OUT"
for s in $SIZES; do
	start_flexcp
	# shellcheck disable=SC2086
	bin/flexcp-pktgen wire --netns-prefix "$NETNS_PREFIX" --duration "${SECS}s" --connections "$CONNS" \
		--subflows "$SUBFLOWS" --size "$s" --direction "$DIRECTION" --driver "$DRIVER" --gen-cpu "$GEN_CPU" \
		--json "$OUT/wire-$s.json" --md "$OUT/wire-$s.md" $PKTGEN_ARGS
	stop_flexcp
done
