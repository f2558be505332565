//go:build !linux

package translate

// threadCPU returns -1: the per-thread CPU clock is read only on Linux.
func threadCPU() int64 { return -1 }
