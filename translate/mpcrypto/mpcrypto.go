package mpcrypto

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
)

// Sizes of the values this package produces (RFC 8684 section 3.2).
const (
	// TruncatedHMACLen is the MP_JOIN SYN/ACK HMAC: its leftmost 64
	// bits.
	TruncatedHMACLen = 8
	// JoinHMACLen is the MP_JOIN third-ACK HMAC: its leftmost 160 bits.
	JoinHMACLen = 20
	// HMACLen is the full HMAC-SHA256.
	HMACLen = sha256.Size
	// maxMsgLen bounds an HMAC message: ADD_ADDR with IPv6 and port is
	// 1 + 16 + 2 bytes; MP_JOIN is 8.
	maxMsgLen = 32
	blockSize = sha256.BlockSize
)

// The SHA-extension path pads an HMAC's inner message into its second
// block: it must leave room for the 0x80 byte and the 8-byte length.
const _ = uint(blockSize - 9 - maxMsgLen)

// useSHANI selects the path on the CPU's SHA extensions
// (sha256block_amd64.s) for this package's fixed-size hashes: one
// compression for a key's hash, four for an HMAC, on blocks padded in
// place, instead of crypto/sha256's general digest (its buffering,
// padding and state copies were about a third of a KeyHash and of an
// HMAC). Tests switch it off to check both paths.
var useSHANI = hasSHANI()

// sha256IV is SHA-256's initial hash value (FIPS 180-4 section 5.3.3).
var sha256IV = [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}

// KeyHash returns the token (most significant 32 bits of SHA-256(key)) and
// the IDSN (least significant 64 bits) of an MPTCP key, the key hashed as 8
// bytes big-endian (RFC 8684 section 3.1; Linux mptcp_crypto_key_sha).
func KeyHash(key uint64) (token uint32, idsn uint64) {
	if useSHANI {
		// One block: the key, the 0x80 byte, zeros, the length in bits.
		var b [blockSize]byte
		binary.BigEndian.PutUint64(b[0:], key)
		b[8] = 0x80
		b[blockSize-1] = 64
		h := sha256IV
		blockSHANI(&h, b[:])
		return h[0], uint64(h[6])<<32 | uint64(h[7])
	}
	var in [8]byte
	binary.BigEndian.PutUint64(in[:], key)
	h := sha256.Sum256(in[:])
	return binary.BigEndian.Uint32(h[0:4]), binary.BigEndian.Uint64(h[24:32])
}

// Token returns the token of key (RFC 8684 section 3.1).
func Token(key uint64) uint32 {
	t, _ := KeyHash(key)
	return t
}

// IDSN returns the initial data sequence number of key (RFC 8684 section
// 3.1).
func IDSN(key uint64) uint64 {
	_, i := KeyHash(key)
	return i
}

// Hasher computes HMAC-SHA256 with a 16-byte MPTCP key without allocating.
// The zero value is ready. A Hasher is owned by one core (one goroutine)
// and not safe for concurrent use.
type Hasher struct {
	inner [2 * blockSize]byte // key^ipad || message (|| padding)
	outer [2 * blockSize]byte // key^opad || inner hash (|| padding)
	msg   [maxMsgLen]byte     // message scratch for the helpers
}

// HMAC returns HMAC-SHA256 with key key1||key2 (each 8 bytes big-endian)
// over msg, which must be at most 32 bytes (as in every MPTCP use). It
// panics on a longer message, a programmer error.
func (s *Hasher) HMAC(key1, key2 uint64, msg []byte) [HMACLen]byte {
	if len(msg) > maxMsgLen {
		panic("mpcrypto: HMAC message longer than 32 bytes")
	}
	// RFC 2104: H(K^opad || H(K^ipad || msg)), K zero-padded to a block:
	// K's 16 bytes xored with the pad, then the pad byte alone, written
	// a word at a time (byte loops over both blocks were a tenth of an
	// HMAC).
	const ipad, opad = 0x3636363636363636, 0x5c5c5c5c5c5c5c5c
	binary.BigEndian.PutUint64(s.inner[0:], key1^ipad)
	binary.BigEndian.PutUint64(s.inner[8:], key2^ipad)
	binary.BigEndian.PutUint64(s.outer[0:], key1^opad)
	binary.BigEndian.PutUint64(s.outer[8:], key2^opad)
	for i := 16; i < blockSize; i += 8 {
		binary.LittleEndian.PutUint64(s.inner[i:], ipad)
		binary.LittleEndian.PutUint64(s.outer[i:], opad)
	}
	n := copy(s.inner[blockSize:], msg)
	if !useSHANI {
		ih := sha256.Sum256(s.inner[:blockSize+n])
		copy(s.outer[blockSize:], ih[:])
		return sha256.Sum256(s.outer[:blockSize+sha256.Size])
	}
	// Each hash is two blocks, padded in place (FIPS 180-4 section
	// 5.1.1): the 0x80 byte, zeros, the message length in bits.
	s.inner[blockSize+n] = 0x80
	clear(s.inner[blockSize+n+1 : 2*blockSize-8])
	binary.BigEndian.PutUint64(s.inner[2*blockSize-8:], uint64(blockSize+n)*8)
	h := sha256IV
	blockSHANI(&h, s.inner[:])
	for i, v := range h {
		binary.BigEndian.PutUint32(s.outer[blockSize+4*i:], v)
	}
	s.outer[blockSize+sha256.Size] = 0x80
	clear(s.outer[blockSize+sha256.Size+1 : 2*blockSize-8])
	binary.BigEndian.PutUint64(s.outer[2*blockSize-8:], (blockSize+sha256.Size)*8)
	h = sha256IV
	blockSHANI(&h, s.outer[:])
	var mac [HMACLen]byte
	for i, v := range h {
		binary.BigEndian.PutUint32(mac[4*i:], v)
	}
	return mac
}

// joinMsg writes the MP_JOIN message nonce1||nonce2 (RFC 8684 section
// 3.2: R-A||R-B for host A's HMAC) into the scratch buffer.
func (s *Hasher) joinMsg(nonce1, nonce2 uint32) []byte {
	binary.BigEndian.PutUint32(s.msg[0:], nonce1)
	binary.BigEndian.PutUint32(s.msg[4:], nonce2)
	return s.msg[:8]
}

// JoinTruncatedHMAC returns the leftmost 64 bits of the HMAC a host sends
// in its MP_JOIN SYN/ACK: key = localKey||remoteKey, message =
// localNonce||remoteNonce (RFC 8684 section 3.2: HMAC-B =
// HMAC(Key-B||Key-A, R-B||R-A)). For the proxy answering a client's join:
// localKey key_P, remoteKey key_C, localNonce R_P, remoteNonce R_C.
func (s *Hasher) JoinTruncatedHMAC(localKey, remoteKey uint64, localNonce, remoteNonce uint32) uint64 {
	h := s.HMAC(localKey, remoteKey, s.joinMsg(localNonce, remoteNonce))
	return binary.BigEndian.Uint64(h[:TruncatedHMACLen])
}

// JoinHMAC returns the leftmost 160 bits of the HMAC a host sends in its
// MP_JOIN third ACK: key = localKey||remoteKey, message =
// localNonce||remoteNonce (RFC 8684 section 3.2: HMAC-A =
// HMAC(Key-A||Key-B, R-A||R-B)). To verify a client's third ACK, the proxy
// computes it with the client's view: localKey key_C, remoteKey key_P,
// localNonce R_C, remoteNonce R_P.
func (s *Hasher) JoinHMAC(localKey, remoteKey uint64, localNonce, remoteNonce uint32) [JoinHMACLen]byte {
	h := s.HMAC(localKey, remoteKey, s.joinMsg(localNonce, remoteNonce))
	return [JoinHMACLen]byte(h[:JoinHMACLen])
}

// VerifyJoinHMAC reports, in constant time, whether got is the third-ACK
// HMAC of the given sender (see JoinHMAC for the argument order).
func (s *Hasher) VerifyJoinHMAC(got *[JoinHMACLen]byte, senderKey, receiverKey uint64, senderNonce, receiverNonce uint32) bool {
	want := s.JoinHMAC(senderKey, receiverKey, senderNonce, receiverNonce)
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// VerifyJoinTruncatedHMAC reports, in constant time, whether got is the
// SYN/ACK truncated HMAC of the given sender.
func (s *Hasher) VerifyJoinTruncatedHMAC(got uint64, senderKey, receiverKey uint64, senderNonce, receiverNonce uint32) bool {
	want := s.JoinTruncatedHMAC(senderKey, receiverKey, senderNonce, receiverNonce)
	return subtle.ConstantTimeEq(int32(got>>32), int32(want>>32))&subtle.ConstantTimeEq(int32(got), int32(want)) == 1
}

// AddAddrHMAC returns the truncated HMAC of an ADD_ADDR option: the
// rightmost 64 bits of HMAC(Key=localKey||remoteKey, Msg=address id ||
// address || port), where addr is 4 or 16 bytes and port is 0 when the
// option carries none (RFC 8684 section 3.4.1: "If the port is not
// present ... the HMAC message will nevertheless include two octets of
// value zero"; Linux add_addr_generate_hmac). The sender's key comes
// first.
func (s *Hasher) AddAddrHMAC(localKey, remoteKey uint64, id uint8, addr []byte, port uint16) uint64 {
	if len(addr) != 4 && len(addr) != 16 {
		panic("mpcrypto: ADD_ADDR address must be 4 or 16 bytes")
	}
	s.msg[0] = id
	n := 1 + copy(s.msg[1:], addr)
	binary.BigEndian.PutUint16(s.msg[n:], port)
	h := s.HMAC(localKey, remoteKey, s.msg[:n+2])
	return binary.BigEndian.Uint64(h[HMACLen-8:])
}
