//go:build !amd64 || purego

package mpcrypto

// blockSHANI is not available: hasSHANI is false, and every hash goes
// through crypto/sha256.
func blockSHANI(h *[8]uint32, p []byte) { panic("mpcrypto: no SHA extensions") }

func hasSHANI() bool { return false }
