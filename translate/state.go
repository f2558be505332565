package translate

import (
	"github.com/flexcp/flexcp/dtree"
	"github.com/flexcp/flexcp/translate/header"
)

// connState is the life cycle of a translated connection.
type connState uint8

const (
	connFree        connState = iota // slot unused
	connSynSent                      // C's MP_CAPABLE SYN forwarded, waiting for S's SYN/ACK
	connSynAckSent                   // SYN/ACK with key_P forwarded, waiting for C's third ACK
	connEstablished                  // keys known, translating
	connClosed                       // reset or both directions finished; lingering
)

// subState is the life cycle of a subflow.
type subState uint8

const (
	subFree        subState = iota // slot unused
	subHandshake                   // subflow 0 during the MP_CAPABLE handshake
	subJoinPending                 // join SYN answered, waiting for the third ACK (RFC 8684 3.2)
	subEstablished                 // carrying data
	subClosed                      // FIN exchange done or reset; kept until the connection goes
)

// maxHeld is the number of S->C data ranges above DATA_ACK remembered
// per connection for the SACK blocks P reports to S (I24); three fit
// beside nothing else in 40 option bytes with room to spare.
const maxHeld = 3

// maxOOO is the number of out-of-order ranges remembered per subflow for
// the "seen every byte below x" rule (I13).
const maxOOO = 4

// subflow is one client subflow. Sequence numbers named rel* or ending in
// SSN are relative to the subflow's ISN of their sender (RFC 8684 3.3.1:
// SSN 1 is the first data byte).
type subflow struct {
	state    subState
	backup   bool
	sack     bool // SACK negotiated on this subflow
	ws       uint8
	port     uint8 // access port it was last seen on
	addrID   uint8
	finRcvd  bool // client's subflow FIN seen, in order
	finSent  bool // P answered it with FIN/ACK
	dead     bool // declared dead by DeadAfter or reset
	rttOn    bool
	nooo     uint8
	prioSend bool     // send MP_PRIO B=1 on the fourth ACK (Config.BackupPorts)
	prio0    bool     // subflow 0 on a backup port: MP_PRIO B=1 on its first S->C segment
	caddr    [16]byte // client address of the subflow
	raddr    [16]byte // address the client sent to (S's, through P)
	cport    uint16
	rport    uint16
	isnC     header.Seq32 // client's ISN on the subflow
	rcvNxt   uint32       // rel: every client byte below it was seen
	ooo      [maxOOO][2]uint32
	finSSN   uint32 // rel SSN of the client's FIN
	ackSent  uint32 // rel subflow ack last sent to the client
	isnP     header.Seq32
	sndNxt   uint32 // rel: next SSN P assigns
	sndUna   uint32 // rel: client's subflow ack of P's data
	nonceC   uint32
	nonceP   uint32
	rttSSN   uint32
	wnd      uint32
	// Windowed minimum RTT (pathq.go): the lowest sample in microseconds
	// (0 while unknown) and when it was taken, in minRTTTick units of the
	// engine clock (mod 2^32).
	minRTT   uint32
	minRTTAt uint32
	deadline int64 // join handshake deadline
	srtt     int64
	rttTime  int64
	progress int64 // last time sndUna moved (or data first outstanding)
	// Path quality (pathq.go).
	rttvar   int64
	rate     uint64 // smoothed delivery rate, bytes/s
	dlvStart int64  // start of the current delivery-rate interval
	dlvBytes uint64 // bytes acknowledged since dlvStart
}

// conn is one translated connection. Sequence values follow
// docs/translation.md section 1.
type conn struct {
	state     connState
	v6        bool
	csum      bool // DSS checksums negotiated (MP_CAPABLE A flag)
	sackOK    bool // SACK negotiated on subflow 0
	wsOK      bool // window scaling negotiated on subflow 0
	wsOffered bool // the client's SYN offered window scaling
	dataAckOK bool
	c2sFin    bool
	s2cFin    bool
	nsub      uint8
	lastRx    uint8 // subflow that last carried client data
	rrLast    int8
	sched     uint8 // index into Engine.scheds, chosen at the SYN
	wsS       uint8
	capFlags  uint8
	mssS      uint16
	winS      uint16 // S's last window (for generated ACKs to C)
	winC      uint16 // C's last window, subflow 0's scale (for generated ACKs to S)
	// Slots in Engine.subs of subflows 1..: 0 while a subflow id has no
	// slot (Engine.subs[0] is a zero subflow that reads as subFree).
	// Placed here, and nheld beside hole, to leave no padding.
	subIdx    [maxSubflowsLimit - 1]int32
	keyC      uint64
	keyP      uint64
	tokenP    uint32
	idsnC     header.DSN64
	idsnP     header.DSN64
	isnC      header.Seq32
	isnS      header.Seq32
	c2sNxt    header.DSN64 // highest client DSN seen + 1
	dataAck   header.DSN64 // highest DATA_ACK from C (S->C data)
	sAck      header.DSN64 // highest C->S DSN acknowledged by S
	s2cNxt    header.DSN64 // highest S->C DSN sent + 1
	c2sFinDSN header.DSN64
	s2cFinDSN header.DSN64
	// S->C bytes P never saw (lost between S and P, DESIGN 3.4): while
	// DATA_ACK is below holeEnd, the client's subflow acks of later bytes
	// are remembered in held and reported to S as SACK blocks (I24).
	hole     bool
	nheld    uint8
	holeEnd  header.DSN64
	held     [maxHeld][2]header.DSN64
	cmap     dtree.ClientMap
	pmap     dtree.ProxyMap
	lastSeen int64
	closedAt int64

	// C->S data S has SACKed above sAck, which the subflow acks may
	// cover (I25, sacked.go): nsacked ranges in the pooled table
	// sackIdx (0 = none).
	sackIdx int32
	nsacked uint8

	// S resent DATA_ACK's bytes once although the client holds them on
	// their subflow (I27): a second time, they are reinjected.
	lostArmed bool
	// P prompted S with duplicate ACKs of promptDSN (I30, prompt.go).
	prompted bool
	// The client reset the connection (MP_FASTCLOSE, or an RST on its
	// last subflow before the FIN exchange) and P reset S: S's later
	// segments are answered with an RST (I32, closedReset). It takes the
	// byte of padding before lostDSN, so conn does not grow.
	rstClosed bool
	lostDSN   header.DSN64
	promptDSN header.DSN64
}

// c2sSeq is tcp_seq(DSN_c) = ISN_c + (DSN_c - IDSN_C) mod 2^32 (I1).
func (c *conn) c2sSeq(d header.DSN64) header.Seq32 {
	return c.isnC.Add(uint32(d - c.idsnC))
}

// c2sDSN inverts c2sSeq for a TCP sequence number near the C->S stream
// (S's acks and SACK blocks), expanded against the highest DSN seen.
func (c *conn) c2sDSN(s header.Seq32) header.DSN64 {
	return c.c2sNxt.Expand(uint32(c.idsnC) + uint32(s-c.isnC))
}

// s2cDSN is DSN_s(seq) = IDSN_P + (seq - ISN_s), expanded to 64 bits
// against the highest DSN sent (I2).
func (c *conn) s2cDSN(s header.Seq32) header.DSN64 {
	return c.s2cNxt.Expand(uint32(c.idsnP) + uint32(s-c.isnS))
}

// ackToS is ISN_s + (DATA_ACK - IDSN_P) mod 2^32 (I3).
func (c *conn) ackToS(dataAck header.DSN64) header.Seq32 {
	return c.isnS.Add(uint32(dataAck - c.idsnP))
}

// dataAckToC is IDSN_C + (ack_S - ISN_c), expanded (I4).
func (c *conn) dataAckToC(ack header.Seq32) header.DSN64 {
	return c.c2sDSN(ack)
}

// pureSeq returns the sequence number and flags of a segment without
// payload that P sends on s. While P's FIN on s is unacknowledged, every
// such segment repeats it: P keeps no retransmission timer, and a later
// ACK that acknowledged the client's FIN without it would leave the
// client waiting for a FIN that was lost (I20).
func (s *subflow) pureSeq(flags uint8) (header.Seq32, uint8) {
	if s.finSent && s.sndUna != s.sndNxt {
		return s.isnP.Add(s.sndNxt - 1), flags | header.TCPFlagFin
	}
	return s.isnP.Add(s.sndNxt), flags
}
