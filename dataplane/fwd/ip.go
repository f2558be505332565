package fwd

// IP protocol numbers fwd looks at.
const (
	ipProtoICMP   = 1
	ipProtoICMPv6 = 58
)
