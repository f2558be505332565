package pktgen

import (
	"encoding/binary"
	"testing"

	"github.com/flexcp/flexcp/steering"
)

// tcp4 is a 40-byte IPv4 TCP packet (no options) from src:sp to dst:dp
// with the given flags.
func tcp4(src, dst [4]byte, sp, dp uint16, flags byte) []byte {
	b := make([]byte, 40)
	b[0] = 0x45                              // version 4, IHL 5
	binary.BigEndian.PutUint16(b[2:], 40)    // total length
	b[8], b[9] = 64, 6                       // TTL, protocol TCP
	copy(b[12:], src[:])                     // source address
	copy(b[16:], dst[:])                     // destination address
	binary.BigEndian.PutUint16(b[20:], sp)   // source port
	binary.BigEndian.PutUint16(b[22:], dp)   // destination port
	b[32] = 5 << 4                           // data offset 5
	b[33] = flags                            // flags
	binary.BigEndian.PutUint16(b[34:], 8192) // window
	return b
}

// TestRSSQueueIsTheOwnersQueue: without affinity the generator picks the
// queue plain symmetric RSS would, with the dataplane's key and table, so
// a connection's first SYN and every packet of its subflow 0, both ways,
// land on the worker the dataplane's classifier names as owner.
func TestRSSQueueIsTheOwnersQueue(t *testing.T) {
	for _, workers := range []int{2, 3, 4} {
		rs, err := steering.NewRuleset(steering.Config{Workers: workers, SymmetricRSS: true})
		if err != nil {
			t.Fatal(err)
		}
		reta, err := steering.NewRETA(steering.DefaultRETASize, workers)
		if err != nil {
			t.Fatal(err)
		}
		g := &gen{rss: steering.NewTable(rs.RSSKey()), reta: reta}
		cls := steering.NewClassifier(rs)
		seen := map[int]bool{}
		for i := 0; i < 200; i++ {
			cli, srv := [4]byte{198, 18, 0, byte(2 + i%200)}, [4]byte{198, 19, 0, 1}
			sp := uint16(40000 + 7*i)
			syn := tcp4(cli, srv, sp, 80, 0x02)
			q := g.rssQueue(syn)
			owner, _ := cls.Owner(syn)
			if q != owner {
				t.Fatalf("%d workers, connection %d: SYN on queue %d, owner %d", workers, i, q, owner)
			}
			if back := g.rssQueue(tcp4(srv, cli, 80, sp, 0x12)); back != q {
				t.Fatalf("%d workers, connection %d: SYN/ACK on queue %d, SYN on %d (not symmetric)", workers, i, back, q)
			}
			seen[q] = true
		}
		if len(seen) != workers {
			t.Errorf("%d workers: 200 connections used queues %v only", workers, seen)
		}
	}
	if q := (&gen{}).rssQueue([]byte{0x45, 0, 0}); q != 0 {
		t.Errorf("short packet: queue %d", q)
	}
}
