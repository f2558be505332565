package model

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/flexcp/flexcp/translate"
	"github.com/flexcp/flexcp/translate/header"
	"github.com/flexcp/flexcp/translate/mpcrypto"
	"github.com/flexcp/flexcp/translate/option"
)

// MaxPayload is the largest payload the model sends: a 1500-byte IPv4
// packet minus the IP and TCP headers and the 28-byte DSS the proxy adds to
// server segments (the MSS it clamps the server to) or the client adds to its
// own (an 8-byte DATA_ACK and an 8-byte-DSN mapping, padded).
const MaxPayload = 1500 - 20 - 20 - option.OptLenDSSMax

// MaxSubflows is the largest number of subflows per connection.
const MaxSubflows = 4

// MaxConnections bounds Config.Connections (the address plan below).
const MaxConnections = 32 * portSpan

// MaxWindow bounds Config.Window.
const MaxWindow = 64

// BurstSize is the number of packets handed to the engine at once.
const BurstSize = 32

// Direction says which ends send data.
type Direction uint8

// Directions.
const (
	// C2S: the client sends data, the server only acknowledges.
	C2S Direction = 1 << iota
	// S2C: the server sends data, the client only acknowledges.
	S2C
	// Both: both send.
	Both = C2S | S2C
)

// ParseDirection parses "c2s", "s2c" or "both".
func ParseDirection(s string) (Direction, error) {
	switch s {
	case "c2s":
		return C2S, nil
	case "s2c":
		return S2C, nil
	case "both":
		return Both, nil
	}
	return 0, fmt.Errorf("direction %q: want c2s, s2c or both", s)
}

// String returns the flag form of d.
func (d Direction) String() string {
	switch d {
	case C2S:
		return "c2s"
	case S2C:
		return "s2c"
	case Both:
		return "both"
	}
	return "none"
}

// Config is the traffic of one Model.
type Config struct {
	// Connections is the number of MPTCP connections (1 to MaxConnections).
	Connections int
	// Subflows per connection, subflow 0 included (1 to MaxSubflows).
	Subflows int
	// Sizes is the payload size schedule: each connection cycles through it,
	// one entry per data segment (sizes 1 to MaxPayload). A mix of 64 and
	// 1432 bytes at 1:3 is {64, 1432, 1432, 1432}.
	Sizes []int
	// Direction: which ends send data.
	Direction Direction
	// Window is the number of data segments each sender keeps in flight per
	// connection (1 to MaxWindow). Default 8.
	Window int
	// AckRatio is the number of data segments a receiver takes per
	// cumulative ACK (ACKs ride on data when there is some). Default 2.
	AckRatio int
	// MapSize is the length of the client's DSS mappings (Linux: one per
	// socket buffer, up to about 64 KB). Default 65535, the largest the
	// 16-bit data-level length allows.
	MapSize int
	// Seed seeds keys, ISNs and nonces.
	Seed uint64
}

func (c *Config) fill() error {
	if c.Connections < 1 || c.Connections > MaxConnections {
		return fmt.Errorf("model: %d connections: want 1 to %d", c.Connections, MaxConnections)
	}
	if c.Subflows < 1 || c.Subflows > MaxSubflows {
		return fmt.Errorf("model: %d subflows: want 1 to %d", c.Subflows, MaxSubflows)
	}
	if len(c.Sizes) == 0 {
		c.Sizes = []int{MaxPayload}
	}
	for _, s := range c.Sizes {
		if s < 1 || s > MaxPayload {
			return fmt.Errorf("model: payload size %d: want 1 to %d (1500-byte MTU minus IP, TCP and the %d-byte DSS)", s, MaxPayload, option.OptLenDSSMax)
		}
	}
	if c.Direction == 0 {
		c.Direction = Both
	}
	if c.Window <= 0 {
		c.Window = 8
	}
	if c.Window > MaxWindow {
		return fmt.Errorf("model: window %d segments above %d", c.Window, MaxWindow)
	}
	if c.AckRatio <= 0 {
		c.AckRatio = 2
	}
	if c.MapSize <= 0 {
		c.MapSize = 65535
	}
	if c.MapSize > 65535 {
		return fmt.Errorf("model: mapping size %d above 65535", c.MapSize)
	}
	return nil
}

// ErrKind classifies what the model found wrong. One counter per value in
// Stats.Errors.
type ErrKind uint8

// Error kinds.
const (
	// ErrParse: a packet that does not parse as IPv4/TCP.
	ErrParse ErrKind = iota
	// ErrIPChecksum: a bad IPv4 header checksum.
	ErrIPChecksum
	// ErrTCPChecksum: a bad TCP checksum.
	ErrTCPChecksum
	// ErrUnknownConn: a packet for no connection of the model, or on the
	// wrong subflow.
	ErrUnknownConn
	// ErrOrder: data not contiguous with what the receiver has.
	ErrOrder
	// ErrPayload: payload bytes that differ from the stream's pattern.
	ErrPayload
	// ErrMapping: a missing or invalid DSS (mapping or DATA_ACK) toward the
	// client, or an MPTCP option toward the server.
	ErrMapping
	// ErrAck: an ACK or DATA_ACK beyond what was sent.
	ErrAck
	// ErrHandshake: a handshake packet without the expected options or
	// HMAC.
	ErrHandshake
	// ErrVerdict: the engine passed or dropped a packet of a translated
	// connection.
	ErrVerdict
	// ErrNoBuffer: the pool or a queue was exhausted.
	ErrNoBuffer
	// ErrStall: nothing in flight and nothing to send: packets were lost.
	ErrStall
	// ErrKindCount is the number of kinds.
	ErrKindCount
)

var errNames = [ErrKindCount]string{"parse", "ip_checksum", "tcp_checksum", "unknown_conn", "order",
	"payload", "mapping", "ack", "handshake", "verdict", "no_buffer", "stall"}

// String returns the kind's label.
func (k ErrKind) String() string {
	if k < ErrKindCount {
		return errNames[k]
	}
	return "unknown"
}

// Stats are a Model's counters since New (or ResetStats).
type Stats struct {
	// Packets entering the engine, by ingress side (translate.Access:
	// client to server, translate.Core: server to client).
	Packets [2]uint64
	// EngineNs is the time spent in ProcessBurst, by ingress side.
	EngineNs [2]int64
	// Bursts handed to the engine, by ingress side.
	Bursts [2]uint64
	// TickNs is the time spent in Engine.Tick; Ticks counts the calls.
	TickNs int64
	Ticks  uint64
	// Emitted counts packets the engine created (answers, generated
	// ACKs).
	Emitted uint64
	// Segments and Bytes of data received and verified, by direction
	// (index 0 client to server, 1 server to client).
	Segments [2]uint64
	Bytes    [2]uint64
	// Verdicts counts the engine's verdicts.
	Verdicts [4]uint64
	// Errors by kind; Err returns the first one in words.
	Errors [ErrKindCount]uint64
}

// TotalErrors returns the sum of Errors.
func (s *Stats) TotalErrors() uint64 {
	var n uint64
	for _, e := range s.Errors {
		n += e
	}
	return n
}

// sub is one subflow as the client sees it.
type sub struct {
	state      uint8
	addrID     uint8
	isn        uint32 // client ISN
	peerISN    uint32 // ISN of the SYN/ACK (S's on subflow 0, P's on joins)
	sndNxt     uint32 // relative SSN of the next byte to send (1 = first)
	rcvNxt     uint32 // relative SSN of the next byte expected
	ackedRcv   uint32 // rcvNxt when the client last acknowledged
	nonce      uint32
	peerNonce  uint32
	joinSentAt int64
}

// Subflow states.
const (
	subNone uint8 = iota
	subSynSent
	subJoinSynSent
	subJoinAckSent
	subEstablished
)

// conn is one connection: both ends.
type conn struct {
	// client
	keyC, keyP   uint64
	idsnC, idsnP uint64
	tokenP       uint32
	cState       uint8 // 0 idle, 1 SYN sent, 2 third ACK sent, 3 ready
	nEst         uint8 // established subflows
	sub          [MaxSubflows]sub
	cSnd, cUna   uint64 // client->server data offsets: next to send, acknowledged
	cRcv         uint64 // server->client data received in order
	cPend        uint32 // data segments received since the last DATA_ACK sent
	lastSub      uint8  // subflow of the last server->client segment
	mapSub       uint8  // subflow of the current mapping
	mapOff       uint64 // data offset of the current mapping's first byte
	mapSSN       uint32
	mapLen       uint32
	mapUsed      uint32
	cSize, sSize uint16 // positions in the size schedule
	cSegs        segRing
	// server
	sState     uint8 // 0 listen, 1 SYN received, 2 established
	isnC, isnS uint32
	sSnd, sUna uint64 // server->client data offsets
	sRcv       uint64
	sPend      uint32
	sSegs      segRing
}

// segRing holds the end offsets (low 32 bits) of a sender's segments in
// flight, oldest first.
type segRing struct {
	ends    [MaxWindow]uint32
	head, n uint8
}

func (r *segRing) push(end uint64) {
	r.ends[(int(r.head)+int(r.n))%MaxWindow] = uint32(end)
	r.n++
}

// trim drops the segments that end at or below una.
func (r *segRing) trim(una uint64) {
	for r.n > 0 && int32(r.ends[r.head]-uint32(una)) <= 0 {
		r.head = uint8((int(r.head) + 1) % MaxWindow)
		r.n--
	}
}

// phase of a stream: the pattern byte at data offset o is byte(o + seed).
func seedC2S(ci int) uint64 { return uint64(ci*37 + 11) }
func seedS2C(ci int) uint64 { return uint64(ci*53 + 101) }

// Addresses: the client's subflow j of connection c is 198.18.(32j+c/60000).2
// port 1024+c%60000; the server is 198.19.0.1 port 80 (RFC 2544 range).
const (
	portBase = 1024
	portSpan = 60000
	srvPort  = 80
)

var srvAddr = [4]byte{198, 19, 0, 1}

func clientAddr(ci, j int) ([4]byte, uint16) {
	return [4]byte{198, 18, byte(32*j + ci/portSpan), 2}, uint16(portBase + ci%portSpan)
}

// Model is the closed loop. Not safe for concurrent use.
type Model struct {
	cfg      Config
	eng      *translate.Engine
	pool     *Pool
	access   ring // toward the engine's access side (client packets)
	core     ring // toward the engine's core side (server packets)
	burst    [BurstSize]translate.Packet
	verdicts [BurstSize]translate.Verdict
	conns    []conn
	sizes    []uint16
	rng      *rand.Rand
	hasher   mpcrypto.Hasher
	opts     option.Options

	running  bool // data phase: senders fill their windows
	ready    int  // connections with every subflow established
	clockOff int64
	lastTick int64

	tmpl   []byte        // 0, 1, ..., 255, 0, 1, ... (the payload pattern)
	sumIdx []int16       // payload size -> index in sums, or -1
	sums   [][256]uint16 // one's-complement sum of tmpl[phase:phase+size]

	// Stats are the counters; the caller may read and reset them between
	// calls.
	Stats Stats

	firstErr       ErrKind
	firstConn      int
	firstA, firstB uint64
	hasErr         bool
}

// New returns a model for cfg, without an engine (Passthrough) until
// AttachEngine. Every connection starts idle.
func New(cfg Config) (*Model, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	// Buffers in flight per connection: the data windows, the ACKs each
	// receiver owes, and the ACKs the engine generates on other subflows.
	w := 2*cfg.Window + 2*(cfg.Window/cfg.AckRatio+2)*(cfg.Subflows+1) + 4
	nbuf := cfg.Connections*w + 4*BurstSize + 1024
	m := &Model{
		cfg:    cfg,
		pool:   NewPool(nbuf),
		access: newRing(nbuf),
		core:   newRing(nbuf),
		conns:  make([]conn, cfg.Connections),
		rng:    rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)),
		tmpl:   make([]byte, 256+MaxPayload+1),
		sumIdx: make([]int16, MaxPayload+1),
	}
	for i := range m.tmpl {
		m.tmpl[i] = byte(i)
	}
	for i := range m.sumIdx {
		m.sumIdx[i] = -1
	}
	for _, s := range cfg.Sizes {
		m.sizes = append(m.sizes, uint16(s))
		if m.sumIdx[s] >= 0 {
			continue
		}
		m.sumIdx[s] = int16(len(m.sums))
		var t [256]uint16
		for ph := range t {
			t[ph] = header.OnesSum(m.tmpl[ph:ph+s], 0)
		}
		m.sums = append(m.sums, t)
	}
	return m, nil
}

// EngineConfig returns a translate.Config sized for the model: room for
// every connection and subflow, mappings enough for the window, subflows
// never declared dead (the loop is lossless; a slow run must not trigger
// reinjection).
func (m *Model) EngineConfig() translate.Config {
	return translate.Config{
		MaxConnections: max(m.cfg.Connections, 64),
		MaxSubflows:    max(m.cfg.Subflows, 2),
		JoinSubflows:   max(m.cfg.Connections, 64) * (max(m.cfg.Subflows, 2) - 1),
		MappingRecords: max(32, 4*m.cfg.Window+16),
		DeadAfter:      1 << 62,
		Keys:           translate.NewRandomKeys(1024, nil),
	}
}

// AttachEngine creates the engine (with the model's pool as its Allocator)
// that the model drives from now on.
func (m *Model) AttachEngine(cfg translate.Config) error {
	e, err := translate.New(cfg, m.pool)
	if err != nil {
		return fmt.Errorf("model: %w", err)
	}
	m.eng = e
	return nil
}

// Engine returns the engine, nil in Passthrough.
func (m *Model) Engine() *translate.Engine { return m.eng }

// Config returns the model's configuration with defaults filled in.
func (m *Model) Config() Config { return m.cfg }

// Pool returns the buffer pool.
func (m *Model) Pool() *Pool { return m.pool }

// Ready returns the number of connections whose handshake and joins are
// complete.
func (m *Model) Ready() int { return m.ready }

// ResetStats zeroes the counters (not the errors' first message).
func (m *Model) ResetStats() { m.Stats = Stats{} }

// Err returns nil if no error was counted, else the first one in words.
func (m *Model) Err() error {
	if !m.hasErr {
		return nil
	}
	return fmt.Errorf("model: %d errors %v; first: %s on connection %d (%d, %d)",
		m.Stats.TotalErrors(), m.errCounts(), m.firstErr, m.firstConn, m.firstA, m.firstB)
}

func (m *Model) errCounts() map[string]uint64 {
	r := map[string]uint64{}
	for k, n := range m.Stats.Errors {
		if n > 0 {
			r[ErrKind(k).String()] = n
		}
	}
	return r
}

// fail counts an error; the first one is remembered with two numbers of
// context. It does not allocate.
func (m *Model) fail(k ErrKind, ci int, a, b uint64) {
	m.Stats.Errors[k]++
	if !m.hasErr {
		m.hasErr, m.firstErr, m.firstConn, m.firstA, m.firstB = true, k, ci, a, b
	}
}

// epoch is the origin of nanotime.
var epoch = time.Now()

// Nanotime returns monotonic nanoseconds since the package was loaded.
func Nanotime() int64 { return int64(time.Since(epoch)) }

// now is the engine's clock: monotonic time plus the jumps of Release.
func (m *Model) now(t int64) int64 { return t + m.clockOff }

// errNoEngine is returned by operations that need an engine.
var errNoEngine = errors.New("model: no engine attached")
