#!/usr/bin/env bash
# bench-multicore.sh - translated throughput with 1 and with 2 flexcp
# workers on the standard topology (DESIGN.md section 7): iperf3 under
# `mptcpize run` (one MPTCP connection, two subflows) to a plain TCP
# iperf3 server, RUNS runs of SECS seconds per direction, medians, plus
# the packets handed between workers per second (2 workers) from the
# metrics endpoint.
#
#   1 worker:  NETNS_QUEUES=1, examples/netns.toml
#   2 workers: NETNS_QUEUES=2, examples/netns-2workers.toml (one af_xdp vdev
#              per queue; veth spreads packets over the queues by the
#              sender's transmit hash, so part of them is handed over)
#
# On a 2-core machine the client, the server and flexcp share the cores:
# the numbers say what handoff costs here, not how flexcp scales.
# Output: a Markdown table on stdout. NETNS_PREFIX names the namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

RUNS=${RUNS:-3}
SECS=${SECS:-10}
PFX=${NETNS_PREFIX:-fcp}
export NETNS_PREFIX=$PFX
work=$(mktemp -d /tmp/flexcp-mc.XXXXXX)
pids=()

cleanup() {
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	bash scripts/netns.sh down >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

command -v mptcpize >/dev/null || { echo "bench-multicore.sh: mptcpize not found (apt-get install mptcpd)" >&2; exit 1; }
make -s build

median() { printf "%s\n" "$@" | sort -g | awk '{a[NR]=$1} END {printf "%.0f", a[int((NR+1)/2)]}'; }

# handoffs: total packets handed between workers, from the metrics.
handoffs() {
	ip netns exec "$PFX-p" curl -s http://127.0.0.1:9750/metrics |
		awk '/^flexcp_handoff_packets_total/ {s += $2} END {printf "%.0f", s}'
}

# bench WORKERS CONFIG QUEUES
bench() {
	local workers=$1 config=$2 queues=$3 dir r bps up=() down=() h0 h1 t0 t1
	bash scripts/netns.sh down >/dev/null 2>&1 || true
	NETNS_QUEUES=$queues bash scripts/netns.sh up >/dev/null
	ip netns exec "$PFX-s" iperf3 -s -D -I "$work/iperf3.pid"
	ip netns exec "$PFX-p" bin/flexcp --config "$config" >"$work/flexcp-$workers.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 100); do
		ip netns exec "$PFX-p" curl -sf http://127.0.0.1:9750/metrics >/dev/null 2>&1 && break
		sleep 0.2
	done
	ip netns exec "$PFX-c" ping -c 2 -W 1 198.18.3.2 >/dev/null 2>&1 || true
	h0=$(handoffs)
	t0=$(date +%s.%N)
	for dir in up down; do
		for r in $(seq 1 "$RUNS"); do
			local flag=""
			[ "$dir" = down ] && flag="-R"
			bps=$(ip netns exec "$PFX-c" mptcpize run iperf3 -c 198.18.3.2 -t "$SECS" -J $flag |
				python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])')
			if [ "$dir" = up ]; then up+=("$bps"); else down+=("$bps"); fi
		done
	done
	t1=$(date +%s.%N)
	h1=$(handoffs)
	kill -TERM "${pids[-1]}"
	wait "${pids[-1]}" || true
	unset 'pids[-1]'
	kill "$(cat "$work/iperf3.pid")" 2>/dev/null || true
	printf '| %d | %.2f | %.2f | %s | %s |\n' "$workers" \
		"$(bc -l <<<"$(median "${up[@]}") / 1000000000")" "$(bc -l <<<"$(median "${down[@]}") / 1000000000")" \
		"$(printf '%s ' "${up[@]}" | awk '{for (i=1;i<=NF;i++) printf "%.2f ", $i/1e9}')/ $(printf '%s ' "${down[@]}" | awk '{for (i=1;i<=NF;i++) printf "%.2f ", $i/1e9}')" \
		"$(bc -l <<<"($h1 - $h0) / ($t1 - $t0)" | awk '{printf "%.0f", $1}')"
}

echo "| workers | c2s Gbit/s (median) | s2c Gbit/s (median) | all runs c2s / s2c | handoffs/s |"
echo "| --- | --- | --- | --- | --- |"
bench 1 examples/netns.toml 1
bench 2 examples/netns-2workers.toml 2
