package translate

import (
	"testing"

	"github.com/flexcp/flexcp/translate/header"
)

// TestDSSChecksumClient: on a connection with DSS checksums, a client
// segment that carries its whole mapping is verified (RFC 8684 3.3.1): a
// bad checksum, or a payload changed under a recomputed TCP checksum, is
// a counted drop (DropDSSChecksum) that stores no mapping and forwards
// nothing, and the client's retransmission with the right checksum goes
// through; a mapping spread over several segments is forwarded
// unverified and counted.
func TestDSSChecksumClient(t *testing.T) {
	f := newFixtureOpt(t, Config{MaxConnections: 4, MaxSubflows: 4, DeadAfter: 1 << 62}, true)
	cl := f.m.c
	_, c := f.connIdx()
	ack := cl.sub[0].peerISN + 1
	pay := make([]byte, 700)
	for i := range pay {
		pay[i] = byte(i*13 + 1)
	}
	dsn := cl.idsnC + 1 + 1000 // after the fixture's first 1000 bytes
	good := cl.dss(0, true, dsn, 1001, 700, pay)
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 0x40 // the checksum is the option's last field (no padding: 28 bytes)
	if len(good) != 28 {
		t.Fatalf("DSS option %d bytes, want 28", len(good))
	}
	nxt := c.c2sNxt
	corrupt := append([]byte(nil), pay...)
	corrupt[10] ^= 1
	for _, tc := range []struct {
		name    string
		opts    []byte
		payload []byte
	}{
		{"bad checksum", bad, pay},
		{"payload changed, TCP checksum recomputed", good, corrupt},
	} {
		v, out := f.send(t, f.cpkt(0, 1001, ack, pshF, tc.opts, tc.payload), Access, 0)
		if v != Drop || len(out) != 0 || c.c2sNxt != nxt {
			t.Fatalf("%s: verdict %v, %d packets out, c2sNxt moved %d", tc.name, v, len(out), c.c2sNxt-nxt)
		}
	}
	if got := f.e.cnt.Drops[DropDSSChecksum]; got != 2 {
		t.Fatalf("DropDSSChecksum %d, want 2", got)
	}
	unverified := f.e.cnt.ChecksumUnverified
	v, out := f.send(t, f.cpkt(0, 1001, ack, pshF, good, pay), Access, 0)
	if v != Forward || len(out) == 0 || c.c2sNxt != nxt.Add(700) || f.e.cnt.ChecksumUnverified != unverified {
		t.Fatalf("retransmission with the right checksum: %v, c2sNxt +%d, unverified %d -> %d",
			v, c.c2sNxt-nxt, unverified, f.e.cnt.ChecksumUnverified)
	}
	tcp, _ := checkOut(t, &out[0])
	if tcp.Seq() != c.c2sSeq(header.DSN64(dsn)) {
		t.Errorf("I1: seq %d, want %d", tcp.Seq(), c.c2sSeq(header.DSN64(dsn)))
	}
	// A 1000-byte mapping sent as two 500-byte segments: not verifiable.
	dsn2 := dsn + 700
	opts := cl.dss(0, true, dsn2, 1701, 1000, pay[:500])
	v, _ = f.send(t, f.cpkt(0, 1701, ack, pshF, opts, pay[:500]), Access, 0)
	if v != Forward || f.e.cnt.ChecksumUnverified != unverified+1 || f.e.cnt.Drops[DropDSSChecksum] != 2 {
		t.Fatalf("part of a mapping: %v, unverified %d, drops %d", v, f.e.cnt.ChecksumUnverified, f.e.cnt.Drops[DropDSSChecksum])
	}
}
