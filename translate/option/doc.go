// Package option parses and builds TCP option blocks, with every MPTCP
// option of RFC 8684 (kind 30), without allocating.
//
// Options.Parse walks an option block once and fills a fixed-size Options
// value: a presence set, the decoded values of MSS, window scale,
// SACK-permitted, SACK blocks, timestamps and each MPTCP option, and the
// byte offset and length of every option found (Spans), so the translator
// can strip or rewrite options in place. It follows the Linux kernel's
// tcp_parse_options and mptcp_get_options/mptcp_parse_option: an option
// whose length is wrong for its kind or MPTCP subtype is ignored and
// parsing carries on; a length of 0 or 1 or an option running past the end
// of the block stops parsing and sets Options.Malformed. Parse never
// panics.
//
// Each option type has a Put method (or a Put function for the classic TCP
// options) writing it into a caller buffer and returning its length, or 0
// when the buffer is too short. Remove deletes a set of options from a
// block in place and pads it with NOPs to a multiple of 4 bytes; the caller
// fixes the TCP checksum from the one's-complement sums of the block before
// and after.
//
// What it gives up: values are raw wire values (a 4-byte DATA_ACK or DSN is
// returned as is; expand it with header.DSN64.Expand); the MPTCP checks
// that need connection state (checksum negotiated or not, key matches,
// HMACs) belong to the caller; classic options are decoded whatever the
// SYN flag (the kernel ignores MSS and window scale outside SYNs, the
// caller decides); only the last of several options of one type keeps its
// values, as in the kernel; MP_CAPABLE and MP_TCPRST validation needs the
// TCP flags and whether the segment carries data, which Parse takes as
// arguments.
package option
