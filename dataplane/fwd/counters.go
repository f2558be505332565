package fwd

// DropReason says why fwd freed a frame instead of transmitting it.
type DropReason uint8

// Drop reasons. Counters.Drops is indexed by them.
const (
	// DropBadFrame: Off/Len do not fit the buffer, or the port is unknown.
	DropBadFrame DropReason = iota
	// DropEthTruncated: shorter than an Ethernet header.
	DropEthTruncated
	// DropEthNotForUs: destination MAC is neither the port's, broadcast,
	// nor a multicast group the port listens to.
	DropEthNotForUs
	// DropVLAN: 802.1Q or 802.1ad tagged; VLANs are unsupported.
	DropVLAN
	// DropEtherType: EtherType other than ARP, IPv4 and IPv6.
	DropEtherType
	// DropARPMalformed: truncated, or not Ethernet/IPv4 ARP.
	DropARPMalformed
	// DropARPNotForUs: ARP that neither targets our address nor updates a
	// neighbor (learning from it still happened if it could).
	DropARPNotForUs
	// DropIPv4Truncated: shorter than 20 bytes.
	DropIPv4Truncated
	// DropIPv4Version: version field is not 4 on an IPv4 EtherType.
	DropIPv4Version
	// DropIPv4HeaderLen: IHL below 5 or beyond the total length.
	DropIPv4HeaderLen
	// DropIPv4TotalLen: total length beyond the frame.
	DropIPv4TotalLen
	// DropIPv4Checksum: header checksum is wrong.
	DropIPv4Checksum
	// DropIPv6Truncated: shorter than 40 bytes.
	DropIPv6Truncated
	// DropIPv6Version: version field is not 6 on an IPv6 EtherType.
	DropIPv6Version
	// DropIPv6PayloadLen: payload length beyond the frame.
	DropIPv6PayloadLen
	// DropMulticast: IP multicast or broadcast destination that fwd does
	// not handle (it routes unicast only).
	DropMulticast
	// DropMartian: destination is a subnet broadcast, a link-local address
	// not ours, or another address that must not be forwarded.
	DropMartian
	// DropNoRoute: no route to the destination.
	DropNoRoute
	// DropTTLExpired: TTL or hop limit would reach zero (an ICMP time
	// exceeded was sent unless rate-limited).
	DropTTLExpired
	// DropTooBig: larger than the egress MTU with DF set, or IPv6 (an ICMP
	// fragmentation needed / packet too big was sent unless rate-limited).
	DropTooBig
	// DropTooBigNoDF: IPv4 larger than the egress MTU without DF; fwd does
	// not fragment.
	DropTooBigNoDF
	// DropNoHeadroom: no room before the IP header for an Ethernet header.
	DropNoHeadroom
	// DropLocal: addressed to us, but not an echo request or NDP (fwd
	// terminates nothing else).
	DropLocal
	// DropICMPMalformed: ICMP to us truncated, with a bad checksum, or a
	// fragment.
	DropICMPMalformed
	// DropICMPv6Ignored: ICMPv6 to us that fwd ignores (router
	// solicitation/advertisement, redirect, MLD, echo reply, errors...).
	DropICMPv6Ignored
	// DropNDPMalformed: NS/NA with a hop limit other than 255, a bad
	// checksum, a non-zero code, bad options or a multicast target.
	DropNDPMalformed
	// DropNDPNotForUs: NS for a target that is not ours, or NA that
	// updates no entry.
	DropNDPNotForUs
	// DropNeighborFailed: the next hop did not answer resolution and is in
	// its failed period.
	DropNeighborFailed
	// DropNeighborTableFull: no neighbor entry could be made for the next
	// hop (all candidate slots static).
	DropNeighborTableFull
	// DropPendingFull: the next hop is being resolved and its queue
	// (Config.PendingPerNeighbor), or the worker's pending pool
	// (Config.PendingTotal), is full. It happens only while a next hop
	// has no address: the first packets toward it (flexcp just started,
	// with peers whose caches already hold flexcp's MAC and so never ask
	// for it; or a next hop first used by a burst), or a new resolution
	// after the next hop failed (neighbor_failed). A reachable entry that
	// turns stale keeps forwarding while it is probed, so steady traffic
	// never queues. More frames than the queue holds arriving before the
	// reply are dropped, as RFC 4861 7.2.2 and RFC 1122 2.3.2.2 allow (a
	// small queue, at least one packet).
	DropPendingFull
	// DropPendingExpired: queued for a next hop that never resolved, or
	// whose entry was evicted.
	DropPendingExpired
	// NumDropReasons is the number of drop reasons.
	NumDropReasons
)

var dropNames = [NumDropReasons]string{
	"bad_frame", "eth_truncated", "eth_not_for_us", "vlan", "ethertype",
	"arp_malformed", "arp_not_for_us", "ipv4_truncated", "ipv4_version",
	"ipv4_header_len", "ipv4_total_len", "ipv4_checksum", "ipv6_truncated",
	"ipv6_version", "ipv6_payload_len", "multicast", "martian", "no_route",
	"ttl_expired", "too_big", "too_big_no_df", "no_headroom", "local",
	"icmp_malformed", "icmpv6_ignored", "ndp_malformed", "ndp_not_for_us",
	"neighbor_failed", "neighbor_table_full", "pending_full", "pending_expired",
}

// String returns the reason's metric label, e.g. "ttl_expired".
func (r DropReason) String() string {
	if r < NumDropReasons {
		return dropNames[r]
	}
	return "unknown"
}

// PortCounters counts, for one port, what fwd received and sent.
type PortCounters struct {
	// RXPackets and RXBytes count frames handed to Classify or HandleBurst
	// from this port (Ethernet bytes).
	RXPackets, RXBytes uint64
	// FwdPackets and FwdBytes count IP packets routed out of this port
	// (Ethernet bytes), transit and locally originated alike.
	FwdPackets, FwdBytes uint64
	// TXPackets and TXBytes count every frame put on this port's TX list:
	// forwarded packets, ARP/NDP, echo replies and ICMP errors.
	TXPackets, TXBytes uint64
}

// Counters are one worker's statistics. They are plain integers written
// only by the worker that owns the Forwarder; a collector on another
// goroutine must not read them directly but take copies the worker
// publishes (for example with atomic stores once per burst or per second).
type Counters struct {
	_ [64]byte // keeps the hot counters off the cache line before
	// Drops counts freed frames by reason.
	Drops [NumDropReasons]uint64
	// Ports counts per port, indexed by port index.
	Ports []PortCounters
	// ARPRequestsSent counts ARP requests sent (resolution and probes).
	ARPRequestsSent uint64
	// ARPRepliesSent counts ARP replies sent for our addresses.
	ARPRepliesSent uint64
	// ARPReceived counts ARP messages consumed without a drop (replies and
	// requests we learned from or answered).
	ARPReceived uint64
	// NSSent counts neighbor solicitations sent.
	NSSent uint64
	// NASent counts neighbor advertisements sent for our addresses.
	NASent uint64
	// NDPReceived counts NS/NA consumed without a drop.
	NDPReceived uint64
	// Neighbors is the number of neighbor table entries in use (static
	// included).
	Neighbors uint64
	// PendingPackets is the number of packets waiting for a next hop.
	PendingPackets uint64
	// EchoReplies counts ICMP and ICMPv6 echo replies sent.
	EchoReplies uint64
	// TimeExceededSent counts ICMP and ICMPv6 time-exceeded messages sent.
	TimeExceededSent uint64
	// FragNeededSent counts ICMP fragmentation-needed messages sent.
	FragNeededSent uint64
	// PacketTooBigSent counts ICMPv6 packet-too-big messages sent.
	PacketTooBigSent uint64
	// ICMPRateLimited counts ICMP errors not sent because of the rate
	// limit.
	ICMPRateLimited uint64
	// AllocFailures counts Allocator.Alloc calls that returned no buffer.
	AllocFailures uint64
	_             [64]byte
}

func (c *Counters) drop(r DropReason) { c.Drops[r]++ }
