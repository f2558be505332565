#!/usr/bin/env bash
# bench-forward.sh - flexcp's plain routing throughput against its two
# baselines, in one run on the standard topology (DESIGN.md section 7):
#
#   flexcp    flexcp routing on net_af_xdp vdevs (examples/netns.toml; IDLE=adaptive
#             by default, as the example runs; IDLE=poll spins like testpmd)
#   testpmd   dpdk-testpmd io forwarding between the same AF_XDP vdevs (p1<->p3)
#   kernel    Linux forwarding in PREFIX-p
#
# Each: iperf3 plain TCP over path 1, RUNS runs of SECS seconds per
# direction; the median is reported, with the CPU time the forwarder used
# (from /proc/PID/stat) per second of traffic. Results go to stdout as a
# Markdown table and to results/forward.md (with machine, DPDK and commit).
#
# testpmd's io mode does not rewrite MAC addresses, so for its runs the
# client's and server's neighbour entries for their gateways point at each
# other's MAC addresses: frames then cross testpmd unchanged.
#
# NETNS_PREFIX (default fcp) names the namespaces PREFIX-c, PREFIX-p,
# PREFIX-s (scripts/netns.sh), so a run can sit beside the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

RUNS=${RUNS:-3}
SECS=${SECS:-10}
out=${OUT:-results/forward.md}
export NETNS_PREFIX=${NETNS_PREFIX:-fcp}
NSC=$NETNS_PREFIX-c
NSP=$NETNS_PREFIX-p
NSS=$NETNS_PREFIX-s
work=$(mktemp -d /tmp/flexcp-bench.XXXXXX)
pids=()

cleanup() {
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	bash scripts/netns.sh down >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

clk=$(getconf CLK_TCK)
cputime() { # pid -> utime+stime in seconds; "softirq" -> the machine's softirq time
	if [ "$1" = softirq ]; then
		awk -v t="$clk" '/^cpu /{printf "%.3f", $8 / t}' /proc/stat
	else
		awk -v t="$clk" '{printf "%.3f", ($14 + $15) / t}' "/proc/$1/stat"
	fi
}

# measure NAME PID: runs iperf3 both directions RUNS times, prints medians.
measure() {
	local name=$1 pid=$2 dir r bps up=() down=() c0 c1 busy=0
	c0=$(cputime "$pid")
	for dir in up down; do
		for r in $(seq 1 "$RUNS"); do
			local flag=""
			[ "$dir" = down ] && flag="-R"
			bps=$(ip netns exec "$NSC" iperf3 -c 198.18.3.2 -t "$SECS" -J $flag |
				python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])')
			if [ "$dir" = up ]; then up+=("$bps"); else down+=("$bps"); fi
		done
	done
	c1=$(cputime "$pid")
	busy=$(bc -l <<<"($c1 - $c0) / (2 * $RUNS * $SECS) * 100")
	local mu md
	mu=$(printf '%s\n' "${up[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1e9}')
	md=$(printf '%s\n' "${down[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1e9}')
	printf "| %s | %s | %s | %.0f%% |\n" "$name" "$mu" "$md" "$busy" | tee -a "$work/table"
	echo "$name $mu $md" >>"$work/raw"
}

start_iperf_server() {
	ip netns exec "$NSS" iperf3 -s -B 198.18.3.2 >/dev/null 2>&1 &
	pids+=("$!")
	sleep 0.5
}

echo "| forwarder | client->server Gbit/s | server->client Gbit/s | forwarder CPU |" | tee "$work/table"
echo "| --- | --- | --- | --- |" | tee -a "$work/table"

# 1. flexcp.
bash scripts/netns.sh down >/dev/null 2>&1 || true
bash scripts/netns.sh up >/dev/null
sed "s/^idle = \"adaptive\"/idle = \"${IDLE:-adaptive}\"/" examples/netns.toml >"$work/flexcp.toml"
ip netns exec "$NSP" bin/flexcp --config "$work/flexcp.toml" >"$work/flexcp.log" 2>&1 &
fpid=$!
pids+=("$fpid")
sleep 3
start_iperf_server
ip netns exec "$NSC" ping -c 1 -W 3 198.18.3.2 >/dev/null
measure "flexcp (AF_XDP, 1 worker, idle ${IDLE:-adaptive})" "$fpid"
kill -TERM "$fpid"; wait "$fpid" || true

# 2. dpdk-testpmd io forwarding on the same vdevs.
bash scripts/netns.sh down >/dev/null; bash scripts/netns.sh up >/dev/null
smac=$(ip netns exec "$NSS" cat /sys/class/net/s1/address)
cmac=$(ip netns exec "$NSC" cat /sys/class/net/c1/address)
ip netns exec "$NSC" ip neigh replace 198.18.1.1 lladdr "$smac" dev c1 nud permanent
ip netns exec "$NSS" ip neigh replace 198.18.3.1 lladdr "$cmac" dev s1 nud permanent
mkfifo "$work/stdin"
sleep 100000 >"$work/stdin" &
holder=$!
pids+=("$holder")
ip netns exec "$NSP" dpdk-testpmd --no-pci --in-memory -l 0,1 --log-level '*:warning' \
	--vdev net_af_xdp0,iface=p1,start_queue=0,queue_count=1 \
	--vdev net_af_xdp1,iface=p3,start_queue=0,queue_count=1 \
	-- --forward-mode=io --nb-cores=1 --auto-start <"$work/stdin" >"$work/testpmd.log" 2>&1 &
tpid=$!
pids+=("$tpid")
sleep 4
start_iperf_server
measure "dpdk-testpmd io (AF_XDP)" "$tpid"
kill -TERM "$tpid"; wait "$tpid" || true

# 3. The kernel.
bash scripts/netns.sh down >/dev/null
NETNS_KERNEL_FORWARD=1 bash scripts/netns.sh up >/dev/null
start_iperf_server
# Kernel forwarding runs in softirq context: its CPU is the machine's
# softirq time (which also includes the peers' own network softirqs).
measure "Linux kernel forwarding (CPU: all softirq)" softirq

read -r fu fd < <(grep '^flexcp' "$work/raw" | awk '{print $(NF-1), $NF}')
read -r tu td < <(grep '^dpdk-testpmd' "$work/raw" | awk '{print $(NF-1), $NF}')
ratio=$(printf "flexcp / testpmd: %.2fx client->server, %.2fx server->client" "$(bc -l <<<"$fu/$tu")" "$(bc -l <<<"$fd/$td")")
echo "$ratio"

mkdir -p "$(dirname "$out")"
{
	echo "# Plain routing throughput: flexcp vs dpdk-testpmd vs the kernel"
	echo
	echo "Produced by \`make bench-forward\` (scripts/bench-forward.sh): iperf3 plain TCP over"
	echo "path 1 of the standard topology, $RUNS runs x $SECS s per direction, medians."
	echo "Veth offloads off. CPU is the forwarder's process CPU time per second of traffic."
	echo
	echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/{print $2}') GiB, kernel $(uname -r)"
	echo "- DPDK: $(pkg-config --modversion libdpdk)"
	echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo
	cat "$work/table"
	echo
	echo "$ratio"
} >"$out"
echo "bench-forward: wrote $out"
