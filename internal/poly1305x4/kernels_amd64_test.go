//go:build amd64 && !purego

package poly1305x4

import "golang.org/x/sys/cpu"

// asmKernels are the assembly kernels this CPU can run.
func asmKernels() map[string]kernel {
	m := map[string]kernel{}
	if cpu.X86.HasAVX2 {
		m["avx2"] = kernel{order: order4, kind: avx2Kernel}
	}
	if cpu.X86.HasAVX512F {
		m["avx512"] = kernel{order: order8, kind: avx512Kernel}
	}
	return m
}
