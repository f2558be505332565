#!/usr/bin/env bash
# demo.sh - flexcp's main job on the built-in topology (DESIGN.md section 7):
# a real Linux MPTCP client (fcp-c, two access paths) talks through flexcp
# (fcp-p, DPDK AF_XDP ports) to a real Linux TCP server (fcp-s), in both
# directions, and the script prints what happened. It tears everything
# down at the end, also on failure or Ctrl-C.
#
# Environment: DEMO_SECONDS (default 5) per direction; DEMO_CONFIG (default
# examples/netns.toml); NETNS_PREFIX (default fcp) names the namespaces
# PREFIX-c, PREFIX-p, PREFIX-s (scripts/netns.sh), so the demo can run
# beside other copies of the topology.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

secs=${DEMO_SECONDS:-5}
pfx=${NETNS_PREFIX:-fcp}
export NETNS_PREFIX=$pfx
config=${DEMO_CONFIG:-examples/netns.toml}
work=$(mktemp -d /tmp/flexcp-demo.XXXXXX)
pids=()

cleanup() {
	local rc=$?
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	bash scripts/netns.sh down >/dev/null 2>&1 || true
	if [ $rc -ne 0 ]; then
		echo "demo: FAILED (exit $rc); flexcp's log:" >&2
		cat "$work/flexcp.log" >&2 2>/dev/null || true
	fi
	rm -rf "$work"
	exit $rc
}
trap cleanup EXIT INT TERM

scrape() { # metric name prefix -> "name{labels} value" lines
	ip netns exec $pfx-p curl -s --max-time 2 http://127.0.0.1:9750/metrics | grep -E "^$1" || true
}
total() { # sum of a metric, optionally filtered by a label substring
	scrape "$1" | grep -F -- "${2:-}" | awk '{s += $NF} END {printf "%d", s}'
}

echo "== topology: client $pfx-c (c1 198.18.1.2, c2 198.18.2.2) -> flexcp in $pfx-p -> server $pfx-s (198.18.3.2)"
bash scripts/netns.sh down >/dev/null 2>&1 || true
bash scripts/netns.sh up >/dev/null

echo "== starting flexcp ($config)"
ip netns exec $pfx-p bin/flexcp --config "$config" >"$work/flexcp.log" 2>&1 &
fpid=$!
pids+=("$fpid")
for _ in $(seq 1 100); do
	if ip netns exec $pfx-p curl -s --max-time 1 -o /dev/null http://127.0.0.1:9750/metrics; then break; fi
	kill -0 "$fpid" 2>/dev/null || { echo "demo: flexcp exited during start-up" >&2; exit 1; }
	sleep 0.2
done

ip netns exec $pfx-s iperf3 -s -B 198.18.3.2 >"$work/iperf3-server.log" 2>&1 &
pids+=("$!")
sleep 0.5
ip netns exec $pfx-c ping -c 2 -W 2 198.18.3.2 >/dev/null || { echo "demo: ping through flexcp failed" >&2; exit 1; }

c1_tx0=$(ip netns exec $pfx-c cat /sys/class/net/c1/statistics/tx_bytes)
c2_tx0=$(ip netns exec $pfx-c cat /sys/class/net/c2/statistics/tx_bytes)
c1_rx0=$(ip netns exec $pfx-c cat /sys/class/net/c1/statistics/rx_bytes)
c2_rx0=$(ip netns exec $pfx-c cat /sys/class/net/c2/statistics/rx_bytes)
ip netns exec $pfx-c nstat -n >/dev/null 2>&1 || true

run_iperf() { # label, extra args
	local label=$1
	shift
	ip netns exec $pfx-c mptcpize run iperf3 -c 198.18.3.2 -t "$secs" -J "$@" >"$work/$label.json"
	python3 - "$work/$label.json" "$label" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
e = d["end"]
s = e.get("sum_received") or e["sum"]
print(f"   {sys.argv[2]:<16} {s['bits_per_second']/1e9:6.2f} Gbit/s, {s['bytes']/1e6:8.1f} MB received")
EOF
}

echo "== MPTCP client -> TCP server through flexcp (iperf3 under mptcpize, ${secs}s each way)"
run_iperf client-to-server
run_iperf server-to-client -R

c1_tx=$(($(ip netns exec $pfx-c cat /sys/class/net/c1/statistics/tx_bytes) - c1_tx0))
c2_tx=$(($(ip netns exec $pfx-c cat /sys/class/net/c2/statistics/tx_bytes) - c2_tx0))
c1_rx=$(($(ip netns exec $pfx-c cat /sys/class/net/c1/statistics/rx_bytes) - c1_rx0))
c2_rx=$(($(ip netns exec $pfx-c cat /sys/class/net/c2/statistics/rx_bytes) - c2_rx0))
echo "== bytes per access path (client side)"
printf "   path 1 (c1): sent %8.1f MB, received %8.1f MB\n" "$(bc -l <<<"$c1_tx/1000000")" "$(bc -l <<<"$c1_rx/1000000")"
printf "   path 2 (c2): sent %8.1f MB, received %8.1f MB\n" "$(bc -l <<<"$c2_tx/1000000")" "$(bc -l <<<"$c2_rx/1000000")"

echo "== the client's MPTCP counters (nstat in $pfx-c)"
ip netns exec $pfx-c nstat -a 2>/dev/null | awk '/MPTcpExt(MPCapableSYNTX|MPCapableSYNACKRX|MPCapableFallbackSYNACK|MPJoinSynAckRx|MPJoinAckRx|MPJoinSynTx|MPFallbackTokenInit|DSSNoMatchTCP)/ {printf "   %-32s %s\n", $1, $2}'

echo "== flexcp's counters"
printf "   connections opened %s, fallback %s, in table %s (closed ones stay for [proxy] linger)\n" "$(total flexcp_connections_opened_total)" "$(total flexcp_connections_fallback_total)" "$(total flexcp_connections_active)"
printf "   subflows opened %s, joins accepted %s, rejected %s\n" "$(total flexcp_subflows_opened_total)" "$(total flexcp_joins_accepted_total)" "$(total flexcp_joins_rejected_total)"
printf "   translated segments c2s %s, s2c %s\n" "$(total flexcp_translated_segments_total 'direction="c2s"')" "$(total flexcp_translated_segments_total 'direction="s2c"')"
for p in p1 p2 p3; do
	printf "   port %s: rx %s pkts, tx %s pkts\n" "$p" "$(total flexcp_port_rx_packets_total "port=\"$p\"")" "$(total flexcp_port_tx_packets_total "port=\"$p\"")"
done
drops=$(scrape flexcp_drops_total | awk '$NF > 0 {printf "%s=%d ", $1, $NF}' | sed -E 's/flexcp_drops_total\{reason="([a-z0-9_]*)",worker="[0-9]*"\}/\1/g')
printf "   drops: %s\n" "${drops:-none}"

kill -TERM "$fpid"
wait "$fpid" || { echo "demo: flexcp exited with an error" >&2; exit 1; }
pids=("${pids[@]:1}")
echo "== flexcp's shutdown line"
grep "flexcp: stopped" "$work/flexcp.log" | sed 's/^/   /'
echo "== demo done"
