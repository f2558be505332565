// Package golden loads the golden captures of real Linux MPTCP traffic in
// translate/testdata and hands them to tests as IP packets.
//
// The captures were recorded by scripts/capture-golden.sh in the test
// topology of DESIGN.md section 7, with the Linux kernel as MPTCP client
// (fcp-c) and server (fcp-s) and the kernel forwarding in fcp-p; tcpdump
// ran on the proxy's three interfaces, so every scenario has three files:
// <scenario>-p1.pcap (access path 1: the initial subflow), -p2.pcap
// (access path 2: the MP_JOIN subflow) and -p3.pcap (core: both subflows,
// as forwarded). translate/testdata/README.md says what each shows.
//
// Load returns the frames of one file as [Packet] values: the IP packet
// (Ethernet header and padding removed) plus where it came from (file,
// interface, index, timestamp). Packet has small read-only accessors for
// the IP and TCP fields a test needs to find a packet (addresses, ports,
// flags, sequence numbers, options), [Pred] and [Filter] select packets,
// and ParseMPCapable, ParseMPJoin, ParseDSS, ParseFastclose and
// ParseTCPRST decode the MPTCP options that appear in the captures.
//
// What it gives up: this is test support, not the data path. It allocates
// freely, validates only enough not to panic on the captures, and its MPTCP
// decoding is a minimal, independent reading of RFC 8684 section 3, kept
// separate on purpose from the real codec in translate/option so that each
// can check the other. Everything here is pure Go (gopacket's pcapgo), so it
// builds with CGO_ENABLED=0.
package golden
