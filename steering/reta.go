package steering

import "errors"

// DefaultRETASize is the redirection table size a Ruleset uses unless told
// otherwise: 128 entries, the size of Intel ixgbe/igb tables and a size
// mlx5 and i40e accept. A table that is not a multiple of the queue count
// gives some queues one entry more than others (with 24 queues, 6 entries
// against 5).
const DefaultRETASize = 128

// MaxRETASize bounds the redirection table (DPDK's largest is 512 entries
// per port on i40e, mlx5 allows more).
const MaxRETASize = 1 << 16

// Errors returned by NewRETA, Set and Resize.
var (
	ErrRETASize   = errors.New("steering: RETA size must be a power of two in [1, 65536]")
	ErrRETAQueues = errors.New("steering: RETA queue count must be in [1, 65535]")
	ErrRETAIndex  = errors.New("steering: RETA index out of range")
)

// RETA is an RSS redirection table: entry i names the receive queue of the
// packets whose hash has i in its low log2(size) bits, which is how NICs
// index theirs. It is not safe for concurrent mutation; a Classifier keeps
// its own copy.
type RETA struct {
	entries []uint16
	mask    uint32
}

// NewRETA returns a table of size entries filled round-robin over queues
// (entry i = i mod queues), DPDK's default fill.
func NewRETA(size, queues int) (*RETA, error) {
	if size < 1 || size > MaxRETASize || size&(size-1) != 0 {
		return nil, ErrRETASize
	}
	if queues < 1 || queues > 0xffff {
		return nil, ErrRETAQueues
	}
	r := &RETA{entries: make([]uint16, size), mask: uint32(size - 1)}
	for i := range r.entries {
		r.entries[i] = uint16(i % queues)
	}
	return r, nil
}

// Size returns the number of entries.
func (r *RETA) Size() int { return len(r.entries) }

// Entry returns the queue of entry i; it panics if i is out of range.
func (r *RETA) Entry(i int) int { return int(r.entries[i]) }

// Set points entry i at queue q.
func (r *RETA) Set(i, q int) error {
	if i < 0 || i >= len(r.entries) {
		return ErrRETAIndex
	}
	if q < 0 || q > 0xffff {
		return ErrRETAQueues
	}
	r.entries[i] = uint16(q)
	return nil
}

// Entries returns a copy of the table, for programming a NIC.
func (r *RETA) Entries() []uint16 { return append([]uint16(nil), r.entries...) }

// QueueOf returns the queue of a packet with the given RSS hash.
func (r *RETA) QueueOf(hash uint32) int { return int(r.entries[hash&r.mask]) }

// Clone returns an independent copy.
func (r *RETA) Clone() *RETA { return &RETA{entries: r.Entries(), mask: r.mask} }

// Resize returns a table of size entries that sends every hash to the same
// queue as r, by repeating r, for a NIC whose table is larger (both sizes
// are powers of two, so the low bits that index r also index the copy).
// A smaller size cannot keep that promise and is refused: nicconf must
// then use a smaller Ruleset RETA.
func (r *RETA) Resize(size int) (*RETA, error) {
	if size < len(r.entries) || size > MaxRETASize || size&(size-1) != 0 {
		return nil, ErrRETASize
	}
	n := &RETA{entries: make([]uint16, size), mask: uint32(size - 1)}
	for i := range n.entries {
		n.entries[i] = r.entries[i&int(r.mask)]
	}
	return n, nil
}
