package translate

import "github.com/flexcp/flexcp/translate/mpcrypto"

// keyToken returns the token of an MPTCP key (RFC 8684 section 3.2).
func keyToken(key uint64) uint32 { return mpcrypto.Token(key) }

// keyIDSN returns the initial data sequence number of an MPTCP key (RFC
// 8684 section 3.1).
func keyIDSN(key uint64) uint64 { return mpcrypto.IDSN(key) }
