// Package model is the closed-loop traffic model of flexcp-pktgen: it plays
// both ends of N MPTCP connections (a Linux-like client with M subflows and a
// plain TCP server) against a translate.Engine in the same goroutine, with no
// network in between.
//
// The client does the real RFC 8684 v1 handshake (MP_CAPABLE SYN, third ACK
// with key_C and the key_P it read from the engine's SYN/ACK), opens M-1
// joins (MP_JOIN SYN with token and nonce, checks the engine's truncated
// HMAC, third ACK with the 160-bit HMAC, waits for the fourth ACK), then
// sends data the way Linux does: one mapping per 64 KB on one subflow, 8-byte
// DSN, an 8-byte DATA_ACK on every segment. The server acknowledges
// cumulatively (Config.AckRatio data segments per ACK, piggybacked on its own
// data when it has some) and sends data back. Both ends keep a window of
// Config.Window segments per direction, so the loop is ack-clocked and the
// engine's mapping store stays bounded.
//
// Every packet the engine forwards or emits is checked where it lands: it
// parses, its IPv4 and TCP checksums are valid, the server receives each
// connection's byte stream contiguous and byte-exact, the client receives
// valid DSS mappings (8-byte DSN and DATA_ACK, the segment inside its
// mapping, SSNs contiguous per subflow) and acks that never run ahead of
// what it sent. Payload bytes follow a rolling pattern (byte = data offset +
// a per-stream seed, mod 256), so they are verified by one memcmp against a
// template and never stored; the TCP checksum is verified from the
// template's precomputed one's-complement sums (header.TCP.PayloadSum), so
// the payload is not summed either.
//
// Packets live in a fixed pool of buffers with translate.MinHeadroom bytes
// of headroom, allocated once; queues are rings; the steady state does not
// allocate (TestAllocsSteadyState). The engine sees bursts of 32 packets per
// side (Access: client to server, Core: server to client), and the time
// spent inside ProcessBurst is recorded per side, once per burst.
//
// The same model runs without an engine (Passthrough): packets go from one
// end to the other untranslated and each end reads the other's sequence
// space directly, at the same per-packet cost of building and checking, so
// the model's own cost can be subtracted from a run through the engine.
//
// External drives a translator the model does not own (flexcp-pktgen's
// dataplane mode): TakeOut hands out what the ends send, Receive takes what
// came through, Poll is the delayed-ACK and refill timer, SendJoins
// releases the joins of connections whose third ACK went through, and
// OrderKey lets a harness whose path reorders subflows put segments back
// in stream order, as a receiver's out-of-order queue would; a harness
// whose paths lag each other by more than a batch holds back what Ahead
// reports, waits for stragglers while Waiting, fires delayed ACKs when
// OwesAcks, and releases joins with SendReadyJoins (once the server has the
// third ACK) instead of SendJoins. Config.MTU
// (default 1500) sets the client's MSS and the largest payload.
//
// What it gives up: IPv4 only; no loss, reordering or delay (the links are
// perfect FIFOs: the engine's recovery paths are not exercised, translate's
// own simulation does that); no connection close; payload at most PayloadLimit(MTU)
// bytes (the MTU minus IP, TCP and the DSS the proxy adds); timestamps are not
// sent (the engine strips them from the SYN anyway). A Model is owned by one
// goroutine.
package model
