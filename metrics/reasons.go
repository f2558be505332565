package metrics

import "strconv"

// DropReason says why a packet was dropped. Values below
// FirstTranslateDrop belong to the dataplane (L2/L3 forwarding), values
// from it to the translator. To add a reason, add a constant in the right
// block and its label in dropReasonNames; unnamed values still count and
// are exported as "dataplane_N" or "translate_N".
type DropReason uint8

// Dataplane drop reasons.
const (
	// DropNoRoute: no route (connected or static) covers the destination;
	// an ICMP destination-unreachable may be sent.
	DropNoRoute DropReason = iota
	// DropTTLExceeded: the IPv4 TTL or IPv6 hop limit would reach zero; an
	// ICMP time-exceeded is sent.
	DropTTLExceeded
	// DropBadL2: the frame is shorter than an Ethernet header or its VLAN
	// tags are malformed.
	DropBadL2
	// DropBadL3: the IPv4 or IPv6 header is invalid (version, header or
	// total length, IPv4 header checksum).
	DropBadL3
	// DropUnknownEtherType: the frame is neither IPv4, IPv6 nor ARP.
	DropUnknownEtherType
	// DropNotForUs: the frame is addressed to another MAC address.
	DropNotForUs
	// DropLocalUnsupported: the packet is addressed to flexcp itself with a
	// protocol it does not answer (anything but ARP, NDP and ICMP echo).
	DropLocalUnsupported
	// DropNeighborQueueFull: the next hop is being resolved and its queue
	// of waiting packets is full.
	DropNeighborQueueFull
	// DropNeighborUnresolved: the next hop did not answer ARP or NDP in
	// time; the packets waiting for it are dropped.
	DropNeighborUnresolved
	// DropTxFull: the transmit queue refused the packet.
	DropTxFull
	// DropBadARP: a malformed ARP packet, or one for another address.
	DropBadARP
	// DropBadNDP: a malformed NDP message (bad ICMPv6 checksum, hop limit
	// not 255, truncated options).
	DropBadNDP
	// DropTooBig: the packet exceeds the egress MTU and may not be
	// fragmented; ICMP fragmentation-needed or packet-too-big is sent.
	DropTooBig
	// DropBadICMP: a malformed ICMP or ICMPv6 message addressed to flexcp.
	DropBadICMP
	// DropNoMbuf: the mempool was empty when building a reply (ARP, NDP,
	// ICMP) or a generated segment.
	DropNoMbuf
	// DropHandoffFull: the ring to the core that owns the packet was full
	// (reserved for the handoff path).
	DropHandoffFull
)

// FirstTranslateDrop is the first drop reason of the translator's block.
const FirstTranslateDrop DropReason = 32

// Translator drop reasons.
const (
	// DropTranslateNoMapping: a client-to-server segment that no DSS
	// mapping covers (the client resends it with its mapping).
	DropTranslateNoMapping DropReason = FirstTranslateDrop + iota
	// DropTranslateBadOption: a malformed MPTCP option.
	DropTranslateBadOption
	// DropTranslateTableFull: the connection or token table is full and
	// falling back to TCP was not possible.
	DropTranslateTableFull
	// DropTranslateBadJoinToken: an MP_JOIN SYN with a token no connection
	// has (answered with RST; also counted in JoinsRejected).
	DropTranslateBadJoinToken
	// DropTranslateBadJoinHMAC: an MP_JOIN third ACK whose HMAC does not
	// verify (answered with RST; also counted in JoinsRejected).
	DropTranslateBadJoinHMAC
	// DropTranslateSubflowLimit: a join beyond proxy.max_subflows.
	DropTranslateSubflowLimit
	// DropTranslateBadDSSChecksum: a DSS checksum that does not verify.
	DropTranslateBadDSSChecksum
	// DropTranslateNoSubflow: server data with no live subflow to send it on.
	DropTranslateNoSubflow
	// DropTranslateOutOfWindow: a segment outside the connection's window.
	DropTranslateOutOfWindow
	// DropTranslateNoOptionSpace: the DSS option does not fit in the 40
	// option bytes even with SACK blocks removed.
	DropTranslateNoOptionSpace
	// DropTranslateNoConnection: a segment of a join subflow whose
	// connection state is gone (timed out or closed).
	DropTranslateNoConnection
	// DropTranslateJoinEarlyData: data on a join subflow before its fourth
	// ACK (RFC 8684 section 3.2).
	DropTranslateJoinEarlyData
)

// NumDropReasons is the number of drop counters per worker.
const NumDropReasons = 64

var dropReasonNames = [NumDropReasons]string{
	DropNoRoute:            "no_route",
	DropTTLExceeded:        "ttl_exceeded",
	DropBadL2:              "bad_l2",
	DropBadL3:              "bad_l3",
	DropUnknownEtherType:   "unknown_ethertype",
	DropNotForUs:           "not_for_us",
	DropLocalUnsupported:   "local_unsupported",
	DropNeighborQueueFull:  "neighbor_queue_full",
	DropNeighborUnresolved: "neighbor_unresolved",
	DropTxFull:             "tx_full",
	DropBadARP:             "bad_arp",
	DropBadNDP:             "bad_ndp",
	DropTooBig:             "too_big",
	DropBadICMP:            "bad_icmp",
	DropNoMbuf:             "no_mbuf",
	DropHandoffFull:        "handoff_full",

	DropTranslateNoMapping:      "translate_no_mapping",
	DropTranslateBadOption:      "translate_bad_option",
	DropTranslateTableFull:      "translate_table_full",
	DropTranslateBadJoinToken:   "translate_bad_join_token",
	DropTranslateBadJoinHMAC:    "translate_bad_join_hmac",
	DropTranslateSubflowLimit:   "translate_subflow_limit",
	DropTranslateBadDSSChecksum: "translate_bad_dss_checksum",
	DropTranslateNoSubflow:      "translate_no_subflow",
	DropTranslateOutOfWindow:    "translate_out_of_window",
	DropTranslateNoOptionSpace:  "translate_no_option_space",
	DropTranslateNoConnection:   "translate_no_connection",
	DropTranslateJoinEarlyData:  "translate_join_early_data",
}

// String returns the reason's label value, e.g. "no_route".
func (r DropReason) String() string {
	if int(r) < NumDropReasons && dropReasonNames[r] != "" {
		return dropReasonNames[r]
	}
	if r < FirstTranslateDrop {
		return "dataplane_" + strconv.Itoa(int(r))
	}
	return "translate_" + strconv.Itoa(int(r))
}

// named reports whether r has a label of its own.
func (r DropReason) named() bool { return int(r) < NumDropReasons && dropReasonNames[r] != "" }

// JoinReject says why an MP_JOIN was refused.
type JoinReject uint8

const (
	// JoinUnknownToken: no connection has the token of the MP_JOIN SYN.
	JoinUnknownToken JoinReject = iota
	// JoinBadHMAC: the third ACK's HMAC does not verify.
	JoinBadHMAC
	// JoinSubflowLimit: the connection already has proxy.max_subflows.
	JoinSubflowLimit
	// JoinNotEstablished: the connection has not finished its MP_CAPABLE
	// handshake, or has fallen back to TCP.
	JoinNotEstablished
	// JoinBadOption: the MP_JOIN option is malformed.
	JoinBadOption
	// JoinTimeout: the third ACK did not arrive within proxy.join_timeout.
	JoinTimeout
)

// NumJoinRejects is the number of join-reject counters per worker.
const NumJoinRejects = 16

var joinRejectNames = [NumJoinRejects]string{
	JoinUnknownToken:   "unknown_token",
	JoinBadHMAC:        "bad_hmac",
	JoinSubflowLimit:   "subflow_limit",
	JoinNotEstablished: "not_established",
	JoinBadOption:      "bad_option",
	JoinTimeout:        "timeout",
}

// String returns the reason's label value, e.g. "bad_hmac".
func (r JoinReject) String() string {
	if int(r) < NumJoinRejects && joinRejectNames[r] != "" {
		return joinRejectNames[r]
	}
	return "join_" + strconv.Itoa(int(r))
}

func (r JoinReject) named() bool { return int(r) < NumJoinRejects && joinRejectNames[r] != "" }

// Direction is the direction of translated traffic.
type Direction uint8

const (
	// C2S is client to server: subflow segments rewritten into the TCP
	// connection.
	C2S Direction = iota
	// S2C is server to client: TCP segments spread over the subflows.
	S2C
	// NumDirections is the number of directions.
	NumDirections
)

// String returns "c2s" or "s2c".
func (d Direction) String() string {
	switch d {
	case C2S:
		return "c2s"
	case S2C:
		return "s2c"
	}
	return "direction_" + strconv.Itoa(int(d))
}
