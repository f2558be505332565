package dtree

import (
	"errors"
	"fmt"
)

// MaxSubflows is the most subflow ids a tree accepts (Config.Subflows):
// ids are 0..MaxSubflows-1.
const MaxSubflows = 8

// MaxMappingLen is the longest mapping an insert accepts: the DSS
// Data-Level Length field is 16 bits (RFC 8684 3.3).
const MaxMappingLen = 1<<16 - 1

// NoSubflow marks a Piece that no mapping covers.
const NoSubflow uint8 = 0xff

// MaxRingMappings is the most mappings one ring holds: one subflow of a
// ClientMap or ProxyMap, or the DSN index of a ProxyMap.
const MaxRingMappings = 1 << maxOrder

// Verdict is the outcome of an insert. The engine counts every value but
// Inserted and Duplicate as a drop reason.
type Verdict uint8

const (
	// Inserted: the mapping is stored (for a ClientMap, possibly merged
	// with neighbours it continues).
	Inserted Verdict = iota
	// Duplicate: an identical mapping (ProxyMap) or consistent mappings
	// covering every byte (ClientMap) were already stored; nothing changed.
	Duplicate
	// Conflict: the mapping overlaps a stored one of the same subflow that
	// maps the same subflow bytes elsewhere (RFC 8684 3.3.1; Linux counts
	// it as DSSNotMatching); nothing stored.
	Conflict
	// Old: the mapping lies below what was already acknowledged and trimmed
	// (ClientMap: entirely; ProxyMap: any byte of it); nothing stored.
	Old
	// Full: the store has no slab room, or the ring is at MaxRingMappings;
	// nothing stored.
	Full
	// Invalid: subflow id >= Config.Subflows, zero length or longer than
	// MaxMappingLen; nothing stored.
	Invalid
)

var verdictNames = [...]string{"inserted", "duplicate", "conflict", "old", "full", "invalid"}

// String returns the verdict's metric label.
func (v Verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return "unknown"
}

// Config sizes a Store. Both bounds are fixed at construction.
type Config struct {
	// Trees is the most ClientMaps plus ProxyMaps alive at once (two per
	// connection).
	Trees int
	// Records is the slab size in 16-byte mapping records. A ProxyMap
	// mapping takes two records (DSN index and subflow index), a ClientMap
	// mapping one; rings are power-of-two blocks of at least 4 records.
	// At most 2^30. Values above MaxRingMappings are rounded up to a
	// multiple of it, smaller ones to a power of two.
	Records int
	// Subflows is the number of subflow ids (0..Subflows-1) a tree
	// accepts, 1..MaxSubflows; 0 means MaxSubflows. Each tree reserves
	// a ring header and a floor per id, so a store sized for the
	// subflows a connection may really have is smaller (12 bytes per id
	// per tree).
	Subflows int
}

// tree is the header of one ClientMap or ProxyMap. Its per-subflow rings
// and floors live in Store.rings and Store.floors (Config.Subflows of each
// per tree), reached through a tview.
type tree struct {
	dring     ring  // ProxyMap: the DSN index, ordered by dsn
	dataFloor dsn64 // ProxyMap: the highest DATA_ACK trimmed to (valid iff dataOK)
	gen       uint32
	maxLen    uint32 // ProxyMap: longest mapping ever inserted
	next      uint32 // free-list link while kind == kindFree
	floorOK   uint8
	dataOK    bool
	kind      uint8
}

// ackMemo holds ClientAcked's answers for one tree and dataAck, valid
// while Store.cver is ver: bit i of known says val[i] holds subflow i's
// answer, bit i of ok its ok result.
type ackMemo struct {
	h     handle
	ack   dsn64
	ver   uint64
	known uint8
	ok    uint8
	val   [MaxSubflows]seq32
}

// tview is a tree header with its per-subflow rings (ordered by ssn) and
// floors (bytes below are trimmed; valid iff the floorOK bit is set), one
// of each per subflow id.
// Four words, so the compiler keeps it in registers (a larger struct
// goes through a stack temporary copied on every use): arrays of
// MaxSubflows of which the first nsub are this tree's (the store's
// arrays have MaxSubflows entries of padding at the end).
type tview struct {
	*tree
	rings *[MaxSubflows]ring
	floor *[MaxSubflows]seq32
	nsub  uint32
}

const (
	kindFree   = 0
	kindClient = 1
	kindProxy  = 2
)

// Store is one core's slab of mapping trees: a fixed array of tree headers
// and a fixed record slab, both allocated by New and never grown.
// A Store is owned by one goroutine (one lcore) and is not safe for
// concurrent use.
type Store struct {
	sl     slab
	trees  []tree  // trees[0] is never used, so a zero handle is invalid
	rings  []ring  // nsub per tree, tree i's at [i*nsub, (i+1)*nsub)
	floors []seq32 // likewise
	nsub   uint32  // Config.Subflows
	cver   uint64  // bumped by every change to any ClientMap (memo)
	memo   ackMemo // ClientAcked's last answers
	free   uint32  // head of the free tree list, 0 when empty
	live   int
}

// New returns a Store for cfg, or an error saying which bound is wrong.
func New(cfg Config) (*Store, error) {
	if cfg.Trees < 1 || cfg.Trees >= 1<<31 {
		return nil, fmt.Errorf("dtree: Trees = %d: want 1..2^31-1", cfg.Trees)
	}
	if cfg.Records < 1 || cfg.Records > maxRecords {
		return nil, fmt.Errorf("dtree: Records = %d: want 1..%d", cfg.Records, maxRecords)
	}
	if cfg.Subflows < 0 || cfg.Subflows > MaxSubflows {
		return nil, fmt.Errorf("dtree: Subflows = %d: want 0..%d", cfg.Subflows, MaxSubflows)
	}
	if cfg.Subflows == 0 {
		cfg.Subflows = MaxSubflows
	}
	n := cfg.Subflows*(cfg.Trees+1) + MaxSubflows
	s := &Store{trees: make([]tree, cfg.Trees+1), rings: make([]ring, n), floors: make([]seq32, n), nsub: uint32(cfg.Subflows)}
	s.sl.init(cfg.Records)
	for i := cfg.Trees; i >= 1; i-- {
		s.trees[i].next = s.free
		s.free = uint32(i)
	}
	return s, nil
}

// errStale is the panic value for a handle used after its Release.
var errStale = errors.New("dtree: stale or foreign tree handle")

// handle names a tree: its header index and the generation it was issued
// with. Valid iff idx != 0 and trees[idx].gen == gen.
type handle struct {
	idx uint32
	gen uint32
}

// ClientMap is the handle of one connection's client-to-server mappings
// (chosen by the client, carried in its DSS options). It is a small
// pointer-free value; the zero value names no tree.
type ClientMap struct{ h handle }

// ProxyMap is the handle of one connection's server-to-client mappings
// (chosen by the proxy at send time). It is a small pointer-free value;
// the zero value names no tree.
type ProxyMap struct{ h handle }

// Valid reports whether m was issued by NewClient (it may since have been
// released).
func (m ClientMap) Valid() bool { return m.h.idx != 0 }

// Valid reports whether m was issued by NewProxy (it may since have been
// released).
func (m ProxyMap) Valid() bool { return m.h.idx != 0 }

func (s *Store) newTree(kind uint8) (handle, bool) {
	s.cver++ // invalidates ClientAcked's memo
	i := s.free
	if i == 0 {
		return handle{}, false
	}
	t := &s.trees[i]
	s.free = t.next
	gen := t.gen
	*t = tree{gen: gen, kind: kind}
	s.live++
	return handle{idx: i, gen: gen}, true
}

// tree returns h's header with its rings and floors; a stale handle is a
// programmer error and panics.
func (s *Store) tree(h handle, kind uint8) tview {
	if uint(h.idx)-1 >= uint(len(s.trees))-1 { // idx 0 wraps around
		panic(errStale)
	}
	t := &s.trees[h.idx]
	if t.gen != h.gen || t.kind != kind {
		panic(errStale)
	}
	i := h.idx * s.nsub
	return tview{t, (*[MaxSubflows]ring)(s.rings[i:]), (*[MaxSubflows]seq32)(s.floors[i:]), s.nsub}
}

func (s *Store) release(h handle, kind uint8) {
	s.cver++ // invalidates ClientAcked's memo
	t := s.tree(h, kind)
	for i := range t.nsub {
		s.sl.drop(&t.rings[i])
	}
	s.sl.drop(&t.dring)
	clear(t.floor[:t.nsub])
	*t.tree = tree{gen: t.gen + 1, next: s.free}
	s.free = h.idx
	s.live--
}

// NewClient returns a fresh, empty ClientMap, or false if every tree is in
// use.
func (s *Store) NewClient() (ClientMap, bool) {
	h, ok := s.newTree(kindClient)
	return ClientMap{h}, ok
}

// NewProxy returns a fresh, empty ProxyMap, or false if every tree is in
// use.
func (s *Store) NewProxy() (ProxyMap, bool) {
	h, ok := s.newTree(kindProxy)
	return ProxyMap{h}, ok
}

// ReleaseClient frees m and all its mappings. m and every copy of it are
// invalid afterwards: using them panics.
func (s *Store) ReleaseClient(m ClientMap) { s.release(m.h, kindClient) }

// ReleaseProxy frees m and all its mappings. m and every copy of it are
// invalid afterwards: using them panics.
func (s *Store) ReleaseProxy(m ProxyMap) { s.release(m.h, kindProxy) }

// Trees returns the number of live ClientMaps and ProxyMaps.
func (s *Store) Trees() int { return s.live }

// Used returns the slab records held by live trees (ring capacity, not
// mappings): zero once every tree is released.
func (s *Store) Used() int { return s.sl.used }

// Capacity returns the slab size in records.
func (s *Store) Capacity() int { return len(s.sl.recs) }
