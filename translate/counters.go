package translate

// DropReason says why the engine dropped a packet or degraded. One counter
// per value in Counters.Drops.
type DropReason uint8

const (
	// DropMalformed: IP or TCP header failed validation on a packet of a
	// translated connection (or on a SYN that would start one).
	DropMalformed DropReason = iota
	// DropNoMapping: C->S payload that no client DSS mapping covers
	// (RFC 8684 section 3.3.1); the client retransmits it with a mapping.
	DropNoMapping
	// DropNoHeadroom: a packet needed more headroom than it had to grow
	// its header.
	DropNoHeadroom
	// DropOptionSpace: a rewritten header would exceed 40 option bytes
	// even after dropping SACK blocks.
	DropOptionSpace
	// DropAllocFailed: the Allocator had no buffer for a packet the engine
	// wanted to create (generated ACK, answer, split piece).
	DropAllocFailed
	// DropEmitFull: the emitted-packet list was full.
	DropEmitFull
	// DropBadState: a segment that does not fit the connection's state
	// (data before the handshake completed, a SYN on an established
	// subflow, an ACK for a join not yet verified).
	DropBadState
	// DropUnsupported: a packet of a translated connection that the
	// engine does not translate (IPv4 fragment, IPv6 extension header,
	// IPv4 options).
	DropUnsupported
	// DropNoSubflow: an S->C segment of an established connection with no
	// established subflow to carry it.
	DropNoSubflow
	// DropStale: a segment entirely below what was already acknowledged
	// and carrying nothing new (duplicate of acknowledged data).
	DropStale
	// DropKeyExhausted: no key_P was available (empty key batch or token
	// collisions); the connection fell back to TCP.
	DropKeyExhausted
	// DropMapFull: the S->C mapping store of a connection was full; the
	// segment was dropped (S retransmits it later).
	DropMapFull
	// DropDSSChecksum: a client segment carrying a whole mapping failed
	// its DSS checksum (RFC 8684 3.3.1); the client retransmits it.
	DropDSSChecksum
	// DropMapConflict: a client DSS mapping that contradicts one the
	// client sent earlier for the same subflow bytes (RFC 8684 section
	// 3.3.1: the receiver must not accept it); the segment is dropped.
	DropMapConflict
	// DropRSTOutOfWindow: an RST whose sequence number is outside the
	// receive window (RFC 5961 section 3.2); it closes nothing.
	DropRSTOutOfWindow
	// DropClosed: an S->C segment of a connection already closed, with no
	// subflow left to carry it and nothing in it the client needs (P
	// answers S's retransmissions of acknowledged data and FIN itself):
	// S's data still in flight when the client aborted (MP_FASTCLOSE or
	// an RST on its last subflow; P sent S an RST), or S's ACK of a
	// repeated client FIN that arrives after every subflow finished its
	// FIN exchange (docs/translation.md, "S->C segments after the close").
	// On a connection the client reset, some of these are also answered
	// with an RST to S (Counters.ClosedResets, I32).
	DropClosed
	// DropStrayMPTCP: a client segment other than a SYN that carries an
	// MPTCP option (kind 30), toward a destination the proxy translates,
	// whose 4-tuple names no connection or subflow: the rest of a join P
	// reset (the client's duplicate ACKs in flight after a no_join_ack
	// rejection), of a connection whose state ended (linger, idle
	// timeout, a restart), or forged. Routed, it would reach the TCP-only
	// server untranslated, with subflow sequence numbers or a join's
	// 4-tuple; P answers it with an RST carrying MP_TCPRST instead, as
	// the endpoint of that subflow without a connection (RFC 8684 3.2 and
	// 3.6, RFC 9293 3.10.7.1), except an RST, which is only dropped, and a
	// packet P does not parse (IPv4 options, IPv6 extension headers),
	// dropped without an answer (docs/translation.md I33).
	DropStrayMPTCP
	// DropReasonCount is the number of drop reasons.
	DropReasonCount
)

var dropReasonNames = [DropReasonCount]string{
	"malformed", "no_mapping", "no_headroom", "option_space", "alloc_failed",
	"emit_full", "bad_state", "unsupported", "no_subflow", "stale",
	"key_exhausted", "map_full", "dss_checksum", "map_conflict", "rst_out_of_window",
	"closed", "stray_mptcp",
}

// String returns the reason's metric label.
func (r DropReason) String() string {
	if r < DropReasonCount {
		return dropReasonNames[r]
	}
	return "unknown"
}

// JoinReject says why a join (MP_JOIN, RFC 8684 section 3.2) was refused.
type JoinReject uint8

const (
	// JoinUnknownToken: no connection has the token of the MP_JOIN SYN.
	JoinUnknownToken JoinReject = iota
	// JoinBadHMAC: the third ACK's 160-bit HMAC did not verify.
	JoinBadHMAC
	// JoinNotEstablished: the connection has not learned key_C yet.
	JoinNotEstablished
	// JoinTooManySubflows: the connection already has Config.MaxSubflows.
	JoinTooManySubflows
	// JoinTableFull: the flow table or the join-subflow slab
	// (Config.JoinSubflows) had no slot for the subflow.
	JoinTableFull
	// JoinTimeout: the third ACK did not arrive within Config.JoinTimeout.
	JoinTimeout
	// JoinMalformed: the MP_JOIN option had a wrong length or subtype.
	JoinMalformed
	// JoinNoJoinAck: the client acknowledged the join's SYN/ACK without
	// an MP_JOIN option (Linux does so when its connection has already
	// sent DATA_FIN: a join that raced the close); P resets the subflow.
	JoinNoJoinAck
	// JoinRejectCount is the number of reasons.
	JoinRejectCount
)

var joinRejectNames = [JoinRejectCount]string{
	"unknown_token", "bad_hmac", "not_established", "too_many_subflows",
	"table_full", "timeout", "malformed", "no_join_ack",
}

// String returns the reason's metric label.
func (r JoinReject) String() string {
	if r < JoinRejectCount {
		return joinRejectNames[r]
	}
	return "unknown"
}

// FallbackReason says why a connection became (or stayed) plain TCP.
type FallbackReason uint8

const (
	// FallbackTableFull: no connection or token slot (DESIGN 3.8).
	FallbackTableFull FallbackReason = iota
	// FallbackNoOptionSpace: S's SYN/ACK had no room for MP_CAPABLE.
	FallbackNoOptionSpace
	// FallbackClientDropped: the client's third ACK or first data had no
	// MP_CAPABLE/DSS (RFC 8684 section 3.7).
	FallbackClientDropped
	// FallbackInfiniteMapping: the client sent an infinite mapping
	// (RFC 8684 section 3.7) on a connection that had only subflow 0.
	FallbackInfiniteMapping
	// FallbackVersion: the SYN's MP_CAPABLE was not version 1.
	FallbackVersion
	// FallbackNoKey: no key_P could be drawn.
	FallbackNoKey
	// FallbackReasonCount is the number of reasons.
	FallbackReasonCount
)

var fallbackNames = [FallbackReasonCount]string{
	"table_full", "no_option_space", "client_dropped", "infinite_mapping",
	"version", "no_key",
}

// String returns the reason's metric label.
func (r FallbackReason) String() string {
	if r < FallbackReasonCount {
		return fallbackNames[r]
	}
	return "unknown"
}

// MaxCountedPorts is the number of access port indices counted per port.
const MaxCountedPorts = 16

// Counters are the engine's statistics. They are plain integers written
// only by the goroutine that owns the Engine; a reader on another
// goroutine must receive a copy through the owner (Engine.Counters returns
// one), not read the live struct.
type Counters struct {
	ConnOpened    uint64 // MP_CAPABLE SYNs that created state
	ConnClosed    uint64 // connections whose state was released
	ConnFallback  [FallbackReasonCount]uint64
	SubflowOpened uint64 // subflows established (subflow 0 and joins)
	SubflowClosed uint64 // subflows released

	JoinsAccepted uint64 // join third ACKs verified
	JoinsRejected [JoinRejectCount]uint64

	SegmentsC2S uint64 // segments translated client to server
	BytesC2S    uint64 // payload bytes translated client to server
	SegmentsS2C uint64 // segments translated server to client
	BytesS2C    uint64 // payload bytes translated server to client
	// PortSegments and PortBytes split the four counters above by the
	// access port of the subflow (index 0 client to server, 1 server to
	// client; ports beyond MaxCountedPorts are not split).
	PortSegments [2][MaxCountedPorts]uint64
	PortBytes    [2][MaxCountedPorts]uint64

	GeneratedAcks     uint64 // pure ACKs created for other subflows (I14)
	SplitRetransmits  uint64 // S retransmissions split over several mappings (I12)
	Retransmits       uint64 // S->C segments resent on their original mapping
	AcksForClient     uint64 // S retransmissions of data C had acknowledged, answered with its DATA_ACK
	ChecksumEvictions uint64 // live mapping sums pushed out of the checksum cache
	ChecksumMisses    uint64 // partial retransmissions sent as new mappings for want of the mapping's sum
	Reinjections      uint64 // S->C ranges remapped to a new subflow (I12)
	DataFinC2S        uint64 // DATA_FINs turned into TCP FINs
	DataFinS2C        uint64 // TCP FINs turned into DATA_FINs
	SubflowFins       uint64 // subflow FINs answered by P
	Resets            uint64 // RSTs or MP_FASTCLOSE that ended a connection
	Timeouts          uint64 // connections released by a timer
	SackTableMisses   uint64 // S segments whose SACKs found no free table (Config.SackTables; I25 skipped)
	Prompts           uint64 // stale subflows for which S was prompted to retransmit (I30)
	PromptAcks        uint64 // duplicate ACKs sent to S by those prompts
	ClosedResets      uint64 // RSTs answering S's segments after the client reset the connection (I32)

	// ChecksumUnverified counts client segments with a DSS checksum over
	// a mapping longer than the segment, forwarded without verifying it
	// (P does not buffer the rest of the mapping).
	ChecksumUnverified uint64

	Drops [DropReasonCount]uint64
}

// countPort adds one segment of n payload bytes to direction d (0 client
// to server, 1 server to client) of access port port.
func (c *Counters) countPort(d int, port uint8, n uint64) {
	if int(port) < MaxCountedPorts {
		c.PortSegments[d][port]++
		c.PortBytes[d][port] += n
	}
}
