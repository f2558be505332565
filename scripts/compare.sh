#!/usr/bin/env bash
# compare.sh - flexcp against the DPDK forwarding ceiling, the kernel's
# end-to-end MPTCP and two split proxies, all in one run on the standard
# topology (DESIGN.md section 7). `make compare` runs it; issue 4's
# "Measure" list is what it measures.
#
# Systems (each alone on a fresh copy of the topology):
#   testpmd   dpdk-testpmd io forwarding between the AF_XDP vdevs of p1 and
#             p3 (the throughput ceiling of a DPDK program on this machine).
#             io mode does not rewrite MACs, so the client's and server's
#             neighbour entries for their gateways point at each other's
#             MACs; the client is plain TCP over path 1 (testpmd forwards
#             only p1<->p3, so an MPTCP join over path 2 would go nowhere).
#   flexcp    bin/flexcp in PREFIX-p (examples/netns.toml: AF_XDP, 1 worker
#             on CPU 1, idle $IDLE, proxy.linger 2s, see below); MPTCP
#             client -> plain TCP server. Its ping-pong is also measured
#             with a plain TCP client ("flexcp routed"), the same traffic
#             testpmd forwards. Throughput and ping-pong are also measured
#             with idle = "poll" ("flexcp-poll"), which spins as testpmd does.
#             Two more throughput rows split flexcp's gap to testpmd: a plain
#             TCP client routed through flexcp ("flexcp-routed", testpmd's
#             traffic) and an MPTCP client limited to one subflow
#             ("flexcp-1sf": translated, no join). And "testpmd-mptcp": Linux
#             MPTCP at both ends, one subflow, through testpmd (the ceiling
#             for MPTCP traffic: the end hosts' MPTCP stacks, which on veths
#             run inside the forwarder's send()).
#   kernel    Linux forwarding in PREFIX-p, MPTCP end to end (client and
#             server MPTCP).
#   nginx     nginx stream, worker_processes 1 and 2, listening on
#             198.18.1.1:{5201,5300}, proxy_pass 198.18.3.2:{5201,5300}
#   haproxy   haproxy mode tcp, nbthread 1 and 2, same addresses
# The split proxies run with the LD_PRELOAD shim scripts/mptcp-listen-shim.c
# (compiled at run time), which makes only their listening sockets MPTCP:
# the client's connection to them is MPTCP with a second subflow over path
# 2, their upstream connection to the server stays plain TCP. (`mptcpize
# run nginx` would make the upstream MPTCP too; that stalls the
# server-to-client direction, DESIGN.md section 7.)
#
# Tests (each system runs every test that applies to it):
#   tput      iperf3 (one stream), RUNS runs x SECS s per direction, median
#             (c2s = client to server, s2c = iperf3 -R).
#   load      iperf3 -b $RATE for SECS s per direction: the CPU the whole
#             machine spent (from /proc/stat: all non-idle, non-iowait time,
#             in % of one CPU, so 200% is both CPUs of a 2-CPU machine).
#             Not run for testpmd (it spins by design).
#   short     bin/flexcp-shortconn short: $CONC dialers for SECS s, each
#             connect, 64 bytes each way, close; connections/s and the
#             latency of the whole operation (p50, p99). Not for testpmd.
#   pingpong  bin/flexcp-shortconn pingpong: 64-byte request/response over
#             one connection for SECS s, p50 and p99 round-trip time. Client
#             and server pinned to CPU 0, the forwarder or proxy to CPU 1
#             (flexcp's and testpmd's worker lcore is CPU 1 already; the
#             proxies' processes are moved there with taskset for the test).
#   profile   flexcp only, when perf is installed: `perf record -g` on
#             flexcp during one c2s and one s2c iperf3 run of min(SECS,5) s,
#             and the top symbols in the report (flexcp has no pprof
#             endpoint), plus its per-thread CPU split.
# Before everything, a baseline: the machine's CPU over SECS s with none of
# this running (other users of the machine show up there).
#
# For short connections the client's and proxy's namespaces get
# ip_local_port_range 1024-65535, tcp_tw_reuse=1 and tcp_max_tw_buckets=4096
# (beyond 4096 TIME_WAIT sockets the kernel closes without one), so ports do
# not run out at thousands of connections per second; flexcp's config gets
# proxy.linger = "2s" for the same reason (a port comes back long after 2 s).
#
# Outputs:
#   OUT  (results/compare.md)    the tables, ratios against issue 4's
#        targets, machine, kernel, DPDK, versions, commit, date, commands,
#        per-run values.
#   JSON (results/compare.json)  a JSON array, one object per measurement:
#        {"name": "flexcp", "direction": "c2s", "metric": "throughput",
#         "value": 2.41, "unit": "Gbit/s", "cpu": 97.5}
#        name       system: testpmd, flexcp, flexcp-poll (idle poll: tput
#                   and pingpong only), flexcp-routed (tput and pingpong),
#                   flexcp-1sf (tput), testpmd-mptcp (tput), kernel,
#                   nginx-1w, nginx-2w, haproxy-1t, haproxy-2t, baseline
#        direction  "c2s", "s2c" or "both" (short, pingpong, baseline)
#        metric     throughput (Gbit/s, median of RUNS)
#                   machine_cpu (%, whole machine, at iperf3 -b RATE;
#                     baseline: with no traffic)
#                   load_throughput (Gbit/s reached at iperf3 -b RATE)
#                   conn_rate (conn/s), conn_p50, conn_p99 (us),
#                     conn_errors (count), conn_mptcp (% of connections the
#                     client's kernel reported as MPTCP)
#                   rr_p50, rr_p99 (us), rr_rate (round trips/s)
#                   path2_share (%, c2's share of the client's bytes during
#                     tput)
#        unit       as above
#        cpu        the forwarder's or proxy's own CPU during that
#                   measurement, % of one CPU (utime+stime of all its
#                   processes and threads from /proc/PID/stat); for
#                   kernel, the machine's softirq time (where kernel
#                   forwarding runs; it includes the peers' own stacks);
#                   null where it does not apply.
#
# Environment: SECS (10), RUNS (3), OUT, JSON, IDLE (flexcp idle policy,
# adaptive), RATE (iperf3 -b for load, 1G), CONC (short-connection
# dialers, 8), ONLY (subset of: testpmd flexcp kernel nginx haproxy),
# TESTS (subset of: tput load short pingpong profile), NETNS_PREFIX
# (namespaces PREFIX-c/-p/-s, default fcp; see scripts/netns.sh), KEEP=1
# (keep the logs and perf data in the work directory under /tmp).
# A quick run: SECS=3 RUNS=1 make compare (about 3 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH

RUNS=${RUNS:-3}
SECS=${SECS:-10}
IDLE=${IDLE:-adaptive}
RATE=${RATE:-1G}
CONC=${CONC:-8}
ONLY=${ONLY:-testpmd flexcp kernel nginx haproxy}
TESTS=${TESTS:-tput load short pingpong profile}
out=${OUT:-results/compare.md}
jsonout=${JSON:-results/compare.json}
export NETNS_PREFIX=${NETNS_PREFIX:-fcp}
NSC=$NETNS_PREFIX-c
NSP=$NETNS_PREFIX-p
NSS=$NETNS_PREFIX-s
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
	if [ "${KEEP:-0}" = 1 ]; then
		echo "compare: logs kept in $work" >&2
	else
		rm -rf "$work"
	fi
	exit $rc
}
trap cleanup EXIT INT TERM

want() { [[ " $ONLY " == *" $1 "* ]]; }
test_on() { [[ " $TESTS " == *" $1 "* ]]; }
log() { echo "compare: $*" >&2; }

for b in bin/flexcp bin/flexcp-shortconn; do
	[ -x "$b" ] || { log "$b missing: run make build first"; exit 1; }
done

clk=$(getconf CLK_TCK)
now() { date +%s.%N; }
# proc_cpu PID... -> utime+stime of the processes (all their threads), s.
proc_cpu() {
	local p s=0
	for p in "$@"; do
		s=$(awk -v t="$clk" -v s="$s" '{printf "%.3f", s + ($14 + $15) / t}' "/proc/$p/stat" 2>/dev/null || echo "$s")
	done
	echo "$s"
}
# mach -> "busy softirq total" jiffies of the whole machine (busy: all but
# idle and iowait; guest time is already in user).
mach() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9, $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat; }
ncpu=$(nproc)

# snap_begin PID...|softirq|none starts a CPU measurement; snap_end sets
# CPU_PROC (the forwarder's CPU, % of one CPU, "null" for none), CPU_MACH
# and CPU_SIRQ (the machine's busy and softirq time, % of one CPU) over
# the time in between. The machine's shares are taken of the jiffies
# /proc/stat accounted (times the CPU count), not of the wall time, so
# tick-accounting jitter cannot push them above 100% per CPU.
snap_begin() {
	SNAP_WHO=("$@")
	SNAP_T0=$(now)
	read -r SNAP_B0 SNAP_S0 SNAP_A0 < <(mach)
	SNAP_P0=0
	[[ $1 != softirq && $1 != none ]] && SNAP_P0=$(proc_cpu "$@")
	return 0
}
snap_end() {
	local t1 b1 s1 a1 p1 dt
	t1=$(now)
	read -r b1 s1 a1 < <(mach)
	dt=$(bc -l <<<"$t1 - $SNAP_T0")
	CPU_MACH=$(printf '%.1f' "$(bc -l <<<"($b1 - $SNAP_B0) / ($a1 - $SNAP_A0 + 1) * $ncpu * 100")")
	CPU_SIRQ=$(printf '%.1f' "$(bc -l <<<"($s1 - $SNAP_S0) / ($a1 - $SNAP_A0 + 1) * $ncpu * 100")")
	case ${SNAP_WHO[0]} in
	softirq) CPU_PROC=$CPU_SIRQ ;;
	none) CPU_PROC=null ;;
	*)
		p1=$(proc_cpu "${SNAP_WHO[@]}")
		CPU_PROC=$(printf '%.1f' "$(bc -l <<<"($p1 - $SNAP_P0) / $dt * 100")")
		;;
	esac
}

# row NAME DIRECTION METRIC VALUE UNIT CPU appends one measurement.
row() {
	printf '{"name": "%s", "direction": "%s", "metric": "%s", "value": %s, "unit": "%s", "cpu": %s}\n' \
		"$1" "$2" "$3" "$4" "$5" "$6" >>"$work/rows.jsonl"
}
# note NAME TEXT records a remark for the Markdown report.
note() { echo "$1|$2" >>"$work/notes"; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR) printf "%.3f", a[int((NR+1)/2)]; else print 0}'; }

ctr() { # absolute value of a counter in the client namespace
	ip netns exec "$NSC" nstat -asz "$1" 2>/dev/null | awk -v n="$1" '$1 == n {print $2; f=1} END {if (!f) print 0}'
}
devbytes() { # total tx+rx bytes of a client device
	echo $(($(ip netns exec "$NSC" cat "/sys/class/net/$1/statistics/tx_bytes") + $(ip netns exec "$NSC" cat "/sys/class/net/$1/statistics/rx_bytes")))
}
iperf_bps() { # reads iperf3 -J on stdin, prints the received bit/s
	python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])'
}

# topo_up KERNEL_FORWARD: a fresh topology, tuned for short connections.
topo_up() {
	bash scripts/netns.sh down >/dev/null 2>&1 || true
	NETNS_KERNEL_FORWARD=$1 bash scripts/netns.sh up >/dev/null
	local ns
	for ns in "$NSC" "$NSP"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="1024 65535" net.ipv4.tcp_tw_reuse=1 \
			net.ipv4.tcp_max_tw_buckets=4096 >/dev/null
	done
}

# start_servers MPTCP(0|1): iperf3 on 198.18.3.2:5201 and the echo server
# on 198.18.3.2:5300 in the server namespace.
start_servers() {
	local pre="" flag=""
	[ "$1" = 1 ] && pre="mptcpize run" && flag="-mptcp"
	# shellcheck disable=SC2086
	ip netns exec "$NSS" $pre iperf3 -s -B 198.18.3.2 >>"$work/iperf3-server.log" 2>&1 &
	srv_iperf=$!
	pids+=("$srv_iperf")
	# shellcheck disable=SC2086
	ip netns exec "$NSS" bin/flexcp-shortconn server -listen 198.18.3.2:5300 $flag >>"$work/shortconn-server.log" 2>&1 &
	srv_echo=$!
	pids+=("$srv_echo")
	wait_port "$NSS" 198.18.3.2 5201
	wait_port "$NSS" 198.18.3.2 5300
}
stop_servers() {
	stop_pid "$srv_iperf"
	stop_pid "$srv_echo"
}
stop_pid() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	local p keep=()
	for p in "${pids[@]}"; do [ "$p" != "$1" ] && keep+=("$p"); done
	pids=("${keep[@]}")
}
wait_port() { # NS ADDR PORT: wait until something listens there
	for _ in $(seq 1 100); do
		ip netns exec "$1" ss -Hltn "src $2:$3" | grep -q . && return 0
		sleep 0.1
	done
	log "nothing listens on $2:$3 in $1"
	return 1
}
# pin CPULIST PID...: move every thread of the processes to CPULIST.
pin() {
	local cpus=$1 p
	shift
	for p in "$@"; do taskset -a -p -c "$cpus" "$p" >/dev/null 2>&1 || true; done
}

# tput NAME CLIENTPREFIX DEST WHO...: iperf3 both directions, RUNS runs.
tput() {
	local name=$1 prefix=$2 dest=$3
	shift 3
	test_on tput || return 0
	local dir r bps vals b10 b20 b1 b2 j0 j1 m0 m1 fails=0
	b10=$(devbytes c1)
	b20=$(devbytes c2)
	j0=$(ctr MPTcpExtMPJoinSynAckRx)
	m0=$(ctr MPTcpExtMPCapableSYNACKRX)
	for dir in c2s s2c; do
		local flag=""
		[ $dir = s2c ] && flag="-R"
		vals=()
		snap_begin "$@"
		for r in $(seq 1 "$RUNS"); do
			# shellcheck disable=SC2086
			bps=$(timeout $((SECS + 30)) ip netns exec "$NSC" $prefix iperf3 -c "$dest" -t "$SECS" -J $flag 2>>"$work/iperf3-client.log" |
				iperf_bps 2>>"$work/iperf3-client.log") || {
				bps=0
				fails=$((fails + 1))
			}
			echo "$name tput $dir run $r: $bps bit/s" >>"$work/runs"
			vals+=("$bps")
		done
		snap_end
		row "$name" $dir throughput "$(printf '%s\n' "${vals[@]}" | median | awk '{printf "%.3f", $1 / 1e9}')" Gbit/s "$CPU_PROC"
		log "$name tput $dir: $(printf '%s\n' "${vals[@]}" | median | awk '{printf "%.2f", $1 / 1e9}') Gbit/s, its CPU $CPU_PROC%, machine $CPU_MACH%"
	done
	b1=$(($(devbytes c1) - b10))
	b2=$(($(devbytes c2) - b20))
	j1=$(ctr MPTcpExtMPJoinSynAckRx)
	m1=$(ctr MPTcpExtMPCapableSYNACKRX)
	row "$name" both path2_share "$(printf '%.1f' "$(bc -l <<<"$b2 / ($b1 + $b2 + 1) * 100")")" % null
	note "$name" "tput: client MPTCP connections / joins $((m1 - m0)) / $((j1 - j0)) (iperf3 opens 2 connections per test)"
	[ $fails -gt 0 ] && note "$name" "tput: $fails of $((2 * RUNS)) iperf3 runs failed (counted as 0)"
	return 0
}

# load NAME CLIENTPREFIX DEST WHO...: iperf3 -b RATE, machine CPU.
load() {
	local name=$1 prefix=$2 dest=$3
	shift 3
	test_on load || return 0
	local dir bps
	for dir in c2s s2c; do
		local flag=""
		[ $dir = s2c ] && flag="-R"
		snap_begin "$@"
		# shellcheck disable=SC2086
		bps=$(timeout $((SECS + 30)) ip netns exec "$NSC" $prefix iperf3 -c "$dest" -t "$SECS" -b "$RATE" -J $flag 2>>"$work/iperf3-client.log" |
			iperf_bps 2>>"$work/iperf3-client.log") || bps=0
		snap_end
		echo "$name load $dir: $bps bit/s, machine $CPU_MACH%, softirq $CPU_SIRQ%, its CPU $CPU_PROC%" >>"$work/runs"
		row "$name" $dir machine_cpu "$CPU_MACH" % "$CPU_PROC"
		row "$name" $dir load_throughput "$(awk -v b="$bps" 'BEGIN {printf "%.3f", b / 1e9}')" Gbit/s "$CPU_PROC"
		log "$name load $dir: $(awk -v b="$bps" 'BEGIN {printf "%.2f", b / 1e9}') Gbit/s, machine CPU $CPU_MACH%"
	done
}

# shortc NAME DEST MPTCP(0|1) WHO...: short connections.
shortc() {
	local name=$1 dest=$2 mp=$3
	shift 3
	test_on short || return 0
	local flag="" js
	[ "$mp" = 1 ] && flag="-mptcp"
	snap_begin "$@"
	# shellcheck disable=SC2086
	js=$(timeout $((SECS + 60)) ip netns exec "$NSC" bin/flexcp-shortconn short -addr "$dest" $flag -c "$CONC" -d "${SECS}s" 2>>"$work/shortconn-client.log") || true
	snap_end
	[ -n "$js" ] || js='{"ops_per_sec": 0, "errors": -1, "conns": 0, "mptcp_conns": 0, "latency": {"p50_us": 0, "p99_us": 0}}'
	echo "$name short: $js" >>"$work/runs"
	local rate p50 p99 errs share
	read -r rate p50 p99 errs share < <(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
c = r["conns"]
print("%.1f %.1f %.1f %d %.1f" % (r["ops_per_sec"], r["latency"]["p50_us"], r["latency"]["p99_us"], r["errors"], 100.0 * r["mptcp_conns"] / c if c else 0))
' "$js")
	row "$name" both conn_rate "$rate" conn/s "$CPU_PROC"
	row "$name" both conn_p50 "$p50" us "$CPU_PROC"
	row "$name" both conn_p99 "$p99" us "$CPU_PROC"
	row "$name" both conn_errors "$errs" count "$CPU_PROC"
	row "$name" both conn_mptcp "$share" % "$CPU_PROC"
	log "$name short: $rate conn/s, p50 $p50 us, p99 $p99 us, errors $errs, MPTCP $share%"
}

# pingpong NAME DEST MPTCP(0|1) WHO...: 64-byte ping-pong; WHO is moved
# to CPU 1 (unless softirq/none), the client and echo server run on CPU 0.
pingpong() {
	local name=$1 dest=$2 mp=$3
	shift 3
	test_on pingpong || return 0
	local flag="" js
	[ "$mp" = 1 ] && flag="-mptcp"
	[[ $1 != softirq && $1 != none && $name != flexcp* && $name != testpmd ]] && pin 1 "$@"
	pin 0 "$srv_echo"
	snap_begin "$@"
	# shellcheck disable=SC2086
	js=$(timeout $((SECS + 60)) taskset -c 0 ip netns exec "$NSC" bin/flexcp-shortconn pingpong -addr "$dest" $flag -d "${SECS}s" 2>>"$work/shortconn-client.log") || true
	snap_end
	pin 0-$(($(nproc) - 1)) "$srv_echo"
	[[ $1 != softirq && $1 != none && $name != flexcp* && $name != testpmd ]] && pin 0-$(($(nproc) - 1)) "$@"
	[ -n "$js" ] || js='{"ops_per_sec": 0, "errors": -1, "conns": 0, "mptcp_conns": 0, "latency": {"p50_us": 0, "p99_us": 0}}'
	echo "$name pingpong: $js" >>"$work/runs"
	local rate p50 p99 mpc
	read -r rate p50 p99 mpc < <(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
print("%.1f %.1f %.1f %d" % (r["ops_per_sec"], r["latency"]["p50_us"], r["latency"]["p99_us"], r["mptcp_conns"]))
' "$js")
	row "$name" both rr_p50 "$p50" us "$CPU_PROC"
	row "$name" both rr_p99 "$p99" us "$CPU_PROC"
	row "$name" both rr_rate "$rate" "round trips/s" "$CPU_PROC"
	[ "$mp" = 1 ] && [ "$mpc" != 1 ] && note "$name" "pingpong: the connection was NOT MPTCP (fell back to TCP)"
	log "$name pingpong: p50 $p50 us, p99 $p99 us"
}

cmds=()

# Baseline: the machine with nothing of ours running.
snap_begin none
sleep "$SECS"
snap_end
row baseline both machine_cpu "$CPU_MACH" % null
log "baseline machine CPU: $CPU_MACH%"

# 1. dpdk-testpmd io forwarding on the same AF_XDP vdevs (p1 <-> p3).
if want testpmd; then
	topo_up 0
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
	start_servers 0
	ok=0
	for _ in $(seq 1 60); do
		ip netns exec "$NSC" ping -c 1 -W 1 198.18.3.2 >/dev/null 2>&1 && ok=1 && break
		kill -0 "$tpid" 2>/dev/null || break
	done
	[ $ok = 1 ] || { log "testpmd does not forward"; exit 1; }
	tput testpmd "" 198.18.3.2 "$tpid"
	pingpong testpmd 198.18.3.2:5300 0 "$tpid"
	# The ceiling for translated traffic: Linux MPTCP at both ends, one
	# subflow over path 1, through the same testpmd (the MPTCP stacks'
	# own cost, which on veths runs inside the forwarder's send()).
	if test_on tput; then
		stop_servers
		start_servers 1
		ip netns exec "$NSC" ip mptcp limits set subflows 0 add_addr_accepted 0
		tput testpmd-mptcp "mptcpize run" 198.18.3.2 "$tpid"
		ip netns exec "$NSC" ip mptcp limits set subflows 2 add_addr_accepted 2
	fi
	stop_pid "$tpid"
	stop_pid "$holder"
	stop_servers
	cmds+=("testpmd: \`scripts/netns.sh up\`, client's neighbour 198.18.1.1 = s1's MAC, server's 198.18.3.1 = c1's MAC; PREFIX-p: \`dpdk-testpmd --no-pci --in-memory -l 0,1 --vdev net_af_xdp0,iface=p1,start_queue=0,queue_count=1 --vdev net_af_xdp1,iface=p3,start_queue=0,queue_count=1 -- --forward-mode=io --nb-cores=1 --auto-start\`; client plain TCP: \`iperf3 -c 198.18.3.2\`, \`flexcp-shortconn pingpong -addr 198.18.3.2:5300\`")
fi

# 2. flexcp.
flexcp_metrics() { # summary of flexcp's connection counters
	ip netns exec "$NSP" curl -s --max-time 2 http://127.0.0.1:9750/metrics 2>/dev/null | awk '
		/^flexcp_(connections_(opened|closed|active|fallback)|joins_(accepted|rejected)|drops)/ {
			n = $1; gsub(/worker="[0-9]+",?/, "", n); sub(/,\}/, "}", n); sub(/\{\}/, "", n); s[n] += $2 }
		END { for (n in s) if (s[n] != 0) printf "%s=%d ", n, s[n] }'
}
# start_flexcp IDLE: flexcp in the proxy namespace with that idle policy;
# sets fpid.
start_flexcp() {
	sed -e "s/^idle = \"adaptive\"/idle = \"$1\"/" -e 's/^linger = "60s"/linger = "2s"/' examples/netns.toml >"$work/flexcp-$1.toml"
	ip netns exec "$NSP" bin/flexcp --config "$work/flexcp-$1.toml" >>"$work/flexcp.log" 2>&1 &
	fpid=$!
	pids+=("$fpid")
	for _ in $(seq 1 100); do
		ip netns exec "$NSP" curl -s --max-time 1 -o /dev/null http://127.0.0.1:9750/metrics && break
		kill -0 "$fpid" 2>/dev/null || { log "flexcp exited during start-up"; exit 1; }
		sleep 0.2
	done
	ip netns exec "$NSC" ping -c 1 -W 3 198.18.3.2 >/dev/null
}
if want flexcp; then
	topo_up 0
	start_servers 0
	# idle=poll spins like testpmd: its throughput and ping-pong are the
	# like-for-like comparison with the ceiling.
	if [ "$IDLE" != poll ] && { test_on tput || test_on pingpong; }; then
		start_flexcp poll
		tput flexcp-poll "mptcpize run" 198.18.3.2 "$fpid"
		pingpong flexcp-poll 198.18.3.2:5300 1 "$fpid"
		stop_pid "$fpid"
	fi
	start_flexcp "$IDLE"
	tput flexcp "mptcpize run" 198.18.3.2 "$fpid"
	# Where the gap to testpmd goes: the same flexcp carrying testpmd's
	# traffic (a plain TCP client over path 1: routed, not translated),
	# then an MPTCP client held to one subflow (translated, no join).
	tput flexcp-routed "" 198.18.3.2 "$fpid"
	ip netns exec "$NSC" ip mptcp limits set subflows 0 add_addr_accepted 0
	tput flexcp-1sf "mptcpize run" 198.18.3.2 "$fpid"
	ip netns exec "$NSC" ip mptcp limits set subflows 2 add_addr_accepted 2
	load flexcp "mptcpize run" 198.18.3.2 "$fpid"
	shortc flexcp 198.18.3.2:5300 1 "$fpid"
	pingpong flexcp 198.18.3.2:5300 1 "$fpid"
	pingpong flexcp-routed 198.18.3.2:5300 0 "$fpid"
	note flexcp "counters after all tests: $(flexcp_metrics)"
	if test_on profile && command -v perf >/dev/null 2>&1; then
		psecs=$((SECS < 5 ? SECS : 5))
		for dir in c2s s2c; do
			flag=""
			[ $dir = s2c ] && flag="-R"
			# Per-thread CPU split over the run, and a call-graph profile.
			declare -A t0=()
			for t in /proc/"$fpid"/task/*; do t0[${t##*/}]=$(awk '{print $14 + $15}' "$t/stat"); done
			perf record -q -F 499 -g -p "$fpid" -o "$work/perf-$dir.data" -- sleep $((psecs + 1)) >/dev/null 2>&1 &
			perfpid=$!
			# shellcheck disable=SC2086
			ip netns exec "$NSC" mptcpize run iperf3 -c 198.18.3.2 -t "$psecs" $flag >/dev/null 2>&1 || true
			wait "$perfpid" || true
			{
				echo "flexcp profile, $dir (perf record -F 499 -g, $psecs s iperf3; per-thread CPU in s):"
				for t in /proc/"$fpid"/task/*; do
					id=${t##*/}
					d=$(($(awk '{print $14 + $15}' "$t/stat") - ${t0[$id]:-0}))
					[ "$d" -gt 0 ] && printf '  thread %s (%s): %.2f s\n' "$id" "$(cat "$t/comm")" "$(bc -l <<<"$d / $clk")"
				done
				echo "  top symbols by self time:"
				perf report -i "$work/perf-$dir.data" --stdio --no-children --sort symbol --percent-limit 1.5 -g none 2>/dev/null |
					grep -E '^ +[0-9]' | sed -E 's/[ -]+$//' | head -n 15
				echo "  top symbols by inclusive time (children, self):"
				perf report -i "$work/perf-$dir.data" --stdio --children --sort symbol --percent-limit 5 -g none 2>/dev/null |
					grep -E '^ +[0-9]' | sed -E 's/[ -]+$//' | head -n 40
			} >>"$work/profile" || true
			unset t0
		done
	fi
	stop_pid "$fpid"
	stop_servers
	cmds+=("flexcp: \`scripts/netns.sh up\`; PREFIX-p: \`bin/flexcp --config examples/netns.toml\` (idle=$IDLE, linger=2s); PREFIX-s: \`iperf3 -s -B 198.18.3.2\`, \`flexcp-shortconn server -listen 198.18.3.2:5300\`; PREFIX-c: \`mptcpize run iperf3 -c 198.18.3.2 [-R] [-b $RATE]\`, \`flexcp-shortconn short|pingpong -addr 198.18.3.2:5300 -mptcp\` (flexcp-routed: pingpong without -mptcp)")
fi

# The rest run with the kernel owning the proxy namespace's addresses.
topo_up 1

# 3. Kernel end-to-end MPTCP.
if want kernel; then
	start_servers 1
	tput kernel "mptcpize run" 198.18.3.2 softirq
	load kernel "mptcpize run" 198.18.3.2 softirq
	shortc kernel 198.18.3.2:5300 1 softirq
	pingpong kernel 198.18.3.2:5300 1 softirq
	stop_servers
	cmds+=("kernel: \`NETNS_KERNEL_FORWARD=1 scripts/netns.sh up\`; PREFIX-s: \`mptcpize run iperf3 -s -B 198.18.3.2\`, \`flexcp-shortconn server -listen 198.18.3.2:5300 -mptcp\`; PREFIX-c as for flexcp")
fi

# The shim for the split proxies.
shim=$work/mptcp-listen-shim.so
gcc -O2 -Wall -shared -fPIC -o "$shim" scripts/mptcp-listen-shim.c -ldl
mptcp_listening() { # how many MPTCP listeners on 198.18.1.1 in the proxy namespace
	ip netns exec "$NSP" ss -HlM "src 198.18.1.1" 2>/dev/null | wc -l
}
# proxy_tests NAME PID: every test through a split proxy started as PID.
proxy_tests() {
	local name=$1 pid=$2
	wait_port "$NSP" 198.18.1.1 5201
	wait_port "$NSP" 198.18.1.1 5300
	sleep 0.3
	[ "$(mptcp_listening)" -ge 2 ] || note "$name" "warning: the listeners are not MPTCP (shim failed?)"
	local all=("$pid" $(pgrep -P "$pid" || true))
	tput "$name" "mptcpize run" 198.18.1.1 "${all[@]}"
	load "$name" "mptcpize run" 198.18.1.1 "${all[@]}"
	shortc "$name" 198.18.1.1:5300 1 "${all[@]}"
	pingpong "$name" 198.18.1.1:5300 1 "${all[@]}"
}

# 4. nginx stream.
if want nginx; then
	start_servers 0
	for n in 1 2; do
		mkdir -p "$work/nginx$n"
		cat >"$work/nginx$n/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes $n;
daemon off;
master_process on;
pid $work/nginx$n/nginx.pid;
error_log $work/nginx$n/error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 16384; }
stream {
    server { listen 198.18.1.1:5201; proxy_pass 198.18.3.2:5201; }
    server { listen 198.18.1.1:5300; proxy_pass 198.18.3.2:5300; }
}
EOF
		ip netns exec "$NSP" env LD_PRELOAD="$shim" MPTCP_SHIM_DEBUG=1 \
			nginx -p "$work/nginx$n" -c "$work/nginx$n/nginx.conf" >"$work/nginx$n.log" 2>&1 &
		npid=$!
		pids+=("$npid")
		proxy_tests "nginx-${n}w" "$npid"
		stop_pid "$npid"
	done
	stop_servers
	cmds+=("nginx-Nw: \`NETNS_KERNEL_FORWARD=1 scripts/netns.sh up\`; PREFIX-p: \`LD_PRELOAD=mptcp-listen-shim.so nginx -p DIR -c DIR/nginx.conf\` (stream { server { listen 198.18.1.1:5201; proxy_pass 198.18.3.2:5201; } and the same for 5300 }, worker_processes N, daemon off); PREFIX-s: plain TCP servers; PREFIX-c: \`mptcpize run iperf3 -c 198.18.1.1 ...\`, \`flexcp-shortconn short|pingpong -addr 198.18.1.1:5300 -mptcp\`")
fi

# 5. haproxy tcp mode.
if want haproxy; then
	start_servers 0
	for n in 1 2; do
		cat >"$work/haproxy$n.cfg" <<EOF
global
    nbthread $n
    maxconn 8000
defaults
    mode tcp
    timeout connect 5s
    timeout client 120s
    timeout server 120s
frontend f5201
    bind 198.18.1.1:5201
    default_backend b5201
backend b5201
    server s1 198.18.3.2:5201
frontend f5300
    bind 198.18.1.1:5300
    default_backend b5300
backend b5300
    server s1 198.18.3.2:5300
EOF
		ip netns exec "$NSP" env LD_PRELOAD="$shim" MPTCP_SHIM_DEBUG=1 \
			haproxy -db -f "$work/haproxy$n.cfg" >"$work/haproxy$n.log" 2>&1 &
		hpid=$!
		pids+=("$hpid")
		proxy_tests "haproxy-${n}t" "$hpid"
		stop_pid "$hpid"
	done
	stop_servers
	cmds+=("haproxy-Nt: \`NETNS_KERNEL_FORWARD=1 scripts/netns.sh up\`; PREFIX-p: \`LD_PRELOAD=mptcp-listen-shim.so haproxy -db -f CFG\` (mode tcp, bind 198.18.1.1:5201 -> server 198.18.3.2:5201, the same for 5300, nbthread N); PREFIX-s, PREFIX-c as for nginx")
fi

shimok="not run"
if want nginx || want haproxy; then
	shimok=$(cat "$work"/nginx*.log "$work"/haproxy*.log 2>/dev/null | grep -c 'is now IPPROTO_MPTCP' || true)
	shimok="$shimok listening socket(s) swapped to IPPROTO_MPTCP (the shim's own log; nginx's workers inherit the master's)"
fi

# Meta data for the report.
{
	echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
	echo "machine=$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/{print $2}') GiB"
	echo "kernel=$(uname -r)"
	echo "dpdk=$(pkg-config --modversion libdpdk)"
	echo "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(d=$(git status --porcelain --untracked-files=no 2>/dev/null | awk '{print $2}' | xargs); [ -n "$d" ] && echo " (uncommitted changes in: $d)")"
	echo "versions=nginx $(nginx -v 2>&1 | sed 's|.*nginx/||'), haproxy $(haproxy -v | sed -n 's/^HAProxy version \([^ ]*\).*/\1/p'), iperf3 $(iperf3 -v | head -n1 | cut -d' ' -f2), Go $(go env GOVERSION)"
	echo "shim=$shimok"
	echo "secs=$SECS"
	echo "runs=$RUNS"
	echo "rate=$RATE"
	echo "conc=$CONC"
	echo "idle=$IDLE"
	echo "load=$(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min load average at the end)"
} >"$work/meta"
printf '%s\n' "${cmds[@]}" >"$work/cmds"
touch "$work/notes" "$work/runs" "$work/profile"

mkdir -p "$(dirname "$out")" "$(dirname "$jsonout")"
python3 scripts/compare-report.py "$work" "$out" "$jsonout"
log "wrote $out and $jsonout"
