package option

import (
	"testing"
)

// seedBlocks are the option blocks of the table tests; the golden captures
// add theirs in golden_test.go.
var seedBlocks = [][]byte{
	blockMPCSyn, blockMPCSynAck, blockMPCAck, blockMPCData, blockDSSData, blockDSSAck32,
	blockDSSFinCsum, blockDSSMap32, blockMPJSyn, blockMPJSynAck, blockMPJAck, blockAddAddrPrio,
	blockAddAddr6EchoRm, blockFailFastclose, blockTCPRst, blockSACK,
}

func FuzzParseOptions(f *testing.F) {
	for _, b := range seedBlocks {
		for _, flags := range []uint8{syn, synAck, ack, rst} {
			f.Add(b, flags, false)
			f.Add(b, flags, true)
		}
	}
	for _, b := range goldenBlocks(f) {
		f.Add(b.block, b.flags, b.hasData)
	}
	f.Fuzz(func(t *testing.T, block []byte, flags uint8, hasData bool) {
		checkParseInvariants(t, block, flags, hasData)
	})
}

// checkParseInvariants parses block and checks what must hold for any
// input: spans inside the block, in order, not overlapping; Span agrees
// with the span list; accepted options re-encode to their bytes; Remove
// leaves a well-formed block without the dropped types.
func checkParseInvariants(t *testing.T, block []byte, flags uint8, hasData bool) {
	var o Options
	ok := o.Parse(block, flags, hasData)
	if ok == o.Malformed {
		t.Fatalf("Parse returned %v with Malformed %v", ok, o.Malformed)
	}
	if got, want := HasMPTCP(block), o.Present&SetMPTCP != 0; got != want {
		t.Fatalf("HasMPTCP %v, Parse found MPTCP options %v", got, want)
	}
	limit := min(len(block), MaxBlockLen)
	if o.Malformed && int(o.BadOff) >= limit {
		t.Fatalf("BadOff %d outside the block of %d", o.BadOff, limit)
	}
	end := 0
	var seen Set
	for _, s := range o.Spans[:o.NSpans] {
		if int(s.Off) < end || int(s.Off)+int(s.Len) > limit || s.Len == 0 {
			t.Fatalf("span %+v after %d in a block of %d", s, end, limit)
		}
		if s.ID != EOL && s.Len < 2 {
			t.Fatalf("span %+v shorter than 2", s)
		}
		end = int(s.Off) + int(s.Len)
		seen = seen.With(s.ID)
	}
	if seen != o.Present {
		t.Fatalf("spans give %#x, Present %#x", seen, o.Present)
	}
	for id := ID(0); id < numIDs; id++ {
		off, n, has := o.Span(id)
		if has != o.Present.Has(id) || has && off+n > limit {
			t.Fatalf("Span(%d) = %d, %d, %v", id, off, n, has)
		}
	}
	// Re-encoding: Put of each accepted option gives its length, the
	// same bytes when canonical, and parses back to the same value.
	var buf [MaxBlockLen]byte
	for _, s := range o.Spans[:o.NSpans] {
		if id := s.ID; id == Unknown || id == MPTCPOther || id == EOL {
			continue
		}
		if off, _, _ := o.Span(s.ID); off != int(s.Off) {
			continue // an earlier duplicate: the values are the last one's
		}
		orig := block[s.Off : s.Off+s.Len]
		n, canonical := reencode(buf[:], &o, s.ID, orig)
		// A non-canonical DSS may carry a checksum without a mapping,
		// which the kernel accepts and Put does not write.
		if n != int(s.Len) && (canonical || s.ID != DSS) || n == 0 {
			t.Fatalf("option %d: re-encoded %d bytes, parsed %d: % x", s.ID, n, s.Len, orig)
		}
		if canonical && string(buf[:n]) != string(orig) {
			t.Fatalf("option %d: re-encoded\n% x\nparsed\n% x", s.ID, buf[:n], orig)
		}
		var o2 Options
		if !o2.Parse(buf[:n], flags, hasData) || !o2.Present.Has(s.ID) || !sameValue(&o, &o2, s.ID) {
			t.Fatalf("option %d: re-encoded bytes parse differently: % x", s.ID, buf[:n])
		}
	}
	// Remove the MPTCP options and check the rest survives.
	cp := append([]byte(nil), block[:limit]...)
	n := Remove(cp, &o, SetMPTCP)
	if n > limit || limit%4 == 0 && n%4 != 0 {
		t.Fatalf("Remove returned %d for a block of %d", n, limit)
	}
	var o3 Options
	if !o3.Parse(cp[:n], flags, hasData) {
		t.Fatalf("block after Remove is malformed: % x", cp[:n])
	}
	if want := o.Present &^ SetMPTCP &^ SetOf(EOL); o3.Present != want {
		t.Fatalf("after Remove Present %#x, want %#x", o3.Present, want)
	}
}

// sameValue reports whether a and b decoded the same value for id.
func sameValue(a, b *Options, id ID) bool {
	switch id {
	case MSS:
		return a.MSS == b.MSS
	case WindowScale:
		return a.WindowScale == b.WindowScale
	case SACKPermitted:
		return true
	case SACK:
		return a.NSACK == b.NSACK && a.SACK == b.SACK
	case Timestamps:
		return a.TSVal == b.TSVal && a.TSEcr == b.TSEcr
	case MPCapable:
		return a.MPCapable == b.MPCapable
	case MPJoin:
		return a.MPJoin == b.MPJoin
	case DSS:
		return a.DSS == b.DSS
	case AddAddr:
		return a.AddAddr == b.AddAddr
	case RemoveAddr:
		return a.RemoveAddr == b.RemoveAddr
	case MPPrio:
		return a.MPPrio == b.MPPrio
	case MPFail:
		return a.MPFail == b.MPFail
	case MPFastclose:
		return a.MPFastclose == b.MPFastclose
	case MPTCPRst:
		return a.MPTCPRst == b.MPTCPRst
	}
	return false
}
