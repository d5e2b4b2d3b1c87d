//go:build amd64 && !purego

package sha256x2

// useSHA is set when the CPU has the SHA extensions and SSSE3 (PSHUFB).
var useSHA = hasSHA()

func hasSHA() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	_, ebx7, _, _ := cpuid(7, 0)
	const ssse3, sha = 1 << 9, 1 << 29
	return ecx1&ssse3 != 0 && ebx7&sha != 0
}

// blocks2 hashes n 64-byte blocks of pa into a and of pb into b,
// interleaved.
//
//go:noescape
func blocks2(a, b *state, pa, pb *byte, n int)

// blocks1 hashes n 64-byte blocks of p into s.
//
//go:noescape
func blocks1(s *state, p *byte, n int)

func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
