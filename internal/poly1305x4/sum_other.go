//go:build !amd64 || purego

package poly1305x4

// best is no kernel: Sum uses x/crypto.
var best kernel

func blocks4(acc *[5][8]uint64, msg *byte, groups int, table *[9][8]uint64) {
	panic("poly1305x4: no AVX2 code on this platform")
}

func blocks8(acc *[5][8]uint64, msg *byte, groups int, table *[9][8]uint64) {
	panic("poly1305x4: no AVX-512 code on this platform")
}
