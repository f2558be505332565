// Package dtree is flexcp's D-tree: per connection and direction, the
// mappings between data-level byte ranges (64-bit DSN) and subflow byte
// ranges (subflow id, 32-bit SSN) that the translator needs to rewrite
// sequence numbers without buffering (DESIGN.md sections 3 and 4).
//
// A Store is one core's slab. It holds a fixed array of tree headers (32
// bytes each, plus a ring header and a floor per subflow id in arrays
// sized by Config.Subflows: 80 bytes per tree with 4 ids) and a fixed
// array of 16-byte mapping records managed by a buddy allocator, all
// sized by New and never grown: when either is exhausted, NewClient
// or NewProxy reports false and inserts return Full. Handles (ClientMap,
// ProxyMap) are two uint32s, so the Go garbage collector has nothing to
// scan however many connections are live. A Store is owned by one
// goroutine and is not safe for concurrent use.
//
// Each tree is a set of ordered rings: one per subflow, ordered by SSN,
// and for a ProxyMap one more ordered by DSN. A ring is a power-of-two
// block of the slab used circularly, so appending at the tail and trimming
// at the head are O(1); lookups are binary searches; a full ring moves to
// a block twice the size (amortised O(1) per insert) and a ring a quarter
// full moves to a smaller one. Inserts in the middle (reordered client
// mappings, reinjections) shift the shorter side of the ring.
//
// ClientMap (client to server): the client chose the mappings. Only
// coverage matters, so consistent overlapping or touching mappings of a
// subflow are merged into one record: a client sending 64 KB mappings back
// to back costs one record per subflow run.
//
// ProxyMap (server to client): the proxy chose the mappings and must
// resend any byte with exactly the mapping it first went out with (RFC
// 8684 3.3.1: a receiver holding a mapping checks that a new mapping over
// the same subflow bytes is the same; Linux resets on MAPPING_INVALID).
// Each mapping is therefore stored exactly as sent and never merged or
// extended in place, even when it continues the previous one: extending
// would be right only if the wire had carried the extended mapping, which
// the proxy cannot know it will send when it sends the first segment.
// Resending the same mapping again is Duplicate and stores nothing.
// A data range may carry several mappings (reinjection); a byte is served
// by the covering mapping that starts last.
//
// What it gives up:
//   - At most Config.Subflows (up to MaxSubflows, 8) subflow ids per
//     tree, and MaxRingMappings (32768) mappings per subflow and per DSN
//     index of one tree.
//   - Sequence order is modular: the live mappings of one subflow must span
//     less than 2^31 subflow bytes, those of one ProxyMap less than 2^63
//     data bytes. Callers insert only in-window sequence numbers; garbage
//     from a hostile peer cannot crash the store, only spoil answers for
//     that connection.
//   - ProxyMap keeps each mapping twice (DSN index and subflow index).
//   - ProxyTrim frees a mapping from a subflow's index only once every
//     mapping sent before it on that subflow is freed; until then it is
//     invisible to queries but counted by ProxyLen.
//   - Where mappings overlap, a lookup scans back over the mappings that
//     start within the longest mapping length before the byte.
//   - There is no per-subflow "received contiguously" tracker: that needs
//     an interval set over out-of-order segments, which the engine keeps.
//
// Chosen over a per-connection sorted Go slice after measuring both on a
// 2-vCPU VM under load (Go 1.26.8, 2026-11-25, docs/dtree.md): append and
// trim of one mapping with 4096 in flight 65 ns against 89-210 ns, lookup
// 245-263 ns against 294-360 ns, and a forced GC with 2^20 connections
// live 10-53 ms against 524-634 ms; the cost is memory for tiny trees (612
// against 296 bytes per connection with three mappings each way).
package dtree
