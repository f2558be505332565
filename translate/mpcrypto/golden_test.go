package mpcrypto

import (
	"net/netip"
	"testing"

	"github.com/flexcp/flexcp/internal/golden"
	"github.com/flexcp/flexcp/translate/header"
	"github.com/flexcp/flexcp/translate/option"
)

// segment is one captured TCP segment with its parsed options.
type segment struct {
	src, dst netip.AddrPort
	tcp      header.TCP
	opts     option.Options
	pkt      golden.Packet
}

// loadSegments parses every TCP segment of one capture with this
// project's views and option codec.
func loadSegments(t *testing.T, scenario, iface string) []*segment {
	t.Helper()
	var out []*segment
	for _, p := range golden.MustLoad(t, scenario, iface) {
		var tcp header.TCP
		var src, dst netip.Addr
		switch ip4, ip6 := header.IPv4(p.Data), header.IPv6(p.Data); {
		case ip4.IsValid() && ip4.Protocol() == header.IPv4ProtocolTCP && !ip4.IsFragment():
			tcp = ip4.Payload()
			src, dst = netip.AddrFrom4(ip4.SourceAddress()), netip.AddrFrom4(ip4.DestinationAddress())
		case ip6.IsValid() && ip6.IsDirectTCP():
			tcp = ip6.Payload()
			src, dst = netip.AddrFrom16(ip6.SourceAddress()), netip.AddrFrom16(ip6.DestinationAddress())
		default:
			continue
		}
		if !tcp.IsValid() {
			t.Fatalf("%v: invalid TCP header", p)
		}
		s := &segment{src: netip.AddrPortFrom(src, tcp.SourcePort()), dst: netip.AddrPortFrom(dst, tcp.DestinationPort()),
			tcp: tcp, pkt: p}
		if !s.opts.Parse(tcp.Options(), tcp.Flags(), len(tcp.Payload()) > 0) {
			t.Fatalf("%v: malformed options", p)
		}
		out = append(out, s)
	}
	return out
}

type flow struct{ src, dst netip.AddrPort }

// TestGoldenKnownAnswers checks this package against the Linux kernel on
// the wire: every MP_JOIN SYN names the token of the server key of an
// MP_CAPABLE handshake; the server's SYN/ACK truncated HMAC and the
// client's third-ACK HMAC verify with the captured keys and nonces; the
// first data-level sequence numbers are the IDSNs plus one.
func TestGoldenKnownAnswers(t *testing.T) {
	for _, scenario := range golden.Scenarios() {
		t.Run(scenario, func(t *testing.T) {
			segs := loadSegments(t, scenario, golden.IfaceCore)
			type keys struct{ client, server uint64 }
			byToken := map[uint32]keys{}  // server token -> keys
			byFlow := map[flow]keys{}     // client->server 4-tuple of subflow 0
			synNonce := map[flow]uint32{} // join SYN: R_C
			synToken := map[flow]uint32{} // join SYN: token
			ackNonce := map[flow]uint32{} // join SYN/ACK (keyed client->server): R_S
			var joinsChecked, acksChecked int
			for _, s := range segs {
				o := &s.opts
				f := flow{s.src, s.dst}
				rev := flow{s.dst, s.src}
				if o.Present.Has(option.MPCapable) && o.MPCapable.Len >= option.OptLenMPCAck {
					k := keys{client: o.MPCapable.SenderKey, server: o.MPCapable.ReceiverKey}
					byToken[Token(k.server)] = k
					byFlow[f] = k
				}
				if !o.Present.Has(option.MPJoin) {
					continue
				}
				j := &o.MPJoin
				switch j.Len {
				case option.OptLenMPJSyn:
					if _, ok := byToken[j.Token]; !ok {
						t.Fatalf("%v: join token %#08x matches no server key", s.pkt, j.Token)
					}
					synNonce[f], synToken[f] = j.Nonce, j.Token
				case option.OptLenMPJSynAck:
					k, rC := byToken[synToken[rev]], synNonce[rev]
					var h Hasher
					if !h.VerifyJoinTruncatedHMAC(j.TruncatedHMAC, k.server, k.client, j.Nonce, rC) {
						t.Errorf("%v: SYN/ACK HMAC %#x does not verify", s.pkt, j.TruncatedHMAC)
					}
					ackNonce[rev] = j.Nonce
					joinsChecked++
				case option.OptLenMPJAck:
					k := byToken[synToken[f]]
					var h Hasher
					if !h.VerifyJoinHMAC(&j.HMAC, k.client, k.server, synNonce[f], ackNonce[f]) {
						t.Errorf("%v: third-ACK HMAC %x does not verify", s.pkt, j.HMAC)
					}
					acksChecked++
				}
			}
			// The first data-level byte each side sends is its IDSN + 1
			// (RFC 8684 3.3.1), and no mapping starts before it.
			for f, k := range byFlow {
				checkIDSN(t, segs, f, IDSN(k.client))
				checkIDSN(t, segs, flow{f.dst, f.src}, IDSN(k.server))
			}
			t.Logf("%d connections, %d join SYN/ACK and %d join ACK HMACs verified", len(byFlow), joinsChecked, acksChecked)
			if scenario != golden.TCPFallback && (len(byFlow) == 0 || joinsChecked == 0 || acksChecked == 0) {
				t.Errorf("expected an MPTCP connection with a verified join in %s", scenario)
			}
		})
	}
}

// checkIDSN checks the DSS mappings sent on subflow 0 in direction f: none
// starts before idsn+1; if the first data went in an MP_CAPABLE (length 22
// or 24, RFC 8684 3.1: implicitly at IDSN+1), the next mapping starts
// right after it, else a mapping starts at idsn+1.
func checkIDSN(t *testing.T, segs []*segment, f flow, idsn uint64) {
	first := header.DSN64(idsn).Add(1)
	next := first
	for _, s := range segs {
		if s.src == f.src && s.dst == f.dst && s.opts.Present.Has(option.MPCapable) &&
			s.opts.MPCapable.Len >= option.OptLenMPCAckData {
			next = first.Add(uint64(s.opts.MPCapable.DataLen))
			break
		}
	}
	var sawNext, sawData bool
	for _, s := range segs {
		if s.src != f.src || s.dst != f.dst || !s.opts.Present.Has(option.DSS) || !s.opts.DSS.HasMap() {
			continue
		}
		d := &s.opts.DSS
		dsn := d.DSN
		if d.Flags&option.DSSDSN64 == 0 {
			dsn = first.Expand(uint32(dsn))
		}
		if dsn.LessThan(first) {
			t.Errorf("%v: mapping at DSN %#x before IDSN+1 %#x", s.pkt, dsn, first)
		}
		if d.DataLen > 0 && !d.DataFIN() {
			sawData = true
		}
		sawNext = sawNext || dsn == next
	}
	if sawData && !sawNext {
		t.Errorf("%v -> %v: no mapping starts at %#x (IDSN+1 %#x)", f.src, f.dst, next, first)
	}
}
