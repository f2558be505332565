// Package dpdk is flexcp's own thin cgo binding to libdpdk 22.11, and the
// only package in the tree that imports "C". It is shaped after the DPDK
// libraries it wraps: EAL (Init, Cleanup, DevProbe, RegisterThread), mempool
// and mbuf (Mempool, Mbuf), ethdev (Port), ring (Ring) and rte_flow
// (Port.FlowValidate, FlowCreate).
//
// Binding rules:
//
//   - One cgo call per burst, never per packet. Port.RxBurst, Port.TxBurst,
//     Ring.EnqueueBurst, Ring.DequeueBurst, Mempool.AllocBulk and FreeBulk
//     each make exactly one call, passing a pointer to the first element of
//     a caller-owned []*Mbuf; BurstSet.Run does the TX, bulk-free and RX
//     bursts of several ports and the dequeues of several rings in one
//     call (the worker's poll round), handing C its descriptor block, which
//     lives in C memory, as an integer: no cgo pointer check runs. The
//     slices hold C pointers only, so they may be passed to C under the
//     cgo pointer rules; the C helpers are marked
//     noescape and nocallback, so the slices do not escape and the calls do
//     not allocate. Allocate burst arrays once, before the poll loop, with
//     NewMbufArray: cgo's default run-time pointer check scans an array in
//     Go memory on every call, which costs several times the burst itself.
//   - Mbuf fields by offset. An *Mbuf points at a struct rte_mbuf in C
//     memory; its accessors (Data, DataLen, Prepend, Adj, RSSHash, ...) read
//     and write the fields at offsets that a test checks against C's
//     offsetof, with no cgo call and no allocation.
//   - Single-segment mbufs only. Data is the first segment and the setters
//     keep pkt_len equal to data_len; do not enable scatter RX or
//     multi-segment TX.
//   - Ownership. RxBurst and AllocBulk hand mbufs to the caller; TxBurst and
//     EnqueueBurst take the first n and leave the rest with the caller, who
//     must retry or free them.
//   - Errors. Control-plane calls return errors wrapping an Errno (DPDK's
//     errno with rte_strerror's text) with the call and port, e.g.
//     "dpdk: rte_eth_dev_configure(port 1, ...): ...: Invalid argument";
//     errors.Is(err, syscall.EINVAL) works. rte_errno is read inside the
//     same C call that set it, because goroutines move between threads.
//     rte_flow failures are a *FlowError carrying the PMD's message.
//   - Threads. Init runs rte_eal_init on a dedicated OS thread that stays
//     locked and idle (it is EAL's main lcore); poll loops run on goroutines
//     that call runtime.LockOSThread, PinThread and RegisterThread, and
//     UnregisterThread before unlocking.
//
// rte_flow rules are plain Go values (FlowAttr, []FlowItem with FlowETH,
// FlowIPv4, FlowIPv6, FlowTCP, FlowUDP, FlowRaw specs and masks, and
// []FlowAction with FlowQueue, FlowRSS, FlowMark, DROP and PASSTHRU).
// MarshalFlowRule copies them into C memory for the call and CFlowRule.Decode
// reads them back, which tests use to check the marshalling. Ports whose
// driver has no flow API (net_null, net_ring, net_af_packet, net_af_xdp)
// fail with an error that wraps syscall.ENOSYS.
//
// What it gives up: multi-segment mbufs, the flow items' "last" ranges and
// the ETH has_vlan and IPv6 extension-header flags, per-queue rx_conf and
// tx_conf (PMD defaults are used), RETA updates, rte_eal_remote_launch
// (Go cannot run on EAL's worker threads; register Go threads instead),
// secondary processes, and every DPDK library flexcp does not use (crypto,
// eventdev, hash, LPM, timers). Mbuf offsets are those of DPDK 22.11 on
// x86-64 built with RTE_IOVA_AS_PA, as Debian 12's package is; the offset
// test fails loudly on any other layout.
//
// Cost, measured on 2 vCPUs (AMD Turin-class VM, shared with other jobs),
// DPDK 22.11.11, Go 1.26.8, 2026-11-25, with
// go test -run '^$' -bench . -benchmem ./dataplane/dpdk/:
// TxBurst+RxBurst of 32 packets through net_ring 3.6-4.1 ns/pkt with a
// NewMbufArray array and 16-33 ns/pkt with a make([]*Mbuf) array (the cgo
// pointer check); Ring.EnqueueBurst+DequeueBurst of 32, 5.6-7.7 ns/pkt; one
// cgo call about 35 ns; 0 allocations.
package dpdk
