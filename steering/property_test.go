package steering

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// mpCapable is an MP_CAPABLE option of a SYN (RFC 8684 section 3.1,
// version 1, flag H).
var mpCapable = []byte{30, 4, 0x01, 0x01}

// worker is one simulated worker: its classifier copy and key pool.
type worker struct {
	c    *Classifier
	keys *KeyPool
}

// TestPropertyOneOwner is the steering invariant (DESIGN.md section 5): for
// random connections, v4 and v6, with random joins, every packet of a
// connection classifies to one owner core on every worker's classifier:
// subflow 0 both ways (the client's 4-tuple T0, which the server connection
// shares, and the server's packets reversed), join SYNs carrying a token
// from the owner's key pool in any option layout, and the join subflows'
// packets both ways once the owner has installed their 5-tuple and sent
// the Update to every other worker. With symmetric RSS the NIC model
// (Ruleset.Steer over the same rules) delivers every one of those packets
// whose join SYN has a Linux layout straight to the owner.
func TestPropertyOneOwner(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 24} {
		for _, sym := range []bool{true, false} {
			t.Run(fmt.Sprintf("N=%d/symmetric=%v", n, sym), func(t *testing.T) {
				propertyOneOwner(t, n, sym, uint64(n))
			})
		}
	}
}

func propertyOneOwner(t *testing.T, n int, sym bool, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 77))
	rs := mustRuleset(t, Config{Workers: n, SymmetricRSS: sym, SubflowsPerCore: 64})
	workers := make([]worker, n)
	for i := range workers {
		kp, err := NewKeyPool(rs.Tokens(), i, 8, newTestRand(byte(i)))
		if err != nil {
			t.Fatal(err)
		}
		workers[i] = worker{c: NewClassifier(rs), keys: kp}
	}
	owners := make([]int, n)
	type joined struct {
		t  Tuple
		id RuleID
	}
	var open [][]joined // join subflows of connections still open

	// check classifies pkt on every worker and, where the NIC decides
	// it, on the NIC model.
	check := func(what string, pkt []byte, owner int, wantWhy Reason, nic bool) {
		t.Helper()
		for w := range workers {
			core, why := workers[w].c.Owner(pkt)
			if core != owner || why != wantWhy {
				t.Fatalf("%s on worker %d: core %d (%v), want %d (%v)", what, w, core, why, owner, wantWhy)
			}
		}
		if nic && (sym || wantWhy != ReasonRSS) {
			if q, kind := rs.Steer(pkt); q != owner {
				t.Fatalf("%s: NIC model queue %d (%v), owner %d", what, q, kind, owner)
			}
		}
	}

	for conn := 0; conn < 150; conn++ {
		v6 := r.IntN(2) == 0
		addr := func(net byte) [16]byte {
			var a [16]byte
			if v6 {
				a = [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, net}
				for i := 8; i < 16; i++ {
					a[i] = byte(r.Uint32())
				}
			} else {
				a = [16]byte{198, 18, net, byte(1 + r.IntN(254))}
			}
			return a
		}
		t0 := Tuple{Src: addr(1), Dst: addr(3), SrcPort: uint16(1024 + r.IntN(64511)), DstPort: uint16(1 + r.IntN(65535)), IPv6: v6}

		// Subflow 0: the client's SYN decides the owner (RSS).
		syn := buildTCP(t0, tcpFlagSYN, append([]byte{2, 4, 5, 0xb4}, mpCapable...), 0)
		owner, why := workers[0].c.Owner(syn)
		if why != ReasonRSS || owner < 0 || owner >= n {
			t.Fatalf("SYN of %v: %d %v", t0, owner, why)
		}
		owners[owner]++
		what := fmt.Sprintf("conn %d %v", conn, t0)
		check(what+" SYN", syn, owner, ReasonRSS, true)
		check(what+" server SYN/ACK", buildTCP(t0.Reverse(), tcpFlagSYN|tcpFlagACK, nil, 0), owner, ReasonRSS, true)
		check(what+" C->P data", buildTCP(t0, tcpFlagACK, nil, 1+r.IntN(1400)), owner, ReasonRSS, true)
		check(what+" P->S data (T0)", buildTCP(t0, tcpFlagACK|0x08, nil, 1+r.IntN(1400)), owner, ReasonRSS, true)
		check(what+" S->P data", buildTCP(t0.Reverse(), tcpFlagACK, nil, 1+r.IntN(1400)), owner, ReasonRSS, true)

		// The owner's key, token from its pool.
		k, err := workers[owner].keys.Next()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := workers[owner].keys.Refill(2); err != nil {
			t.Fatal(err)
		}

		var subs []joined
		for j := r.IntN(4); j > 0; j-- {
			js := Tuple{Src: addr(2), Dst: t0.Dst, SrcPort: uint16(1024 + r.IntN(64511)), DstPort: t0.DstPort, IPv6: v6}
			l := joinLayouts[r.IntN(len(joinLayouts))]
			jw := fmt.Sprintf("%s join %v (%s)", what, js, l.name)
			check(jw+" SYN", buildTCP(js, tcpFlagSYN, l.opts(k.Token), 0), owner, ReasonJoinToken, l.nic)

			// The owner accepts: installs on its own copy first, then
			// every other worker applies its Update; the control
			// plane adds the NIC rules.
			if !workers[owner].c.Install(js, owner) {
				t.Fatalf("%s: owner's install refused", jw)
			}
			u := Update{Op: UpdateInstall, Core: uint16(owner), Tuple: js}
			for w := range workers {
				if w != owner && !workers[w].c.Apply(u) {
					t.Fatalf("%s: worker %d refused the Update", jw, w)
				}
			}
			id, err := rs.AddSubflow(js, owner)
			if err != nil {
				t.Fatalf("%s: %v", jw, err)
			}
			subs = append(subs, joined{js, id})

			check(jw+" SYN retransmitted", buildTCP(js, tcpFlagSYN, l.opts(k.Token), 0), owner, ReasonSubflow, l.nic)
			check(jw+" P->C SYN/ACK", buildTCP(js.Reverse(), tcpFlagSYN|tcpFlagACK, nil, 0), owner, ReasonSubflow, true)
			check(jw+" third ACK", buildTCP(js, tcpFlagACK, nil, 0), owner, ReasonSubflow, true)
			check(jw+" C->P data", buildTCP(js, tcpFlagACK, nil, 1+r.IntN(1400)), owner, ReasonSubflow, true)
			check(jw+" P->C data", buildTCP(js.Reverse(), tcpFlagACK, nil, 1+r.IntN(1400)), owner, ReasonSubflow, true)
		}
		// Subflow 0 is unaffected by the joins.
		check(what+" S->P data after joins", buildTCP(t0.Reverse(), tcpFlagACK, nil, 100), owner, ReasonRSS, true)
		open = append(open, subs)

		// Close a random earlier connection: its owner removes the
		// entries everywhere.
		if len(open) > 20 {
			i := r.IntN(len(open))
			for _, s := range open[i] {
				_, core, _ := rs.Subflow(s.id)
				if err := rs.RemoveSubflow(s.id); err != nil {
					t.Fatal(err)
				}
				for w := range workers {
					if !workers[w].c.Apply(Update{Op: UpdateRemove, Core: uint16(core), Tuple: s.t}) {
						t.Fatalf("remove %v on worker %d", s.t, w)
					}
				}
			}
			open = append(open[:i], open[i+1:]...)
		}
	}
	for w := range workers {
		if workers[w].c.Subflows() != rs.Subflows() {
			t.Fatalf("worker %d holds %d entries, rule set %d", w, workers[w].c.Subflows(), rs.Subflows())
		}
	}
	if n > 1 {
		for core, cnt := range owners {
			if cnt == 0 {
				t.Errorf("no connection owned by core %d of %d: %v", core, n, owners)
			}
		}
	}
}
