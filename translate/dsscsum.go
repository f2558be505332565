package translate

import (
	"encoding/binary"

	"github.com/flexcp/flexcp/translate/header"
)

// clientChecksumOK verifies the DSS checksum (RFC 8684 3.3.1) of the
// mapping the client's current segment on subflow s carries, whose DSN,
// expanded to 64 bits, is dsn: the checksum covers a pseudo-header (the
// 64-bit DSN, the relative SSN, the data-level length and the checksum
// field) and the whole mapping's payload. P verifies it when the segment
// is the whole mapping (or the mapping holds only a DATA_FIN); the
// payload's sum comes from the TCP checksum, so the payload is not read.
// A mapping spread over several segments is not verified (P would have to
// hold its earlier segments back) and is counted in ChecksumUnverified;
// so is a mapping without a checksum on a connection that negotiated
// them. It reports false only for a verified mismatch.
func (e *Engine) clientChecksumOK(s *subflow, dsn header.DSN64) bool {
	pk := &e.pk
	d := &pk.opts.DSS
	n := uint32(d.DataLen)
	if d.Flags&dssDataFin != 0 {
		n-- // RFC 8684 3.3.3: the DATA_FIN takes one data-level byte
	}
	whole := n == 0 || uint32(pk.seq-s.isnC) == uint32(d.SSN) && uint32(pk.payLen) == n
	if !d.HasChecksum || !whole {
		e.cnt.ChecksumUnverified++
		return true
	}
	var ph [16]byte
	binary.BigEndian.PutUint64(ph[0:], uint64(dsn))
	binary.BigEndian.PutUint32(ph[8:], uint32(d.SSN))
	binary.BigEndian.PutUint16(ph[12:], d.DataLen)
	binary.BigEndian.PutUint16(ph[14:], d.Checksum)
	paySum := uint16(0)
	if n > 0 {
		paySum = pk.paySum
	}
	// A valid checksum makes the one's-complement sum all ones.
	return header.OnesSum(ph[:], paySum) == 0xffff
}
