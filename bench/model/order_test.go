package model

import (
	"testing"

	"github.com/flexcp/flexcp/translate"
)

// TestSendReadyJoinsWaitsForServer: a connection's join SYNs leave only
// once the server end has the third ACK (the translator processed it);
// until then the connection stays pending, and a connection reopened in
// the meantime is forgotten.
func TestSendReadyJoinsWaitsForServer(t *testing.T) {
	m, err := New(Config{Connections: 2, Subflows: 3, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	m.External()
	m.Open(0, 2)
	base := m.Queued() // the two SYNs
	for ci := range m.conns {
		m.conns[ci].cState, m.conns[ci].sState = 2, 1 // third ACK sent, not yet at the server
		m.pendJoins = append(m.pendJoins, int32(ci))
	}
	m.SendReadyJoins()
	if m.Queued() != base || len(m.pendJoins) != 2 {
		t.Fatalf("joins left before the server had the third ACK: queued %d (want %d), pending %v", m.Queued(), base, m.pendJoins)
	}
	m.conns[0].sState = 2 // connection 0's third ACK arrived
	m.conns[1].cState = 1 // connection 1 was reopened
	m.SendReadyJoins()
	if m.Queued() != base+2 {
		t.Errorf("queued %d after connection 0's third ACK arrived, want %d (two joins)", m.Queued(), base+2)
	}
	if s1, s2 := m.conns[0].sub[1].state, m.conns[0].sub[2].state; s1 != subJoinSynSent || s2 != subJoinSynSent {
		t.Errorf("connection 0's join states %d, %d, want %d", s1, s2, subJoinSynSent)
	}
	if len(m.pendJoins) != 0 {
		t.Errorf("still pending: %v", m.pendJoins)
	}
}

// TestAhead: a segment whose payload starts beyond what its receiver has
// is ahead; the next expected one, pure ACKs and packets of no connection
// are not.
func TestAhead(t *testing.T) {
	m, err := New(Config{Connections: 1, Subflows: 1, Sizes: []int{100}, Direction: C2S, Seed: 6})
	if err != nil {
		t.Fatal(err)
	}
	m.External()
	m.EstablishRaw()
	m.Start() // the client fills its window on subflow 0
	pk := make([]translate.Packet, 8)
	if n := m.TakeOut(translate.Access, pk); n != 8 {
		t.Fatalf("took %d packets, want the window of 8", n)
	}
	// As the server would see them after the translator (Ahead reads the
	// subflow sequence number, which subflow 0 shares with the server's
	// view).
	for i := range pk {
		pk[i].Side = translate.Core
	}
	if m.Ahead(&pk[0]) {
		t.Error("the first segment is ahead of an empty receiver")
	}
	if !m.Ahead(&pk[1]) || !m.Ahead(&pk[7]) {
		t.Error("segments 2 and 8 are not ahead of a receiver that has nothing")
	}
	m.conns[0].sRcv = 100
	if m.Ahead(&pk[1]) || !m.Ahead(&pk[2]) {
		t.Error("after the first 100 bytes: the second segment must be next, the third ahead")
	}
	m.clientAck(0, 0)
	var ack [1]translate.Packet
	if m.TakeOut(translate.Access, ack[:]) != 1 {
		t.Fatal("no ACK queued")
	}
	ack[0].Side = translate.Core
	if m.Ahead(&ack[0]) {
		t.Error("a pure ACK is ahead")
	}
	other := ack[0]
	other.Buf = append([]byte(nil), ack[0].Buf...)
	other.Buf[other.Off+12] = 10 // source 10.x: no connection of the model
	if m.Ahead(&other) {
		t.Error("a packet of no connection is ahead")
	}
	for i := range pk {
		m.Free(&pk[i])
	}
	m.Free(&ack[0])
}

// TestStreamKeyPassthrough: without a translator the server receives every
// subflow's segments with their DSS mappings; StreamKey gives each its data
// offset in the connection's stream, across a mapping that moves from
// subflow 0 to subflow 1.
func TestStreamKeyPassthrough(t *testing.T) {
	m, err := New(Config{Connections: 1, Subflows: 2, Sizes: []int{100}, Direction: C2S, MapSize: 300, Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	m.EstablishRaw()
	m.Start()
	pk := make([]translate.Packet, 8)
	if n := m.TakeOut(translate.Access, pk); n != 8 {
		t.Fatalf("took %d packets, want 8", n)
	}
	for i := range pk {
		pk[i].Side = translate.Core
		ci, off := m.StreamKey(&pk[i])
		if ci != 0 || off != int64(100*i) {
			t.Errorf("segment %d: StreamKey = %d, %d; want 0, %d", i, ci, off, 100*i)
		}
		m.Free(&pk[i])
	}
}
