//go:build !purego

package mpcrypto

// blockSHANI runs the SHA-256 compression function over each 64-byte
// block of p (len(p) a multiple of 64) into h, on the SHA extensions
// (sha256block_amd64.s). Only when hasSHANI.
//
//go:noescape
func blockSHANI(h *[8]uint32, p []byte)

// cpuid executes CPUID with EAX=eaxArg, ECX=ecxArg.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

// hasSHANI reports whether the CPU has the SHA extensions and the SSSE3
// and SSE4.1 instructions blockSHANI also uses (CPUID leaf 7 EBX bit 29,
// leaf 1 ECX bits 9 and 19).
func hasSHANI() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, c1, _ := cpuid(1, 0)
	_, b7, _, _ := cpuid(7, 0)
	return c1&(1<<9) != 0 && c1&(1<<19) != 0 && b7&(1<<29) != 0
}
