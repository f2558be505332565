package golden

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite translate/testdata/keys.golden")

// serverPort is the port golden_peer.py listens on.
const serverPort = 5201

// transfer is the payload size each direction carried, per scenario
// (scripts/capture-golden.sh).
var transfer = map[string]int{
	MPTCPv4Basic:       200000,
	MPTCPv4ServerClose: 100000,
	MPTCPv4Csum:        150000,
	MPTCPv6Basic:       150000,
	TCPFallback:        40000,
}

// mptcpScenarios are the scenarios with an MPTCP connection and a join.
var mptcpScenarios = []string{MPTCPv4Basic, MPTCPv4ServerClose, MPTCPv4Csum, MPTCPv6Basic, MPTCPv4RST}

// pattern is byte i of direction dir (0: C->S, 1: S->C), as golden_peer.py
// writes it.
func pattern(i, dir int) byte { return byte((i*7 + dir) % 251) }

func token(key uint64) uint32 {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], key)
	h := sha256.Sum256(b[:])
	return binary.BigEndian.Uint32(h[:4])
}

func idsn(key uint64) uint64 {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], key)
	h := sha256.Sum256(b[:])
	return binary.BigEndian.Uint64(h[24:])
}

// joinHMAC is HMAC-SHA256(key = keyA||keyB, msg = nonceA||nonceB)
// (RFC 8684 section 3.2).
func joinHMAC(keyA, keyB uint64, nonceA, nonceB uint32) []byte {
	var k [16]byte
	var m [8]byte
	binary.BigEndian.PutUint64(k[:], keyA)
	binary.BigEndian.PutUint64(k[8:], keyB)
	binary.BigEndian.PutUint32(m[:], nonceA)
	binary.BigEndian.PutUint32(m[4:], nonceB)
	h := hmac.New(sha256.New, k[:])
	h.Write(m[:])
	return h.Sum(nil)
}

func fromClient(p Packet) bool { return p.IsTCP() && p.DstPort() == serverPort }
func fromServer(p Packet) bool { return p.IsTCP() && p.SrcPort() == serverPort }

// conn is what the tests learn of one scenario's connection.
type conn struct {
	sc         string
	p1, p2, p3 []Packet
	keyC, keyS uint64
	// Subflow ISNs: [0] initial subflow, [1] join subflow.
	isnC, isnS [2]uint32
	// Join nonces and MACs.
	nonceC, nonceS uint32
	truncMAC       uint64
	ackMAC         [20]byte
	joinAddrID     uint8
}

func load(t *testing.T, sc string) *conn {
	t.Helper()
	c := &conn{sc: sc, p1: MustLoad(t, sc, IfaceAccess1), p2: MustLoad(t, sc, IfaceAccess2), p3: MustLoad(t, sc, IfaceCore)}
	if len(c.p1) < 3 {
		t.Fatalf("%s: %d packets on p1", sc, len(c.p1))
	}
	c.isnC[0], c.isnS[0] = c.p1[0].Seq(), c.p1[1].Seq()
	if m, ok := ParseMPCapable(c.p1[2].MPTCP(SubtypeMPCapable)); ok && m.HasReceiverKey {
		c.keyC, c.keyS = m.SenderKey, m.ReceiverKey
	}
	if len(c.p2) >= 3 {
		c.isnC[1], c.isnS[1] = c.p2[0].Seq(), c.p2[1].Seq()
		syn, _ := ParseMPJoin(c.p2[0].MPTCP(SubtypeMPJoin))
		synack, _ := ParseMPJoin(c.p2[1].MPTCP(SubtypeMPJoin))
		ack, _ := ParseMPJoin(c.p2[2].MPTCP(SubtypeMPJoin))
		c.nonceC, c.nonceS, c.truncMAC, c.ackMAC, c.joinAddrID = syn.Nonce, synack.Nonce, synack.TruncHMAC, ack.HMAC, syn.AddrID
	}
	return c
}

func TestLoadAll(t *testing.T) {
	files, err := Files()
	if err != nil {
		t.Fatal(err)
	}
	if want := len(Scenarios()) * len(Ifaces()); len(files) != want {
		t.Fatalf("%d pcaps in testdata, want %d: %v", len(files), want, files)
	}
	for _, f := range files {
		pkts, err := LoadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		if len(pkts) == 0 && name != "tcp-fallback-p2.pcap" {
			t.Errorf("%s: no packets", name)
		}
		for i, p := range pkts {
			if p.Scenario == "" || p.Iface == "" || p.File != name {
				t.Fatalf("%s: bad metadata %+v", name, p)
			}
			if !p.IsTCP() {
				t.Errorf("%v: not TCP", p)
			}
			// Offloads were off: every checksum on the wire is complete.
			if !p.TCPChecksumValid() {
				t.Errorf("%v: bad TCP checksum", p)
			}
			if i > 0 && (p.Index <= pkts[i-1].Index || p.Time.Before(pkts[i-1].Time)) {
				t.Errorf("%v: out of order", p)
			}
			if len(p.Options()) > 40 {
				t.Errorf("%v: %d option bytes", p, len(p.Options()))
			}
		}
	}
}

// TestCoreIsForwardedAccess: with kernel forwarding, p3 carries exactly the
// segments of p1 and p2, TCP bytes unchanged (only TTL/hop limit differ).
func TestCoreIsForwardedAccess(t *testing.T) {
	for _, sc := range Scenarios() {
		c := load(t, sc)
		seen := map[string]int{}
		for _, p := range append(append([]Packet{}, c.p1...), c.p2...) {
			seen[string(p.TCP())]++
		}
		for _, p := range c.p3 {
			seen[string(p.TCP())]--
		}
		for k, n := range seen {
			if n != 0 {
				t.Errorf("%s: segment seen %+d times more on p1+p2 than on p3 (%d bytes)", sc, n, len(k))
			}
		}
	}
}

// TestMPCapableHandshake checks the MP_CAPABLE v1 exchange (RFC 8684
// section 3.1) and that the first data segment repeats both keys.
func TestMPCapableHandshake(t *testing.T) {
	for _, sc := range mptcpScenarios {
		c := load(t, sc)
		wantFlags := uint8(CapFlagHMACSHA)
		if sc == MPTCPv4Csum {
			wantFlags |= CapFlagChecksum
		}
		syn, synack, ack := c.p1[0], c.p1[1], c.p1[2]
		if !IsSYN(syn) || !fromClient(syn) || !IsSYNACK(synack) || !IsPureACK(ack) {
			t.Fatalf("%s: handshake %v / %v / %v", sc, syn, synack, ack)
		}
		for _, x := range []struct {
			p       Packet
			len     int
			sender  uint64
			receive uint64
		}{{syn, 4, 0, 0}, {synack, 12, c.keyS, 0}, {ack, 20, c.keyC, c.keyS}} {
			m, ok := ParseMPCapable(x.p.MPTCP(SubtypeMPCapable))
			if !ok || m.Len != x.len || m.Version != 1 || m.Flags != wantFlags ||
				m.SenderKey != x.sender || m.ReceiverKey != x.receive {
				t.Errorf("%s: %v: MP_CAPABLE %+v, want len %d flags %#x", sc, x.p, m, x.len, wantFlags)
			}
		}
		if c.keyC == 0 || c.keyS == 0 || c.keyC == c.keyS {
			t.Errorf("%s: keys %#x %#x", sc, c.keyC, c.keyS)
		}
		// The client's first data segment carries MP_CAPABLE with both
		// keys and the data-level length (+ checksum when negotiated),
		// not a DSS, since the server has not yet acknowledged anything.
		first, ok := First(c.p1, fromClient, HasData)
		if !ok {
			t.Fatalf("%s: no client data", sc)
		}
		m, ok := ParseMPCapable(first.MPTCP(SubtypeMPCapable))
		wantLen := 22
		if sc == MPTCPv4Csum {
			wantLen = 24
		}
		if !ok || m.Len != wantLen || m.SenderKey != c.keyC || m.ReceiverKey != c.keyS ||
			int(m.DataLen) != len(first.Payload()) || first.MPTCP(SubtypeDSS) != nil {
			t.Errorf("%s: first data %v: %+v", sc, first, m)
		}
		if first.Seq() != c.isnC[0]+1 {
			t.Errorf("%s: first data at relative seq %d", sc, first.Seq()-c.isnC[0])
		}
	}
}

// TestJoin checks the MP_JOIN handshake on path 2 (RFC 8684 section 3.2):
// token from the server's key, HMACs from both keys and nonces, and the
// server's fourth ACK before any data on the join.
func TestJoin(t *testing.T) {
	for _, sc := range mptcpScenarios {
		c := load(t, sc)
		if len(c.p2) < 4 {
			t.Fatalf("%s: %d packets on p2", sc, len(c.p2))
		}
		syn, synack, ack, fourth := c.p2[0], c.p2[1], c.p2[2], c.p2[3]
		j, ok := ParseMPJoin(syn.MPTCP(SubtypeMPJoin))
		if !IsSYN(syn) || !ok || j.Len != 12 || j.Backup {
			t.Fatalf("%s: join SYN %v %+v", sc, syn, j)
		}
		if j.Token != token(c.keyS) {
			t.Errorf("%s: join token %#x, sha256(key_S)[0:4] = %#x", sc, j.Token, token(c.keyS))
		}
		// Endpoint ids from scripts/netns.sh: 1 = 198.18.2.2, 2 = 2001:db8:2::2.
		wantID := uint8(1)
		if syn.Version() == 6 {
			wantID = 2
		}
		if j.AddrID != wantID {
			t.Errorf("%s: join address id %d, want %d", sc, j.AddrID, wantID)
		}
		if syn.DstAddrPort() != c.p1[0].DstAddrPort() {
			t.Errorf("%s: join to %v, initial subflow to %v", sc, syn.DstAddrPort(), c.p1[0].DstAddrPort())
		}
		if sa, _ := ParseMPJoin(synack.MPTCP(SubtypeMPJoin)); !IsSYNACK(synack) || sa.Len != 16 || sa.AddrID != 0 {
			t.Errorf("%s: join SYN/ACK %v %+v", sc, synack, sa)
		}
		if want := binary.BigEndian.Uint64(joinHMAC(c.keyS, c.keyC, c.nonceS, c.nonceC)); c.truncMAC != want {
			t.Errorf("%s: SYN/ACK HMAC %#x, want %#x", sc, c.truncMAC, want)
		}
		if want := joinHMAC(c.keyC, c.keyS, c.nonceC, c.nonceS)[:20]; !hmac.Equal(c.ackMAC[:], want) {
			t.Errorf("%s: third ACK HMAC %x, want %x", sc, c.ackMAC, want)
		}
		if !IsPureACK(ack) || !fromClient(ack) {
			t.Errorf("%s: join third ACK %v", sc, ack)
		}
		// The fourth ACK: the server's pure ACK with a DATA_ACK.
		if d, ok := ParseDSS(fourth.MPTCP(SubtypeDSS)); !fromServer(fourth) || !IsPureACK(fourth) || !ok || !d.HasDataACK || d.HasMap {
			t.Errorf("%s: fourth ACK %v", sc, fourth)
		}
	}
}

// mapping is a DSS mapping with a relative SSN.
type mapping struct {
	dsn     uint64
	ssn     uint32
	dataLen uint16
	csum    uint16
	hasCsum bool
}

// stream reassembles one direction of the data stream from the DSS
// mappings on both subflows and checks every byte against the pattern.
// It returns the distinct mappings seen.
func stream(t *testing.T, c *conn, dir, size int) map[mapping]bool {
	t.Helper()
	buf := make([]byte, size)
	have := make([]bool, size)
	maps := map[mapping]bool{}
	from, idsnOf, isn := fromClient, idsn(c.keyC), c.isnC
	if dir == 1 {
		from, idsnOf, isn = fromServer, idsn(c.keyS), c.isnS
	}
	for sf, pkts := range [][]Packet{c.p1, c.p2} {
		var cur mapping
		for _, p := range Filter(pkts, from) {
			if m, ok := ParseMPCapable(p.MPTCP(SubtypeMPCapable)); ok && m.HasDataLen {
				cur = mapping{dsn: idsnOf + 1, ssn: 1, dataLen: m.DataLen, csum: m.Checksum, hasCsum: m.HasChecksum}
				maps[cur] = true
			}
			if d, ok := ParseDSS(p.MPTCP(SubtypeDSS)); ok && d.HasMap {
				if !d.DSN8 {
					t.Fatalf("%v: 4-byte DSN", p)
				}
				m := mapping{dsn: d.DSN, ssn: d.SSN, dataLen: d.DataLen, csum: d.Checksum, hasCsum: d.HasChecksum}
				maps[m] = true
				if d.SSN != 0 { // SSN 0: a DATA_FIN-only mapping
					cur = m
				}
			}
			pl := p.Payload()
			if len(pl) == 0 {
				continue
			}
			rel := p.Seq() - isn[sf]
			if cur.dataLen == 0 || rel < cur.ssn || rel+uint32(len(pl)) > cur.ssn+uint32(cur.dataLen) {
				t.Fatalf("%v: no mapping covers relative seq %d+%d (mapping %+v)", p, rel, len(pl), cur)
			}
			off := cur.dsn - (idsnOf + 1) + uint64(rel-cur.ssn)
			if off+uint64(len(pl)) > uint64(size) {
				t.Fatalf("%v: data offset %d+%d beyond %d", p, off, len(pl), size)
			}
			for i, b := range pl {
				buf[int(off)+i], have[int(off)+i] = b, true
			}
		}
	}
	for i := range buf {
		if !have[i] || buf[i] != pattern(i, dir) {
			t.Fatalf("%s dir %d: byte %d: have %v value %d want %d", c.sc, dir, i, have[i], buf[i], pattern(i, dir))
		}
	}
	// Checksums (RFC 8684 section 3.3.1): pseudo-header DSN(64), relative
	// SSN(32), data-level length(16), checksum(16), then the mapped data.
	for m := range maps {
		if !m.hasCsum {
			continue
		}
		var h [16]byte
		binary.BigEndian.PutUint64(h[:], m.dsn)
		binary.BigEndian.PutUint32(h[8:], m.ssn)
		binary.BigEndian.PutUint16(h[12:], m.dataLen)
		binary.BigEndian.PutUint16(h[14:], m.csum)
		data := []byte{}
		if m.ssn != 0 {
			off := m.dsn - (idsnOf + 1)
			data = buf[off : off+uint64(m.dataLen)]
		}
		if s := onesSum(h[:], data); s != 0xffff {
			t.Errorf("%s dir %d: mapping %+v: checksum sum %#x", c.sc, dir, m, s)
		}
	}
	return maps
}

func onesSum(parts ...[]byte) uint16 {
	var sum uint32
	odd := false
	for _, b := range parts {
		for _, x := range b {
			if odd {
				sum += uint32(x)
			} else {
				sum += uint32(x) << 8
			}
			odd = !odd
		}
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}

// TestDataStreams reassembles both directions through the DSS mappings,
// with DSN = IDSN + 1 for the first byte (RFC 8684 section 3.3): this
// checks the IDSNs, the mappings and, with checksums on, the DSS checksum.
func TestDataStreams(t *testing.T) {
	for _, sc := range []string{MPTCPv4Basic, MPTCPv4ServerClose, MPTCPv4Csum, MPTCPv6Basic} {
		c := load(t, sc)
		for dir := 0; dir < 2; dir++ {
			maps := stream(t, c, dir, transfer[sc])
			csums := 0
			for m := range maps {
				if m.hasCsum {
					csums++
				}
			}
			if (sc == MPTCPv4Csum) != (csums == len(maps)) || (sc != MPTCPv4Csum && csums != 0) {
				t.Errorf("%s dir %d: %d of %d mappings with checksum", sc, dir, csums, len(maps))
			}
		}
		// Both subflows carry data in both directions.
		for _, pk := range [][]Packet{c.p1, c.p2} {
			if Count(pk, fromClient, HasData) == 0 || Count(pk, fromServer, HasData) == 0 {
				t.Errorf("%s: a subflow without data in one direction (%s)", sc, pk[0].File)
			}
		}
	}
}

// TestDSSShape checks what Linux puts on established segments (DESIGN.md
// section 3.7): a DSS with DATA_ACK on every segment, 8-byte DSNs, a
// DATA_ACK that is 4 bytes until the first 8-byte mapping arrived and 8
// after, timestamps everywhere, no SACK blocks and no ADD_ADDR.
func TestDSSShape(t *testing.T) {
	for _, sc := range mptcpScenarios {
		c := load(t, sc)
		for _, pk := range [][]Packet{c.p1, c.p2} {
			ack8 := false
			for _, p := range pk {
				if p.Option(OptTimestamp) == nil {
					t.Errorf("%v: no timestamps", p)
				}
				if p.Option(OptSACK) != nil {
					t.Errorf("%v: SACK blocks", p)
				}
				if p.MPTCP(SubtypeAddAddr) != nil || p.MPTCP(SubtypeRemoveAddr) != nil || p.MPTCP(SubtypeMPPrio) != nil {
					t.Errorf("%v: unexpected address option", p)
				}
				if p.Flags()&FlagSYN != 0 || p.MPTCP(SubtypeMPCapable) != nil || p.MPTCP(SubtypeMPJoin) != nil {
					continue
				}
				if p.Flags()&FlagRST != 0 {
					continue // MP_FASTCLOSE, TestFastclose
				}
				d, ok := ParseDSS(p.MPTCP(SubtypeDSS))
				if !ok || !d.HasDataACK {
					t.Errorf("%v: no DSS DATA_ACK", p)
					continue
				}
				if d.HasMap && !d.DSN8 {
					t.Errorf("%v: 4-byte DSN", p)
				}
				if fromServer(p) && !d.DataACK8 {
					t.Errorf("%v: server sent a 4-byte DATA_ACK", p)
				}
				if fromClient(p) {
					if ack8 && !d.DataACK8 {
						t.Errorf("%v: client DATA_ACK back to 4 bytes", p)
					}
					ack8 = ack8 || d.DataACK8
					if !d.DataACK8 && d.DataACK != uint64(uint32(idsn(c.keyS)+1)) {
						t.Errorf("%v: 4-byte DATA_ACK %#x, want low 32 bits of IDSN_S+1", p, d.DataACK)
					}
				}
				// Data segments carry their mapping.
				if len(p.Payload()) > 0 && !d.HasMap {
					t.Errorf("%v: data without mapping", p)
				}
			}
		}
		// The client's first data went out before any server mapping, so
		// its DATA_ACK there is 4 bytes (in the RST scenario the server
		// sends first).
		if sc == MPTCPv4RST {
			continue
		}
		if n := Count(c.p1, fromClient, HasData, func(p Packet) bool {
			d, ok := ParseDSS(p.MPTCP(SubtypeDSS))
			return ok && d.HasDataACK && !d.DataACK8
		}); n == 0 {
			t.Errorf("%s: no client data segment with a 4-byte DATA_ACK", sc)
		}
	}
}

// dataFINs returns the DATA_FIN DSS options from one side, in capture
// order over both subflows.
func dataFINs(c *conn, from Pred) []Packet {
	return Filter(Merge(c.p1, c.p2), from, func(p Packet) bool {
		d, ok := ParseDSS(p.MPTCP(SubtypeDSS))
		return ok && d.DataFIN
	})
}

// TestCloseSequence checks the graceful close: DATA_FIN on a pure ACK
// (SSN 0, length 1, DSN right after the last byte), sent on every subflow,
// and subflow FINs only after the DATA_FIN has been DATA_ACKed.
func TestCloseSequence(t *testing.T) {
	for _, sc := range []string{MPTCPv4Basic, MPTCPv4ServerClose, MPTCPv4Csum, MPTCPv6Basic} {
		c := load(t, sc)
		size := uint64(transfer[sc])
		all := Merge(c.p1, c.p2)
		for _, side := range []struct {
			from Pred
			idsn uint64
			name string
		}{{fromClient, idsn(c.keyC), "client"}, {fromServer, idsn(c.keyS), "server"}} {
			fins := dataFINs(c, side.from)
			if len(fins) < 2 {
				t.Fatalf("%s: %s sent %d DATA_FINs, want one per subflow", sc, side.name, len(fins))
			}
			files := map[string]bool{}
			for _, p := range fins {
				files[p.File] = true
				d, _ := ParseDSS(p.MPTCP(SubtypeDSS))
				if !IsPureACK(p) || !d.HasMap || d.SSN != 0 || d.DataLen != 1 || d.DSN != side.idsn+1+size {
					t.Errorf("%v: DATA_FIN %+v, want DSN IDSN+1+%d SSN 0 len 1 on a pure ACK", p, d, size)
				}
			}
			if len(files) != 2 {
				t.Errorf("%s: %s DATA_FIN on %d subflows", sc, side.name, len(files))
			}
			// The subflow FINs come after the peer's DATA_ACK of the
			// DATA_FIN.
			acked := side.idsn + size + 2
			other := fromServer
			if side.name == "server" {
				other = fromClient
			}
			ackAt := -1
			for i, p := range all {
				if d, ok := ParseDSS(p.MPTCP(SubtypeDSS)); ok && other(p) && d.DataACK8 && d.DataACK == acked {
					ackAt = i
					break
				}
			}
			if ackAt < 0 {
				t.Errorf("%s: %s DATA_FIN never DATA_ACKed", sc, side.name)
			}
			for i, p := range all {
				if side.from(p) && p.Flags()&FlagFIN != 0 && i < ackAt {
					t.Errorf("%v: %s subflow FIN before its DATA_FIN was acknowledged", p, side.name)
				}
			}
		}
		firstFIN := dataFINs(c, IsTCP)[0]
		if closer := fromServer(firstFIN); closer != (sc == MPTCPv4ServerClose) {
			t.Errorf("%s: first DATA_FIN from the wrong side: %v", sc, firstFIN)
		}
		for _, pk := range [][]Packet{c.p1, c.p2} {
			if Count(pk, HasFlags(FlagRST)) != 0 {
				t.Errorf("%s: RST in a graceful close", pk[0].File)
			}
			if Count(pk, fromClient, HasFlags(FlagFIN)) != 1 || Count(pk, fromServer, HasFlags(FlagFIN)) != 1 {
				t.Errorf("%s: want one subflow FIN each way", pk[0].File)
			}
		}
	}
}

// TestFallback: a SYN/ACK without MP_CAPABLE; the client continues as TCP.
func TestFallback(t *testing.T) {
	c := load(t, TCPFallback)
	if len(c.p2) != 0 {
		t.Errorf("fallback: %d packets on path 2, want none (no join)", len(c.p2))
	}
	syn, synack := c.p1[0], c.p1[1]
	if m, ok := ParseMPCapable(syn.MPTCP(SubtypeMPCapable)); !IsSYN(syn) || !ok || m.Len != 4 || m.Version != 1 {
		t.Errorf("fallback SYN %v", syn)
	}
	if !IsSYNACK(synack) || len(synack.MPTCPOptions()) != 0 {
		t.Errorf("fallback SYN/ACK %v", synack)
	}
	if n := Count(c.p1[1:], Not(WithoutMPTCP)); n != 0 {
		t.Errorf("fallback: %d segments after the SYN carry MPTCP options", n)
	}
	for dir, from := range []Pred{fromClient, fromServer} {
		have := make([]bool, transfer[TCPFallback])
		isn := c.isnC[0]
		if dir == 1 {
			isn = c.isnS[0]
		}
		for _, p := range Filter(c.p1, from, HasData) {
			off := int(p.Seq() - isn - 1)
			if off+len(p.Payload()) > len(have) {
				t.Fatalf("%v: beyond the %d bytes sent", p, len(have))
			}
			for i, b := range p.Payload() {
				if b != pattern(off+i, dir) {
					t.Fatalf("%v: payload mismatch", p)
				}
				have[off+i] = true
			}
		}
		for i, ok := range have {
			if !ok {
				t.Fatalf("fallback dir %d: byte %d never sent", dir, i)
			}
		}
	}
}

// TestFastclose: the killed client resets every subflow with MP_FASTCLOSE
// carrying the server's key, plus MP_TCPRST (RFC 8684 sections 3.5, 3.6).
func TestFastclose(t *testing.T) {
	c := load(t, MPTCPv4RST)
	for _, pk := range [][]Packet{c.p1, c.p2} {
		rsts := Filter(pk, HasFlags(FlagRST))
		if len(rsts) != 1 || !fromClient(rsts[0]) {
			t.Fatalf("%s: RSTs %v", pk[0].File, rsts)
		}
		r := rsts[0]
		if r.Flags()&FlagACK == 0 || len(r.Payload()) != 0 {
			t.Errorf("%v: want RST|ACK without payload", r)
		}
		if key, ok := ParseFastclose(r.MPTCP(SubtypeFastclose)); !ok || key != c.keyS {
			t.Errorf("%v: MP_FASTCLOSE key %#x, want key_S %#x", r, key, c.keyS)
		}
		if _, _, ok := ParseTCPRST(r.MPTCP(SubtypeTCPRST)); !ok {
			t.Errorf("%v: no MP_TCPRST", r)
		}
		if Count(pk, HasFlags(FlagFIN)) != 0 || len(dataFINs(c, IsTCP)) != 0 {
			t.Errorf("%s: FIN or DATA_FIN in a reset connection", pk[0].File)
		}
		if last, _ := lastFrom(pk, fromClient); last.Index != r.Index {
			t.Errorf("%s: client sent %v after its RST", pk[0].File, last)
		}
	}
}

func lastFrom(pk []Packet, f Pred) (Packet, bool) {
	for i := len(pk) - 1; i >= 0; i-- {
		if f(pk[i]) {
			return pk[i], true
		}
	}
	return Packet{}, false
}

// TestKnownAnswers writes (with -update) or checks translate/testdata/
// keys.golden: keys, tokens, IDSNs and join HMACs of every capture, a set
// of crypto known-answer vectors taken from real Linux connections.
func TestKnownAnswers(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("# MPTCP known-answer vectors from the golden captures; regenerate with\n")
	sb.WriteString("# go test ./internal/golden -run KnownAnswers -update\n")
	sb.WriteString("# token = SHA-256(key)[0:4], IDSN = SHA-256(key)[24:32], keys big-endian.\n")
	sb.WriteString("# join: mac_s = HMAC-SHA256(key_s||key_c, r_s||r_c)[0:8] (SYN/ACK),\n")
	sb.WriteString("#       mac_c = HMAC-SHA256(key_c||key_s, r_c||r_s)[0:20] (third ACK).\n")
	for _, sc := range mptcpScenarios {
		c := load(t, sc)
		fmt.Fprintf(&sb, "\n[%s]\n", sc)
		fmt.Fprintf(&sb, "key_c   = %016x\ntoken_c = %08x\nidsn_c  = %016x\n", c.keyC, token(c.keyC), idsn(c.keyC))
		fmt.Fprintf(&sb, "key_s   = %016x\ntoken_s = %08x\nidsn_s  = %016x\n", c.keyS, token(c.keyS), idsn(c.keyS))
		fmt.Fprintf(&sb, "join_token = %08x\njoin_addr_id = %d\n", token(c.keyS), c.joinAddrID)
		fmt.Fprintf(&sb, "r_c     = %08x\nr_s     = %08x\n", c.nonceC, c.nonceS)
		fmt.Fprintf(&sb, "mac_s   = %016x\nmac_c   = %x\n", c.truncMAC, c.ackMAC)
	}
	got := sb.String()
	path := filepath.Join(filepath.Dir(mustPath(t)), "keys.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("keys.golden differs from the captures; regenerate with -update.\ngot:\n%s", got)
	}
}

func mustPath(t *testing.T) string {
	p, err := Path(MPTCPv4Basic, IfaceAccess1)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSplitName(t *testing.T) {
	for _, tc := range []struct{ in, sc, iface string }{
		{"mptcp-v4-basic-p1.pcap", "mptcp-v4-basic", "p1"},
		{"tcp-fallback-p3.pcap", "tcp-fallback", "p3"},
		{"x.pcapng", "", ""},
		{"-p1.pcap", "", ""},
		{"abc-.pcap", "", ""},
	} {
		if sc, i := splitName(tc.in); sc != tc.sc || i != tc.iface {
			t.Errorf("splitName(%q) = %q, %q", tc.in, sc, i)
		}
	}
}

func TestPacketAccessors(t *testing.T) {
	p := MustLoad(t, MPTCPv6Basic, IfaceAccess1)[0]
	if p.Version() != 6 || p.Src() != netip.MustParseAddr("2001:db8:1::2") ||
		p.Dst() != netip.MustParseAddr("2001:db8:3::2") || p.DstPort() != serverPort ||
		p.IPHeaderLen() != 40 || !IsSYN(p) || p.Option(OptMSS) == nil {
		t.Errorf("v6 SYN: %v", p)
	}
	if s := p.String(); !strings.Contains(s, "[S]") || !strings.Contains(s, "MP_CAPABLE") {
		t.Errorf("String() = %q", s)
	}
	// Malformed input: no panics, zero values.
	for _, b := range [][]byte{nil, {0x45}, {0x60, 0, 0}, make([]byte, 20), {0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6}} {
		q := Packet{Data: b}
		_ = q.String()
		if q.IsTCP() || q.TCPOptions() != nil || q.TCPChecksumValid() {
			t.Errorf("%x: parsed as TCP", b)
		}
	}
}

func FuzzPacket(f *testing.F) {
	files, err := Files()
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files[:2] {
		pk, err := LoadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range pk[:8] {
			f.Add(p.Data)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := Packet{Data: b}
		_ = p.String()
		_ = p.TCPChecksumValid()
		for _, o := range p.MPTCPOptions() {
			ParseMPCapable(o)
			ParseMPJoin(o)
			ParseDSS(o)
			ParseFastclose(o)
			ParseTCPRST(o)
		}
	})
}
