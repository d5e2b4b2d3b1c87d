//go:build !amd64 || purego

package sha256x2

const useSHA = false

func blocks2(a, b *state, pa, pb *byte, n int) { panic("sha256x2: no SHA extensions") }
func blocks1(s *state, p *byte, n int)         { panic("sha256x2: no SHA extensions") }
