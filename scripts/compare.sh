#!/usr/bin/env bash
# compare.sh - flexcp against the kernel's end-to-end MPTCP and against two
# split proxies, in one run on the standard topology (DESIGN.md section 7):
#
#   flexcp    bin/flexcp in fcp-p (examples/netns.toml: AF_XDP, 1 worker on
#             CPU 1, idle adaptive); MPTCP client (mptcpize) -> plain TCP server
#   kernel    Linux forwarding in fcp-p, MPTCP end to end (client and server
#             both under mptcpize)
#   nginx     nginx stream proxy in fcp-p (worker_processes 1 and 2),
#             listening on 198.18.1.1:5201, proxy_pass 198.18.3.2:5201
#   haproxy   haproxy in tcp mode (nbthread 1 and 2), same addresses
#
# The split proxies run with the LD_PRELOAD shim scripts/mptcp-listen-shim.c
# (compiled here at run time), which makes only their listening socket
# MPTCP: the client's connection to them is MPTCP with a second subflow over
# path 2, and their upstream connection to the server stays plain TCP.
# (`mptcpize run nginx` would make the upstream MPTCP too; that stalls the
# server-to-client direction, see DESIGN.md section 7.)
#
# Each: iperf3 over RUNS runs of SECS seconds per direction, medians; the
# CPU the forwarder or proxy used (process CPU time from /proc/PID/stat,
# summed over its processes; the machine's softirq time for the kernel)
# per second of traffic, and for every row the machine's softirq time too
# (the split proxies' TCP stacks, and the peers', run there). Results go to
# stdout as a Markdown table and to results/compare.md.
#
# Environment: SECS (default 10), RUNS (default 3), OUT (default
# results/compare.md), IDLE (flexcp idle policy, default adaptive), ONLY
# (space separated subset of: flexcp kernel nginx haproxy).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

RUNS=${RUNS:-3}
SECS=${SECS:-10}
IDLE=${IDLE:-adaptive}
ONLY=${ONLY:-flexcp kernel nginx haproxy}
out=${OUT:-results/compare.md}
work=$(mktemp -d /tmp/flexcp-compare.XXXXXX)
pids=()

cleanup() {
	local rc=$?
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	bash scripts/netns.sh down >/dev/null 2>&1 || true
	if [ $rc -ne 0 ]; then
		echo "compare: FAILED (exit $rc); logs:" >&2
		tail -n 20 "$work"/*.log >&2 2>/dev/null || true
	fi
	rm -rf "$work"
	exit $rc
}
trap cleanup EXIT INT TERM

want() { [[ " $ONLY " == *" $1 "* ]]; }

clk=$(getconf CLK_TCK)
softirq() { awk -v t="$clk" '/^cpu /{printf "%.3f", $8 / t}' /proc/stat; }
# cputime PID... -> summed utime+stime in seconds; "softirq" -> the machine's.
cputime() {
	if [ "$1" = softirq ]; then
		softirq
		return
	fi
	local p s=0
	for p in "$@"; do
		s=$(awk -v t="$clk" -v s="$s" '{printf "%.3f", s + ($14 + $15) / t}' "/proc/$p/stat" 2>/dev/null || echo "$s")
	done
	echo "$s"
}
ctr() { # absolute value of a counter in fcp-c
	ip netns exec fcp-c nstat -asz "$1" 2>/dev/null | awk -v n="$1" '$1 == n {print $2; f=1} END {if (!f) print 0}'
}
devbytes() { # total tx+rx bytes of a client device
	echo $(($(ip netns exec fcp-c cat "/sys/class/net/$1/statistics/tx_bytes") + $(ip netns exec fcp-c cat "/sys/class/net/$1/statistics/rx_bytes")))
}

echo "| proxy | client->server Gbit/s | server->client Gbit/s | its CPU | machine softirq | MPTCP conns / joins | path 2 bytes |" | tee "$work/table"
echo "| --- | --- | --- | --- | --- | --- | --- |" | tee -a "$work/table"

# measure NAME DEST CLIENTPREFIX PID...|softirq: iperf3 both directions RUNS
# times toward DEST, prints the medians and the CPU used.
measure() {
	local name=$1 dest=$2 prefix=$3
	shift 3
	local dir r bps up=() down=() c0 c1 s0 s1 j0 j1 m0 m1 b10 b20 b1 b2 fails=0
	c0=$(cputime "$@")
	s0=$(softirq)
	j0=$(ctr MPTcpExtMPJoinSynAckRx)
	m0=$(ctr MPTcpExtMPCapableSYNACKRX)
	b10=$(devbytes c1)
	b20=$(devbytes c2)
	for dir in up down; do
		for r in $(seq 1 "$RUNS"); do
			local flag=""
			[ "$dir" = down ] && flag="-R"
			# shellcheck disable=SC2086
			bps=$(timeout $((SECS + 30)) ip netns exec fcp-c $prefix iperf3 -c "$dest" -t "$SECS" -J $flag 2>>"$work/iperf3-client.log" |
				python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])' 2>>"$work/iperf3-client.log") || {
				bps=0
				fails=$((fails + 1))
			}
			echo "$name $dir run $r: $bps bit/s" >>"$work/runs"
			if [ "$dir" = up ]; then up+=("$bps"); else down+=("$bps"); fi
		done
	done
	c1=$(cputime "$@")
	s1=$(softirq)
	j1=$(ctr MPTcpExtMPJoinSynAckRx)
	m1=$(ctr MPTcpExtMPCapableSYNACKRX)
	b1=$(($(devbytes c1) - b10))
	b2=$(($(devbytes c2) - b20))
	local t=$((2 * RUNS * SECS)) busy sirq mu md share
	busy=$(bc -l <<<"($c1 - $c0) / $t * 100")
	sirq=$(bc -l <<<"($s1 - $s0) / $t * 100")
	mu=$(printf '%s\n' "${up[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1e9}')
	md=$(printf '%s\n' "${down[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1e9}')
	share=$(bc -l <<<"$b2 / ($b1 + $b2 + 1) * 100")
	local cpu
	if [ "$1" = softirq ]; then cpu="(= softirq)"; else cpu=$(printf "%.0f%%" "$busy"); fi
	local note=""
	[ $fails -gt 0 ] && note=" ($fails of $((2 * RUNS)) runs failed)"
	printf "| %s%s | %s | %s | %s | %.0f%% | %d / %d | %.0f%% |\n" "$name" "$note" "$mu" "$md" "$cpu" "$sirq" \
		$((m1 - m0)) $((j1 - j0)) "$share" | tee -a "$work/table"
	echo "$name|$mu|$md" >>"$work/raw"
}

start_tcp_server() {
	ip netns exec fcp-s iperf3 -s -B 198.18.3.2 >"$work/iperf3-server.log" 2>&1 &
	srv=$!
	pids+=("$srv")
	sleep 0.5
}
stop_pid() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	local p keep=()
	for p in "${pids[@]}"; do [ "$p" != "$1" ] && keep+=("$p"); done
	pids=("${keep[@]}")
}
wait_port() { # NS ADDR PORT: wait until something listens there
	for _ in $(seq 1 50); do
		ip netns exec "$1" ss -Hltn "src $2:$3" | grep -q . && return 0
		sleep 0.1
	done
	echo "compare: nothing listens on $2:$3 in $1" >&2
	return 1
}

cmds=()

# 1. flexcp.
if want flexcp; then
	bash scripts/netns.sh down >/dev/null 2>&1 || true
	bash scripts/netns.sh up >/dev/null
	sed "s/^idle = \"adaptive\"/idle = \"$IDLE\"/" examples/netns.toml >"$work/flexcp.toml"
	ip netns exec fcp-p bin/flexcp --config "$work/flexcp.toml" >"$work/flexcp.log" 2>&1 &
	fpid=$!
	pids+=("$fpid")
	for _ in $(seq 1 100); do
		ip netns exec fcp-p curl -s --max-time 1 -o /dev/null http://127.0.0.1:9750/metrics && break
		kill -0 "$fpid" 2>/dev/null || { echo "compare: flexcp exited during start-up" >&2; exit 1; }
		sleep 0.2
	done
	start_tcp_server
	ip netns exec fcp-c ping -c 1 -W 3 198.18.3.2 >/dev/null
	measure "flexcp (AF_XDP, 1 worker, idle $IDLE)" 198.18.3.2 "mptcpize run" "$fpid"
	stop_pid "$fpid"
	stop_pid "$srv"
	cmds+=("flexcp: \`scripts/netns.sh up\`; fcp-p: \`bin/flexcp --config examples/netns.toml\` (idle=$IDLE); fcp-s: \`iperf3 -s -B 198.18.3.2\`; fcp-c: \`mptcpize run iperf3 -c 198.18.3.2 -t $SECS -J [-R]\`")
fi

# The rest run with the kernel owning fcp-p's addresses.
bash scripts/netns.sh down >/dev/null 2>&1 || true
NETNS_KERNEL_FORWARD=1 bash scripts/netns.sh up >/dev/null

# 2. Kernel end to end MPTCP.
if want kernel; then
	ip netns exec fcp-s mptcpize run iperf3 -s -B 198.18.3.2 >"$work/iperf3-server.log" 2>&1 &
	srv=$!
	pids+=("$srv")
	sleep 0.5
	measure "Linux MPTCP end to end, kernel forwarding (CPU: softirq)" 198.18.3.2 "mptcpize run" softirq
	stop_pid "$srv"
	cmds+=("kernel: \`NETNS_KERNEL_FORWARD=1 scripts/netns.sh up\`; fcp-s: \`mptcpize run iperf3 -s -B 198.18.3.2\`; fcp-c: \`mptcpize run iperf3 -c 198.18.3.2 -t $SECS -J [-R]\`")
fi

# The shim for the split proxies.
shim=$work/mptcp-listen-shim.so
gcc -O2 -Wall -shared -fPIC -o "$shim" scripts/mptcp-listen-shim.c -ldl
mptcp_listening() { # how many MPTCP listeners on 198.18.1.1:5201 in fcp-p
	ip netns exec fcp-p ss -HlM "src 198.18.1.1:5201" 2>/dev/null | wc -l
}

# 3. nginx stream.
if want nginx; then
	start_tcp_server
	for n in 1 2; do
		mkdir -p "$work/nginx$n"
		cat >"$work/nginx$n/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes $n;
daemon off;
master_process on;
pid $work/nginx$n/nginx.pid;
error_log $work/nginx$n/error.log warn;
events { worker_connections 1024; }
stream {
    server {
        listen 198.18.1.1:5201;
        proxy_pass 198.18.3.2:5201;
    }
}
EOF
		ip netns exec fcp-p env LD_PRELOAD="$shim" MPTCP_SHIM_DEBUG=1 \
			nginx -p "$work/nginx$n" -c "$work/nginx$n/nginx.conf" >"$work/nginx$n.log" 2>&1 &
		npid=$!
		pids+=("$npid")
		wait_port fcp-p 198.18.1.1 5201
		sleep 0.3
		nl=$(mptcp_listening)
		[ "$nl" -ge 1 ] || echo "compare: warning: nginx's listener is not MPTCP (shim failed?)" >&2
		# The master and its workers.
		npids=("$npid" $(pgrep -P "$npid" || true))
		measure "nginx $(nginx -v 2>&1 | sed 's|.*nginx/||') stream, $n worker(s)" 198.18.1.1 "mptcpize run" "${npids[@]}"
		stop_pid "$npid"
	done
	stop_pid "$srv"
	cmds+=("nginx: \`NETNS_KERNEL_FORWARD=1 scripts/netns.sh up\`; fcp-p: \`LD_PRELOAD=mptcp-listen-shim.so nginx -p DIR -c DIR/nginx.conf\` (stream { server { listen 198.18.1.1:5201; proxy_pass 198.18.3.2:5201; } }, worker_processes 1|2, daemon off); fcp-s: \`iperf3 -s -B 198.18.3.2\`; fcp-c: \`mptcpize run iperf3 -c 198.18.1.1 -t $SECS -J [-R]\`")
fi

# 4. haproxy tcp mode.
if want haproxy; then
	start_tcp_server
	for n in 1 2; do
		cat >"$work/haproxy$n.cfg" <<EOF
global
    nbthread $n
    maxconn 1000
defaults
    mode tcp
    timeout connect 5s
    timeout client 120s
    timeout server 120s
frontend fe
    bind 198.18.1.1:5201
    default_backend be
backend be
    server s1 198.18.3.2:5201
EOF
		ip netns exec fcp-p env LD_PRELOAD="$shim" MPTCP_SHIM_DEBUG=1 \
			haproxy -db -f "$work/haproxy$n.cfg" >"$work/haproxy$n.log" 2>&1 &
		hpid=$!
		pids+=("$hpid")
		wait_port fcp-p 198.18.1.1 5201
		sleep 0.3
		nl=$(mptcp_listening)
		[ "$nl" -ge 1 ] || echo "compare: warning: haproxy's listener is not MPTCP (shim failed?)" >&2
		hpids=("$hpid" $(pgrep -P "$hpid" || true))
		measure "haproxy $(haproxy -v | sed -n 's/^HAProxy version \([^ ]*\).*/\1/p') tcp, nbthread $n" 198.18.1.1 "mptcpize run" "${hpids[@]}"
		stop_pid "$hpid"
	done
	stop_pid "$srv"
	cmds+=("haproxy: \`NETNS_KERNEL_FORWARD=1 scripts/netns.sh up\`; fcp-p: \`LD_PRELOAD=mptcp-listen-shim.so haproxy -db -f CFG\` (mode tcp, bind 198.18.1.1:5201, server 198.18.3.2:5201, nbthread 1|2); fcp-s: \`iperf3 -s -B 198.18.3.2\`; fcp-c: \`mptcpize run iperf3 -c 198.18.1.1 -t $SECS -J [-R]\`")
fi

# Ratios.
ratios=()
f=$(grep '^flexcp' "$work/raw" | head -n1 || true)
if [ -n "$f" ]; then
	IFS='|' read -r _ fu fd <<<"$f"
	best=$(grep -E '^(nginx|haproxy)' "$work/raw" || true)
	if [ -n "$best" ]; then
		bu=$(awk -F'|' '$2 > m {m = $2; n = $1} END {print m "|" n}' <<<"$best")
		bd=$(awk -F'|' '$3 > m {m = $3; n = $1} END {print m "|" n}' <<<"$best")
		ratios+=("$(printf 'flexcp / best split proxy: %.2fx client->server (best: %s, %s), %.2fx server->client (best: %s, %s); target >= 1.3x' \
			"$(bc -l <<<"$fu / ${bu%%|*}")" "${bu#*|}" "${bu%%|*}" "$(bc -l <<<"$fd / ${bd%%|*}")" "${bd#*|}" "${bd%%|*}")")
	fi
	k=$(grep '^Linux MPTCP' "$work/raw" || true)
	if [ -n "$k" ]; then
		IFS='|' read -r _ ku kd <<<"$k"
		ratios+=("$(printf 'flexcp / kernel E2E MPTCP: %.2fx client->server, %.2fx server->client; target >= 0.9x' \
			"$(bc -l <<<"$fu / $ku")" "$(bc -l <<<"$fd / $kd")")")
	fi
fi
printf '%s\n' "${ratios[@]}"

shimok="not run"
if want nginx || want haproxy; then
	shimok=$(cat "$work"/nginx*.log "$work"/haproxy*.log 2>/dev/null | grep -c 'is now IPPROTO_MPTCP' || true)
	shimok="$shimok listening socket(s) swapped to IPPROTO_MPTCP (shim's own log)"
fi

mkdir -p "$(dirname "$out")"
{
	echo "# flexcp vs kernel end-to-end MPTCP vs split proxies"
	echo
	echo "Produced by \`make compare\` (scripts/compare.sh): iperf3 (one TCP stream) on the standard"
	echo "topology (DESIGN.md section 7), $RUNS run(s) x $SECS s per direction, medians. Veth offloads off."
	echo "The client is always Linux MPTCP (\`mptcpize run iperf3\`) with a second subflow over path 2."
	echo "\"its CPU\" is the forwarder's or proxy's process CPU time (all its processes) per second of"
	echo "traffic; \"machine softirq\" is the whole machine's softirq time per second of traffic (it"
	echo "includes the client's and server's own network stacks, and for the kernel E2E row and the"
	echo "split proxies it is where the forwarding / TCP termination work is done)."
	echo "\"MPTCP conns / joins\" are the client's MPCapableSYNACKRX / MPJoinSynAckRx deltas (iperf3 opens"
	echo "2 connections per test: control and data). \"path 2 bytes\" is c2's share of the client's bytes."
	echo
	echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/{print $2}') GiB, kernel $(uname -r)"
	echo "- DPDK: $(pkg-config --modversion libdpdk)"
	echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(d=$(git status --porcelain --untracked-files=no 2>/dev/null | awk '{print $2}' | xargs); [ -n "$d" ] && echo " (uncommitted changes in: $d)")"
	echo "- nginx $(nginx -v 2>&1 | sed 's|.*nginx/||'), haproxy $(haproxy -v | sed -n 's/^HAProxy version \([^ ]*\).*/\1/p'), iperf3 $(iperf3 -v | head -n1 | cut -d' ' -f2)"
	echo "- split proxies' MPTCP shim: $shimok"
	echo
	cat "$work/table"
	echo
	for r in "${ratios[@]}"; do echo "- $r"; done
	echo
	echo "Commands (all as root; each forwarder alone on a fresh topology):"
	echo
	for c in "${cmds[@]}"; do echo "- $c"; done
	echo
	echo "Per-run values (bit/s):"
	echo
	echo '```'
	cat "$work/runs"
	echo '```'
} >"$out"
echo "compare: wrote $out"
