package metrics

import "sync/atomic"

// MaxPorts is the number of per-port counter slots in a Counters block; it
// matches config.MaxPorts.
const MaxPorts = 16

// cacheLine is the padding unit that keeps two workers' blocks apart.
const cacheLine = 64

// PortCounters counts the packets and bytes a worker received and sent on
// one port (after the L2 header is parsed, before any drop).
type PortCounters struct {
	RxPackets, RxBytes atomic.Uint64
	TxPackets, TxBytes atomic.Uint64
}

// TranslatedCounters counts translated segments and their payload bytes.
type TranslatedCounters struct {
	Segments, Bytes atomic.Uint64
}

// Counters is one worker's block of counters. It is owned by that worker:
// only the owning worker writes it, with atomic adds and stores, so no lock
// is needed and writes never contend; the Collector reads it concurrently
// with atomic loads. Cache-line padding at both ends keeps two blocks from
// sharing a line wherever the allocator puts them. The zero value is ready
// to use.
//
// Fields ending in Active and NeighborEntries are gauges: the owner adds
// and subtracts, or stores a fresh value. Every other field is a counter
// that only grows.
type Counters struct {
	_ [cacheLine]byte

	// Port counts traffic per port index.
	Port [MaxPorts]PortCounters
	// Drops counts dropped packets by reason. The index is the owner's
	// reason number; Options.DropReasons labels it.
	Drops [MaxDropReasons]atomic.Uint64

	// ARPRequestsSent and ARPRepliesSent count ARP messages flexcp sent.
	ARPRequestsSent, ARPRepliesSent atomic.Uint64
	// NDPSolicitationsSent and NDPAdvertisementsSent count NDP messages
	// flexcp sent.
	NDPSolicitationsSent, NDPAdvertisementsSent atomic.Uint64
	// NeighborEntries is the size of the worker's neighbour table (gauge).
	NeighborEntries atomic.Int64
	// ICMPEchoRepliesSent counts answers to pings of flexcp's addresses.
	ICMPEchoRepliesSent atomic.Uint64
	// ICMPErrorsSent counts ICMP and ICMPv6 errors flexcp generated.
	ICMPErrorsSent atomic.Uint64

	// HandoffsSent and HandoffsReceived count packets passed to and taken
	// from other workers' rings (reserved for the handoff path).
	HandoffsSent, HandoffsReceived atomic.Uint64

	// ConnectionsOpened counts translated connections created by an
	// MP_CAPABLE SYN; ConnectionsClosed those whose state was released.
	ConnectionsOpened, ConnectionsClosed atomic.Uint64
	// ConnectionsActive is the number of connections in the table (gauge).
	ConnectionsActive atomic.Int64
	// Fallbacks counts connections that fell back to plain TCP, by reason
	// (client dropped MP_CAPABLE, option did not fit, table full, ...);
	// Options.FallbackReasons labels the index.
	Fallbacks [MaxFallbackReasons]atomic.Uint64
	// SubflowsOpened and SubflowsClosed count subflows, the initial one
	// included.
	SubflowsOpened, SubflowsClosed atomic.Uint64
	// SubflowsActive is the number of live subflows (gauge).
	SubflowsActive atomic.Int64
	// MappingTrees and MappingRecords are the D-tree occupancy (gauges):
	// live per-connection mapping stores and the slab records they hold.
	MappingTrees, MappingRecords atomic.Int64
	// TokensActive is the number of entries in the token table (gauge).
	TokensActive atomic.Int64
	// JoinsAccepted counts MP_JOINs that completed.
	JoinsAccepted atomic.Uint64
	// JoinsRejected counts refused MP_JOINs by reason; Options.JoinRejects
	// labels the index.
	JoinsRejected [MaxJoinRejects]atomic.Uint64
	// Translated counts translated segments per access port and direction.
	Translated [MaxPorts][NumDirections]TranslatedCounters
	// GeneratedACKs counts pure ACKs flexcp built to advance a subflow that
	// carried no segment (DESIGN.md section 3.4).
	GeneratedACKs atomic.Uint64
	// SplitRetransmissions counts server retransmissions split because the
	// range spanned several earlier mappings.
	SplitRetransmissions atomic.Uint64
	// Reinjections counts ranges resent on another subflow because theirs
	// died.
	Reinjections atomic.Uint64
	// SackTableMisses counts server segments whose SACK blocks found no
	// free SACKed-range table ([proxy] sack_tables), so their subflow
	// acks waited for the server's cumulative ack.
	SackTableMisses atomic.Uint64
	// StalePrompts counts stale subflows for which flexcp sent the server
	// duplicate ACKs (with SACK blocks) so it retransmits at once
	// ([proxy] stale_prompt).
	StalePrompts atomic.Uint64
	// ClosedResets counts RSTs flexcp sent the server in answer to its
	// segments on a connection the client had reset (MP_FASTCLOSE or an
	// RST on its last subflow), at most one per connection per 100 ms.
	ClosedResets atomic.Uint64
	// AcksThinned counts the server's pure ACKs a worker freed before
	// translation because a later pure ACK of the same connection in the
	// same burst superseded them (dataplane/thin.go).
	AcksThinned atomic.Uint64
	// Path is the path quality per access port (path.go).
	Path [MaxPorts]PathCounters

	_ [cacheLine]byte
}

// Rx counts pkts packets of bytes total received on port.
func (c *Counters) Rx(port int, pkts, bytes uint64) {
	p := &c.Port[port]
	p.RxPackets.Add(pkts)
	p.RxBytes.Add(bytes)
}

// Tx counts pkts packets of bytes total sent on port.
func (c *Counters) Tx(port int, pkts, bytes uint64) {
	p := &c.Port[port]
	p.TxPackets.Add(pkts)
	p.TxBytes.Add(bytes)
}

// Drop counts one packet dropped for reason r, an index in [0,
// MaxDropReasons); like any index, it panics outside that range.
func (c *Counters) Drop(r int) { c.Drops[r].Add(1) }

// DropN counts n packets dropped for reason r, e.g. a TX burst's refused
// tail.
func (c *Counters) DropN(r int, n uint64) { c.Drops[r].Add(n) }

// RejectJoin counts one MP_JOIN refused for reason r, an index in [0,
// MaxJoinRejects).
func (c *Counters) RejectJoin(r int) { c.JoinsRejected[r].Add(1) }

// Fallback counts one connection that fell back to plain TCP for reason r,
// an index in [0, MaxFallbackReasons).
func (c *Counters) Fallback(r int) { c.Fallbacks[r].Add(1) }

// AddTranslated counts one translated segment of payload bytes on access
// port port in direction d.
func (c *Counters) AddTranslated(port int, d Direction, payload uint64) {
	t := &c.Translated[port][d&1]
	t.Segments.Add(1)
	t.Bytes.Add(payload)
}

// Totals sums the main counters of several blocks, for the summary flexcp
// prints when it stops.
type Totals struct {
	RxPackets, RxBytes, TxPackets, TxBytes uint64
	Drops                                  uint64
	ConnectionsOpened, ConnectionsFallback uint64
	JoinsAccepted, JoinsRejected           uint64
}

// Sum adds up the blocks' counters, every slot of the reason arrays
// included, labelled or not. It may run while the workers write.
func Sum(blocks ...*Counters) Totals {
	var t Totals
	for _, c := range blocks {
		for i := range c.Port {
			p := &c.Port[i]
			t.RxPackets += p.RxPackets.Load()
			t.RxBytes += p.RxBytes.Load()
			t.TxPackets += p.TxPackets.Load()
			t.TxBytes += p.TxBytes.Load()
		}
		for i := range c.Drops {
			t.Drops += c.Drops[i].Load()
		}
		t.ConnectionsOpened += c.ConnectionsOpened.Load()
		for i := range c.Fallbacks {
			t.ConnectionsFallback += c.Fallbacks[i].Load()
		}
		t.JoinsAccepted += c.JoinsAccepted.Load()
		for i := range c.JoinsRejected {
			t.JoinsRejected += c.JoinsRejected[i].Load()
		}
	}
	return t
}
