package option

import (
	"testing"

	"github.com/flexcp/flexcp/internal/golden"
	"github.com/flexcp/flexcp/translate/header"
)

// capturedBlock is the option block of one captured segment.
type capturedBlock struct {
	block   []byte
	flags   uint8
	hasData bool
	pkt     golden.Packet
}

// loadCaptured returns the option block of every TCP segment of every
// golden capture, read through this project's header views.
func loadCaptured(tb testing.TB) []capturedBlock {
	tb.Helper()
	files, err := golden.Files()
	if err != nil {
		tb.Fatal(err)
	}
	var out []capturedBlock
	for _, path := range files {
		pkts, err := golden.LoadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		for _, p := range pkts {
			var tcp header.TCP
			switch ip4, ip6 := header.IPv4(p.Data), header.IPv6(p.Data); {
			case ip4.IsValid() && ip4.Protocol() == header.IPv4ProtocolTCP && !ip4.IsFragment():
				tcp = ip4.Payload()
			case ip6.IsValid() && ip6.IsDirectTCP():
				tcp = ip6.Payload()
			default:
				continue
			}
			if !tcp.IsValid() {
				tb.Fatalf("%v: invalid TCP header", p)
			}
			out = append(out, capturedBlock{tcp.Options(), tcp.Flags(), len(tcp.Payload()) > 0, p})
		}
	}
	return out
}

// goldenBlocks seeds the fuzz corpus with one block per distinct option
// layout of the captures.
func goldenBlocks(tb testing.TB) []capturedBlock {
	seen := map[string]bool{}
	var out []capturedBlock
	for _, c := range loadCaptured(tb) {
		var o Options
		o.Parse(c.block, c.flags, c.hasData)
		key := string([]byte{c.flags, byte(o.Present), byte(o.Present >> 8), byte(len(c.block))})
		if !seen[key] {
			seen[key] = true
			out = append(out, c)
		}
	}
	return out
}

// TestGoldenParse parses every option of every captured segment and
// compares with the independent decoder of internal/golden: the kernel
// sends nothing this parser rejects, and both read the same values.
func TestGoldenParse(t *testing.T) {
	blocks := loadCaptured(t)
	if len(blocks) == 0 {
		t.Fatal("no captured TCP segments")
	}
	count := map[ID]int{}
	for _, c := range blocks {
		var o Options
		if !o.Parse(c.block, c.flags, c.hasData) {
			t.Fatalf("%v: malformed at %d", c.pkt, o.BadOff)
		}
		if o.Present.Has(MPTCPOther) || o.Present.Has(Unknown) {
			t.Errorf("%v: rejected or unknown option in % x", c.pkt, c.block)
		}
		checkParseInvariants(t, c.block, c.flags, c.hasData)
		for _, s := range o.Spans[:o.NSpans] {
			count[s.ID]++
			raw := c.block[s.Off : s.Off+s.Len]
			switch s.ID {
			case MPCapable:
				g, ok := golden.ParseMPCapable(raw)
				m := o.MPCapable
				if !ok || int(m.Len) != g.Len || m.Version != g.Version || m.Flags != g.Flags ||
					m.SenderKey != g.SenderKey || m.ReceiverKey != g.ReceiverKey || m.DataLen != g.DataLen ||
					m.Checksum != g.Checksum {
					t.Errorf("%v: MP_CAPABLE %+v, golden %+v", c.pkt, m, g)
				}
			case MPJoin:
				g, ok := golden.ParseMPJoin(raw)
				j := o.MPJoin
				if !ok || int(j.Len) != g.Len || j.Backup != g.Backup || j.AddrID != g.AddrID || j.Token != g.Token ||
					j.Nonce != g.Nonce || j.TruncatedHMAC != g.TruncHMAC || j.HMAC != g.HMAC {
					t.Errorf("%v: MP_JOIN %+v, golden %+v", c.pkt, j, g)
				}
			case DSS:
				g, ok := golden.ParseDSS(raw)
				d := o.DSS
				if !ok || d.Flags != g.Flags || uint64(d.DataAck) != g.DataACK || uint64(d.DSN) != g.DSN ||
					uint32(d.SSN) != g.SSN || d.DataLen != g.DataLen || d.HasChecksum != g.HasChecksum ||
					d.Checksum != g.Checksum {
					t.Errorf("%v: DSS %+v, golden %+v", c.pkt, d, g)
				}
			case MPFastclose:
				if k, ok := golden.ParseFastclose(raw); !ok || k != o.MPFastclose.ReceiverKey {
					t.Errorf("%v: MP_FASTCLOSE key %#x, golden %#x", c.pkt, o.MPFastclose.ReceiverKey, k)
				}
			case MPTCPRst:
				if f, r, ok := golden.ParseTCPRST(raw); !ok || f != o.MPTCPRst.Flags || r != o.MPTCPRst.Reason {
					t.Errorf("%v: MP_TCPRST %+v, golden %d %d", c.pkt, o.MPTCPRst, f, r)
				}
			}
		}
	}
	// The captures must exercise the handshake and data options.
	for _, id := range []ID{MSS, WindowScale, SACKPermitted, Timestamps, MPCapable, MPJoin, DSS} {
		if count[id] == 0 {
			t.Errorf("no option of type %d in the captures", id)
		}
	}
	t.Logf("%d segments; options by type: %v", len(blocks), count)
}

// TestGoldenStrip removes the MPTCP options of every captured segment, as
// the translator does toward the server, and checks the result.
func TestGoldenStrip(t *testing.T) {
	for _, c := range loadCaptured(t) {
		var o Options
		o.Parse(c.block, c.flags, c.hasData)
		block := append([]byte(nil), c.block...)
		n := Remove(block, &o, SetMPTCP)
		var o2 Options
		if !o2.Parse(block[:n], c.flags, c.hasData) || o2.Present&SetMPTCP != 0 || n%4 != 0 ||
			o2.Present != o.Present&^SetMPTCP {
			t.Fatalf("%v: stripped % x to % x", c.pkt, c.block, block[:n])
		}
	}
}
