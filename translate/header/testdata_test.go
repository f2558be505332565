package header

// Packets shared by the tests of this package, built with gopacket (its
// checksums are the reference) and written out field by field.

// v4Segment is an IPv4 TCP data segment: ACK|PSH, NOP NOP timestamps,
// payload "hello".
var v4Segment = []byte{
	0x45,       // version 4, IHL 5
	0x00,       // TOS
	0x00, 0x39, // total length 57
	0x12, 0x34, // ID
	0x40, 0x00, // DF, offset 0
	0x40,       // TTL 64
	0x06,       // protocol TCP
	0x98, 0x62, // header checksum
	198, 18, 1, 2, // source
	198, 18, 3, 2, // destination
	// TCP
	0x9c, 0x40, // source port 40000
	0x14, 0x51, // destination port 5201
	0x11, 0x22, 0x33, 0x44, // seq
	0x55, 0x66, 0x77, 0x88, // ack
	0x80,       // data offset 8 words
	0x18,       // ACK|PSH
	0x01, 0xf6, // window 502
	0xde, 0xd5, // checksum
	0x00, 0x00, // urgent
	0x01, 0x01, // NOP NOP
	0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2, // timestamps TSval 1 TSecr 2
	'h', 'e', 'l', 'l', 'o', // payload
}

// v6Segment is the same TCP segment over IPv6.
var v6Segment = []byte{
	0x61, 0x2a, 0xbc, 0xde, // version 6, traffic class 0x12, flow label 0xabcde
	0x00, 0x25, // payload length 37
	0x06,                                                       // next header TCP
	0x40,                                                       // hop limit 64
	0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, // source 2001:db8:1::2
	0x20, 0x01, 0x0d, 0xb8, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, // destination 2001:db8:3::2
	// TCP
	0x9c, 0x40, // source port 40000
	0x14, 0x51, // destination port 5201
	0x11, 0x22, 0x33, 0x44, // seq
	0x55, 0x66, 0x77, 0x88, // ack
	0x80,       // data offset 8 words
	0x18,       // ACK|PSH
	0x01, 0xf6, // window 502
	0x13, 0x85, // checksum
	0x00, 0x00, // urgent
	0x01, 0x01, // NOP NOP
	0x08, 0x0a, 0, 0, 0, 1, 0, 0, 0, 2, // timestamps TSval 1 TSecr 2
	'h', 'e', 'l', 'l', 'o', // payload
}

// clone returns a copy of b, so tests can rewrite shared packets.
func clone(b []byte) []byte { return append([]byte(nil), b...) }
