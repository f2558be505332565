#!/usr/bin/env python3
"""compare-report.py WORKDIR OUT.md OUT.json - the report of scripts/compare.sh.

Reads the measurements compare.sh collected in WORKDIR (rows.jsonl: one
JSON object per measurement, in the format documented at the top of
compare.sh; meta, cmds, notes, runs, profile: text) and writes the
Markdown report with issue 4's targets and the JSON array of rows.
"""
import json
import sys


def main():
    work, out_md, out_json = sys.argv[1:4]
    rows = []
    with open(f"{work}/rows.jsonl") as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    meta = {}
    with open(f"{work}/meta") as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            meta[k] = v
    cmds = [l.rstrip("\n") for l in open(f"{work}/cmds") if l.strip()]
    notes = [l.rstrip("\n").split("|", 1) for l in open(f"{work}/notes") if l.strip()]
    runs = open(f"{work}/runs").read()
    profile = open(f"{work}/profile").read()

    with open(out_json, "w") as f:
        f.write("[\n")
        f.write(",\n".join("  " + json.dumps(r) for r in rows))
        f.write("\n]\n")

    def get(name, metric, direction="both"):
        for r in rows:
            if r["name"] == name and r["metric"] == metric and r["direction"] == direction:
                return r
        return None

    def val(name, metric, direction="both"):
        r = get(name, metric, direction)
        return None if r is None else r["value"]

    def cpu(name, metric, direction="both"):
        r = get(name, metric, direction)
        return None if r is None else r["cpu"]

    def fmt(v, spec="%.2f"):
        return "-" if v is None else spec % v

    def pct(v):
        return "-" if v is None else "%.0f%%" % v

    idle = meta.get("idle", "adaptive")
    label = {
        "testpmd": "dpdk-testpmd io, AF_XDP (ceiling; plain TCP, path 1)",
        "flexcp": f"flexcp, AF_XDP, 1 worker, idle {idle}",
        "flexcp-poll": "flexcp, AF_XDP, 1 worker, idle poll",
        "flexcp-routed": "flexcp routing plain TCP (path 1, not translated)",
        "flexcp-1sf": "flexcp, MPTCP client held to one subflow (path 1, translated)",
        "testpmd-mptcp": "dpdk-testpmd io, Linux MPTCP at both ends, one subflow (path 1)",
        "kernel": "Linux MPTCP end to end, kernel forwarding (CPU = softirq)",
        "nginx-1w": "nginx stream, 1 worker",
        "nginx-2w": "nginx stream, 2 workers",
        "haproxy-1t": "haproxy tcp, nbthread 1",
        "haproxy-2t": "haproxy tcp, nbthread 2",
        "baseline": "baseline: no traffic",
    }
    order = ["testpmd", "testpmd-mptcp", "flexcp", "flexcp-poll", "flexcp-routed", "flexcp-1sf", "kernel", "nginx-1w", "nginx-2w", "haproxy-1t", "haproxy-2t"]
    present = [n for n in order if any(r["name"] == n for r in rows)]
    proxies = [n for n in ["nginx-1w", "nginx-2w", "haproxy-1t", "haproxy-2t"] if n in present]

    L = []
    w = L.append
    w("# flexcp vs dpdk-testpmd vs kernel end-to-end MPTCP vs split proxies")
    w("")
    w("Produced by `make compare` (scripts/compare.sh, which documents every test and the JSON")
    w("format of results/compare.json). Standard topology (DESIGN.md section 7), veth offloads off,")
    w("the client is Linux MPTCP with a second subflow over path 2 unless a row says otherwise.")
    w(f"Throughput: iperf3, one stream, {meta['runs']} run(s) x {meta['secs']} s per direction, medians.")
    w(f"Fixed load: iperf3 -b {meta['rate']} for {meta['secs']} s per direction. Short connections:")
    w(f"{meta['conc']} dialers for {meta['secs']} s, each connect, 64 bytes each way, close. Ping-pong: 64 bytes")
    w(f"each way over one connection for {meta['secs']} s, client and server on CPU 0, forwarder/proxy on CPU 1.")
    w("\"its CPU\" is the forwarder's or proxy's own CPU time during the measurement, in % of one")
    w("CPU (kernel: the machine's softirq time, which includes the peers' network stacks).")
    w("\"machine CPU\" is all non-idle time of the whole machine (/proc/stat), % of one CPU.")
    w("")
    for k, title in [("date", "date"), ("machine", "machine"), ("kernel", "kernel"), ("dpdk", "DPDK"),
                     ("commit", "commit"), ("versions", "versions"), ("shim", "split proxies' MPTCP listeners"),
                     ("load", "machine load")]:
        w(f"- {title}: {meta.get(k, '?')}")
    w("")

    # Targets.
    w("## Issue 4's targets")
    w("")
    w("| target | measured | ratio | verdict |")
    w("| --- | --- | --- | --- |")

    def verdict(ok):
        return "-" if ok is None else ("met" if ok else "**missed**")

    def ratio_row(text, num, den, target, dname):
        if num is None or den is None or den == 0:
            w(f"| {text} | not measured | - | - |")
            return
        r = num / den
        w(f"| {text} | {num:.2f} vs {den:.2f} {dname} | {r:.2f}x | {verdict(r >= target)} |")

    for d, dn in [("c2s", "client->server"), ("s2c", "server->client")]:
        ratio_row(f"flexcp >= 0.9x testpmd, {dn}", val("flexcp", "throughput", d), val("testpmd", "throughput", d), 0.9, "Gbit/s")
    for d, dn in [("c2s", "client->server"), ("s2c", "server->client")]:
        if get("flexcp-poll", "throughput", d) is not None:
            ratio_row(f"flexcp with idle poll (spins like testpmd) >= 0.9x testpmd, {dn}", val("flexcp-poll", "throughput", d),
                      val("testpmd", "throughput", d), 0.9, "Gbit/s")
    for d, dn in [("c2s", "client->server"), ("s2c", "server->client")]:
        ratio_row(f"flexcp >= 0.9x kernel E2E MPTCP, {dn}", val("flexcp", "throughput", d), val("kernel", "throughput", d), 0.9, "Gbit/s")
    for d, dn in [("c2s", "client->server"), ("s2c", "server->client")]:
        best = max(proxies, key=lambda n: val(n, "throughput", d) or 0, default=None)
        ratio_row(f"flexcp >= 1.3x the best split proxy ({best}), {dn}", val("flexcp", "throughput", d),
                  val(best, "throughput", d) if best else None, 1.3, "Gbit/s")
    best = max(proxies, key=lambda n: val(n, "conn_rate") or 0, default=None)
    ratio_row(f"short connections >= 2x the best split proxy ({best})", val("flexcp", "conn_rate"),
              val(best, "conn_rate") if best else None, 2.0, "conn/s")
    for n, what in [("flexcp", f"flexcp (idle {idle})"), ("flexcp-poll", "flexcp with idle poll"), ("flexcp-routed", "flexcp routing plain TCP (information only)")]:
        fp, tp = val(n, "rr_p50"), val("testpmd", "rr_p50")
        if fp is None or tp is None:
            if n == "flexcp":
                w("| ping-pong p50 adds <= 10 us over testpmd | not measured | - | - |")
            continue
        v = verdict(fp - tp <= 10) if n != "flexcp-routed" else "-"
        w(f"| {what}: ping-pong p50 adds <= 10 us over testpmd | {fp:.1f} vs {tp:.1f} us | {fp - tp:+.1f} us | {v} |")
        fq, tq = val(n, "rr_p99"), val("testpmd", "rr_p99")
        w(f"| (for information) {what}: ping-pong p99 over testpmd | {fq:.1f} vs {tq:.1f} us | {fq - tq:+.1f} us | - |")
    w("")

    # Throughput.
    w("## Throughput (Gbit/s, median)")
    w("")
    w("| system | client->server | its CPU | server->client | its CPU | path 2 share of client bytes |")
    w("| --- | --- | --- | --- | --- | --- |")
    for n in present:
        if get(n, "throughput", "c2s") is None:
            continue
        w(f"| {label[n]} | {fmt(val(n, 'throughput', 'c2s'))} | {pct(cpu(n, 'throughput', 'c2s'))} | "
          f"{fmt(val(n, 'throughput', 's2c'))} | {pct(cpu(n, 'throughput', 's2c'))} | {pct(val(n, 'path2_share'))} |")
    w("")

    # The gap to testpmd, step by step.
    steps = [("testpmd", "testpmd io forwarding, plain TCP"), ("flexcp-routed", "flexcp's dataplane, the same plain TCP (routed)"),
             ("flexcp-1sf", "+ translation: MPTCP client, one subflow"), ("flexcp", "+ the second subflow (the full job)")]
    if all(get(n, "throughput", "c2s") is not None for n, _ in steps):
        w("## Where flexcp's gap to testpmd goes")
        w("")
        w("Each row adds one thing to the row above; the ratios are to testpmd.")
        w("")
        w("| step | client->server | ratio | server->client | ratio |")
        w("| --- | --- | --- | --- | --- |")
        for n, what in steps:
            c, s_ = val(n, "throughput", "c2s"), val(n, "throughput", "s2c")
            tc, ts = val("testpmd", "throughput", "c2s"), val("testpmd", "throughput", "s2c")
            w(f"| {what} | {fmt(c)} | {fmt(c / tc if tc else None)}x | {fmt(s_)} | {fmt(s_ / ts if ts else None)}x |")
        w("")
        if get("testpmd-mptcp", "throughput", "c2s") is not None:
            mc, ms = val("testpmd-mptcp", "throughput", "c2s"), val("testpmd-mptcp", "throughput", "s2c")
            fc, fs = val("flexcp-1sf", "throughput", "c2s"), val("flexcp-1sf", "throughput", "s2c")
            w("The translation step against the same traffic's own ceiling: Linux MPTCP at both ends,")
            w("one subflow, through testpmd (the end hosts' MPTCP stacks cost the same there, and on")
            w("veths they run inside the forwarder's send()):")
            w("")
            w("| | client->server | server->client |")
            w("| --- | --- | --- |")
            w(f"| testpmd, MPTCP end to end, one subflow | {fmt(mc)} | {fmt(ms)} |")
            w(f"| flexcp, MPTCP client to TCP server, one subflow | {fmt(fc)} ({fmt(fc / mc if mc else None)}x) | {fmt(fs)} ({fmt(fs / ms if ms else None)}x) |")
            w("")

    # Fixed load.
    w(f"## CPU at a fixed offered load (iperf3 -b {meta['rate']})")
    w("")
    w("| system | machine CPU c2s | reached c2s Gbit/s | its CPU c2s | machine CPU s2c | reached s2c Gbit/s | its CPU s2c |")
    w("| --- | --- | --- | --- | --- | --- | --- |")
    b = val("baseline", "machine_cpu")
    if b is not None:
        w(f"| {label['baseline']} (other users of the machine) | {pct(b)} | - | - | {pct(b)} | - | - |")
    for n in present:
        if get(n, "machine_cpu", "c2s") is None:
            continue
        w(f"| {label[n]} | {pct(val(n, 'machine_cpu', 'c2s'))} | {fmt(val(n, 'load_throughput', 'c2s'))} | {pct(cpu(n, 'machine_cpu', 'c2s'))} | "
          f"{pct(val(n, 'machine_cpu', 's2c'))} | {fmt(val(n, 'load_throughput', 's2c'))} | {pct(cpu(n, 'machine_cpu', 's2c'))} |")
    w("")

    # Short connections.
    w("## Short connections (connect, 64 bytes each way, close)")
    w("")
    w("| system | conn/s | p50 us | p99 us | errors | MPTCP share | its CPU |")
    w("| --- | --- | --- | --- | --- | --- | --- |")
    for n in present:
        if get(n, "conn_rate") is None:
            continue
        w(f"| {label[n]} | {fmt(val(n, 'conn_rate'), '%.0f')} | {fmt(val(n, 'conn_p50'), '%.0f')} | {fmt(val(n, 'conn_p99'), '%.0f')} | "
          f"{fmt(val(n, 'conn_errors'), '%d')} | {pct(val(n, 'conn_mptcp'))} | {pct(cpu(n, 'conn_rate'))} |")
    w("")

    # Ping-pong.
    w("## Request/response latency (64-byte ping-pong, one connection)")
    w("")
    w("| system | p50 us | p99 us | round trips/s | its CPU |")
    w("| --- | --- | --- | --- | --- |")
    for n in present:
        if get(n, "rr_p50") is None:
            continue
        w(f"| {label[n]} | {fmt(val(n, 'rr_p50'), '%.1f')} | {fmt(val(n, 'rr_p99'), '%.1f')} | {fmt(val(n, 'rr_rate'), '%.0f')} | {pct(cpu(n, 'rr_p50'))} |")
    w("")

    if notes:
        w("## Notes from the run")
        w("")
        for n, t in notes:
            w(f"- {n}: {t}")
        w("")
    if profile.strip():
        w("## flexcp profile")
        w("")
        w("```")
        w(profile.rstrip())
        w("```")
        w("")
    w("## Commands (all as root; PREFIX is NETNS_PREFIX, default fcp)")
    w("")
    for c in cmds:
        w(f"- {c}")
    w("")
    w("## Per-run values")
    w("")
    w("```")
    w(runs.rstrip())
    w("```")
    with open(out_md, "w") as f:
        f.write("\n".join(L) + "\n")
    print("\n".join(L[L.index("## Issue 4's targets"):L.index("## Notes from the run") if "## Notes from the run" in L else len(L)]))


if __name__ == "__main__":
    main()
