//go:build amd64 && !purego

package poly1305x4

import "golang.org/x/sys/cpu"

// best is the widest kernel the CPU and the OS support.
var best = func() kernel {
	switch {
	case cpu.X86.HasAVX512F:
		return kernel{order: order8, kind: avx512Kernel}
	case cpu.X86.HasAVX2:
		return kernel{order: order4, kind: avx2Kernel}
	}
	return kernel{}
}()

// blocks4 is blocksGeneric for 4 lanes with AVX2 (sum_amd64.s).
//
//go:noescape
func blocks4(acc *[5][8]uint64, msg *byte, groups int, table *[9][8]uint64)

// blocks8 is blocksGeneric for 8 lanes with AVX-512 (sum_amd64.s).
//
//go:noescape
func blocks8(acc *[5][8]uint64, msg *byte, groups int, table *[9][8]uint64)
