package translate

// Side says which kind of port a packet arrived on (or, for packets the
// engine forwards or creates, the kind of port it leaves on).
type Side uint8

const (
	// Access is the client side: ports toward MPTCP clients, one per access
	// network.
	Access Side = iota
	// Core is the server side: ports toward TCP servers.
	Core
)

// String returns "access" or "core".
func (s Side) String() string {
	if s == Core {
		return "core"
	}
	return "access"
}

// Packet is one IP packet in a caller-owned buffer with headroom. Buf is the
// whole buffer and [Off, Off+Len) the IP packet. The engine rewrites headers
// in place and may move the start of the packet into the headroom (at least
// MinHeadroom bytes before Off are expected) or toward the payload; it
// updates Off and Len and never moves the payload of a packet it forwards.
// Side and Port name the ingress side and port on input; after Forward, and
// on emitted packets, they name the egress side and, toward a client, the
// access port its subflow was last seen on. Ref is carried untouched (the
// dataplane keeps its mbuf handle there).
type Packet struct {
	Buf  []byte
	Off  int
	Len  int
	Side Side
	Port uint8
	Ref  uintptr
}

// MinHeadroom is the headroom, in bytes before Packet.Off, that the engine
// may need to add a DSS option (and pad) to a packet it forwards. With less
// headroom such a packet is dropped (DropNoHeadroom).
const MinHeadroom = 64

// Bytes returns the IP packet, Buf[Off:Off+Len].
func (p *Packet) Bytes() []byte { return p.Buf[p.Off : p.Off+p.Len] }

// Verdict is what the caller does with a packet after Process.
type Verdict uint8

const (
	// Pass: not a translated connection; route it unchanged.
	Pass Verdict = iota
	// Forward: rewritten in place; route it by its (possibly new)
	// destination. Side and Port hold the egress hints.
	Forward
	// Consumed: absorbed or answered by packets in Emitted; the caller
	// frees the buffer.
	Consumed
	// Drop: discard the packet; the reason has been counted.
	Drop
)

// String returns the verdict's name.
func (v Verdict) String() string {
	switch v {
	case Pass:
		return "pass"
	case Forward:
		return "forward"
	case Consumed:
		return "consumed"
	case Drop:
		return "drop"
	}
	return "verdict?"
}

// Allocator hands out empty packet buffers for packets the engine creates.
// Alloc returns a Packet whose Buf has room for at least MinHeadroom bytes
// before Off plus a full-size packet (1500 bytes of IPv6 or IPv4) after it;
// Len is ignored and Ref is carried to the emitted packet. ok is false when
// no buffer is available; the engine then counts DropAllocFailed and
// degrades (a generated ACK is skipped, a split retransmission sends only
// its first piece). It is called only when a packet is created.
type Allocator interface {
	Alloc() (p Packet, ok bool)
}
