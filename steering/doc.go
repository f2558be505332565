// Package steering decides which worker core owns a packet, so that every
// packet of a translated connection - subflow 0 in both directions, the
// server connection that shares its 4-tuple T0, join SYNs and join
// subflows - is handled by one core without locks (DESIGN.md section 5).
// It is pure Go and imports nothing of this project.
//
// Four pieces, from the bottom up:
//
//   - Toeplitz hashing (Toeplitz, Table) with the symmetric key
//     (SymmetricKey: 0x6d5a repeated), under which a TCP 4-tuple and its
//     reverse hash alike, and an RSS redirection table (RETA). Queue i is
//     polled by worker i on every port, so a queue index is a core.
//   - Token ownership (TokenEncoding): key_P is chosen so that the low
//     bits of its token (token & Mask, Mask = next power of two of the
//     worker count, minus one) name the owner core; a KeyPool per core
//     grinds such keys in advance (Refill when idle, Next when a SYN/ACK
//     needs one), and the pools of one KeyExchange hand the keys they
//     grind for other cores to those cores through single-producer/
//     single-consumer rings, so no key is wasted.
//   - Rules as data (Rule, Ruleset): the default symmetric-RSS rule, per
//     core MP_JOIN token rules (one per IP version and MP_JOIN SYN layout,
//     since a NIC matches fixed offsets), and per join subflow 5-tuple
//     rules (both directions, added and removed by id, bounded per core).
//     Package nicconf compiles them to rte_flow; Ruleset.Steer models what
//     a NIC that installed them all would do.
//   - The software classifier (Classifier.Owner), which evaluates the same
//     rules on a packet: a join-subflow entry, else an MP_JOIN SYN's token
//     (TCP options parsed properly, at any offset), else the symmetric
//     hash through the RETA. It is the fallback on ports without flow
//     offload and the oracle in tests: a worker classifies what it
//     receives and hands a packet it does not own to the owner's ring.
//
// Ownership and updates. The Ruleset belongs to the control plane (one
// goroutine). Each worker owns a Classifier built from it at start-up,
// with a copy of the subflow entries, and is the only goroutine that
// touches it. When an owner accepts a join it calls Install on its own
// classifier (false: the owner is at its SubflowsPerCore quota and must
// refuse the join), then puts an Update{Install} into the single-producer
// ring it has toward every other worker and a request to the control
// goroutine (Ruleset.AddSubflow and the NIC rule). Each worker drains its
// incoming rings in its poll loop and calls Apply on its own classifier.
// Removal is the same with Update{Remove}. No lock is taken anywhere: a
// classifier is written only by its worker, and each owner's Updates
// arrive at a worker in order through one ring, so a worker never holds
// more than the quota of one owner, and a table sized for Workers *
// SubflowsPerCore never fills. Until a worker has applied an Update it
// steers the subflow by RSS and the packet takes one more hand-over; the
// owner's own classifier is always current.
//
// What it gives up:
//   - The symmetric key makes the hash a function of the XOR of the input's
//     16-bit words (that is why it is symmetric, and why Table folds it to
//     two lookups): only 16 bits of entropy, and flows whose words XOR
//     alike collide. Enough to spread a RETA of up to 65536 entries, not a
//     hash for anything else.
//   - A non-power-of-two worker count wastes token space: with 24 workers,
//     token owner fields 24-31 are never handed out, and a key costs 32
//     SHA-256 computations on average (2 for N=2) for a pool alone, 1.33
//     (1 for N=2) when every core draws through a KeyExchange. A key
//     whose core's ring is full is dropped (counted), not waited for.
//   - IPv6 extension headers are not walked (the packet is hashed by its
//     addresses), nor are IPv4 fragments reassembled (hashed by addresses,
//     as NICs do): such packets of a connection may land on another core
//     than its unfragmented ones.
//   - Token rules exist only for the join SYN layouts listed in the
//     Ruleset (LinuxJoinLayouts by default); a client with another layout
//     is found by the software classifier after one hand-over.
//   - Subflow rules cover both directions, so a NIC spends two entries per
//     join subflow, one of which (P's own direction) a hairpin, mirror or
//     test alone would use.
package steering
