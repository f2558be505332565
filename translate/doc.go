// Package translate is flexcp's MPTCP-to-TCP translation engine: it turns
// the subflows of a Multipath TCP client (RFC 8684, version 1) into the one
// TCP connection a server sees, and spreads the server's segments back over
// the subflows, packet by packet, without terminating the connection,
// buffering the byte stream or running congestion control (DESIGN.md
// sections 3 and 4; the sequence math, invariants and decisions are in
// docs/translation.md).
//
// An Engine is one worker core's translator. The dataplane hands it IP
// packets in buffers with headroom (Packet) and gets a Verdict back: Pass
// (not ours, route unchanged), Forward (rewritten in place, route by the
// new destination), Consumed (absorbed or answered) or Drop (reason
// counted in Counters). Packets the engine creates (join SYN/ACKs, fourth
// ACKs, generated ACKs with DATA_ACK, RSTs, answers to subflow FINs, split
// retransmission pieces) come from the caller's Allocator and wait in
// Emitted until the caller drains them after the burst. Tick runs the
// timer wheel (SYN, join, idle and linger timeouts) and refills the key
// source. The clock is passed in once per burst.
//
// State is bounded and pointer-free where it is large: a fixed slab of
// connections and subflows, an open-addressing flow table keyed by 4-tuple
// and side, a token table, a hashed timer wheel over connection indices,
// and the mapping store of package dtree. When a table is full a new
// MP_CAPABLE SYN is forwarded as plain TCP (the client falls back). The
// established data paths do not allocate, lock, or read the clock.
//
// What it gives up: the proxy never buffers, so a subflow's ack to the
// client waits for the server's ack of the bytes it carried, and P keeps
// no retransmission timer of its own (its subflow FIN is repeated on every
// later segment of that subflow until acknowledged); the TCP timestamp
// option is removed from every SYN rather than translated; the client's
// DSS checksums are verified only on a segment that carries its whole
// mapping (a bad one is a counted drop, not MP_FAIL), since P does not
// hold back the earlier segments of a longer mapping;
// P's own DSS checksums over part of a mapping rely on a bounded cache of
// mapping sums, and a part whose mapping sum was evicted goes out as a new
// mapping; IPv4 options, IPv4 fragments and
// IPv6 extension headers are not translated; an infinite mapping falls
// back only on a connection that never had a second subflow; a subflow
// declared dead keeps any hole the reinjected data left in its sequence
// space. An Engine is owned by one goroutine and is not safe for
// concurrent use.
package translate
