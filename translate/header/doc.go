// Package header gives allocation-free views over IPv4, IPv6 and TCP
// headers held in byte slices, the one's-complement checksum arithmetic that
// rewriting them needs, and the wrap-around sequence types of TCP (Seq32)
// and MPTCP (DSN64).
//
// A view is a byte slice with a type: IPv4, IPv6 and TCP. The caller checks
// it once with IsValid and trusts it after; getters and setters index the
// slice directly and panic (index out of range) on a view that was never
// validated, which is a programmer error, not malformed input. Every field
// has one getter and one plain setter; fields that the translator rewrites
// also have a setter that updates the checksum incrementally (RFC 1624), for
// example TCP.SetSeqWithChecksumUpdate, so the payload is never summed
// again. Full checksum computation (IPv4.CalculateChecksum,
// TCP.CalculateChecksum) is for packets built from scratch and for tests.
//
// A TCP view is the whole segment: header, options and payload, exactly as
// long as the IP header says (IPv4.Payload, IPv6.Payload), because the TCP
// checksum and TCP.Payload depend on its length.
//
// What it gives up: IPv4 options are carried but not parsed; IPv6 extension
// headers are not walked (IPv6.IsDirectTCP reports them so the caller can
// pass the packet through untranslated); jumbograms (payload length 0) are
// not valid; nothing here allocates, copies, or checks a checksum unless
// asked.
package header
