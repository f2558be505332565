package fwd

// Frame is a packet handed to or produced by fwd: a window into a packet
// buffer plus the ports and handle that travel with it.
//
// Buf is the whole buffer, so bytes before Off are headroom that fwd may
// prepend an Ethernet header into; [Off, Off+Len) is the packet. Frames
// received from a port hold an Ethernet frame; after Classify returns a
// transit kind, and for RouteIP and SendIP, they hold an IP packet.
type Frame struct {
	// Buf is the whole packet buffer, headroom included.
	Buf []byte
	// Off is where the packet starts in Buf.
	Off int
	// Len is the packet length in bytes.
	Len int
	// Port is the ingress port index of a received frame and the egress
	// port index of a frame on a TX list.
	Port uint16
	// Ref is the caller's opaque handle on the buffer (the mbuf pointer).
	// fwd never interprets it; it only carries it to a TX list or to the
	// free list.
	Ref uintptr
}

// Bytes returns the packet, Buf[Off:Off+Len]. It panics if the frame does
// not fit its buffer (see valid).
func (f Frame) Bytes() []byte { return f.Buf[f.Off : f.Off+f.Len] }

// valid reports whether the window lies inside the buffer.
func (f *Frame) valid() bool {
	return f.Off >= 0 && f.Len >= 0 && f.Off <= len(f.Buf) && f.Len <= len(f.Buf)-f.Off
}

// Allocator hands out empty packet buffers for the packets fwd originates:
// ARP requests, neighbor solicitations and ICMP errors. It is called
// rarely, never more than once per input frame or timer event.
type Allocator interface {
	// Alloc returns an empty frame: Buf the whole buffer, Off the start of
	// the data room (after the headroom), Len 0, and Ref the handle. fwd
	// writes the packet at Off and sets Len and Port; the frame then leaves
	// on a TX list or, if fwd cannot use it, on the free list. ok is false
	// when no buffer is available; fwd counts that and goes on.
	Alloc() (f Frame, ok bool)
}

// Flusher drains an Output whose list is full.
type Flusher interface {
	// FlushOutput transmits every TX list of o and frees every Ref on its
	// free list, taking ownership of all of them, and empties the lists
	// (Output.Reset). fwd calls it in the middle of a burst when a list it
	// must append to is full; the worker calls the same code after each
	// burst.
	FlushOutput(o *Output)
}

// Output collects what a burst produces: per egress port, the frames to
// transmit, and the Refs of buffers to free (dropped packets, consumed ARP
// and NDP messages, pending packets whose next hop never resolved).
// Ownership of every input frame passes to exactly one of these lists.
//
// The lists have a fixed capacity set by NewOutput and never grow; when
// one is full fwd calls the Flusher, which must empty them all. An Output
// belongs to one worker and is not safe for concurrent use.
type Output struct {
	// TX holds, indexed by egress port, the frames to transmit, in order.
	// Each frame's Port is its egress port and [Off, Off+Len) the Ethernet
	// frame.
	TX [][]Frame
	// Free holds the Refs of buffers the caller must free.
	Free []uintptr

	flusher Flusher
}

// NewOutput returns an Output for ports port indices (0 to ports-1) whose
// TX lists hold txCap frames each and whose free list holds freeCap Refs;
// twice the burst size is a good capacity for both. flusher must not be
// nil.
func NewOutput(ports, txCap, freeCap int, flusher Flusher) *Output {
	if flusher == nil || ports <= 0 || txCap <= 0 || freeCap <= 0 {
		panic("fwd: NewOutput: need a flusher and positive sizes")
	}
	o := &Output{TX: make([][]Frame, ports), Free: make([]uintptr, 0, freeCap), flusher: flusher}
	for i := range o.TX {
		o.TX[i] = make([]Frame, 0, txCap)
	}
	return o
}

// Reset empties every list, keeping its capacity. The caller calls it once
// it has taken ownership of the lists' contents.
func (o *Output) Reset() {
	for i := range o.TX {
		o.TX[i] = o.TX[i][:0]
	}
	o.Free = o.Free[:0]
}

// tx appends f to the TX list of port f.Port, flushing first if it is full.
func (o *Output) tx(f *Frame) {
	l := o.TX[f.Port]
	if len(l) == cap(l) {
		o.flusher.FlushOutput(o)
		l = o.TX[f.Port]
	}
	o.TX[f.Port] = append(l, *f)
}

// free appends ref to the free list, flushing first if it is full.
func (o *Output) free(ref uintptr) {
	if len(o.Free) == cap(o.Free) {
		o.flusher.FlushOutput(o)
	}
	o.Free = append(o.Free, ref)
}
