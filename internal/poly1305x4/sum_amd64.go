//go:build amd64 && !purego

package poly1305x4

import "golang.org/x/sys/cpu"

// best is the widest kernel the CPU and the OS support.
var best = func() kernel {
	switch {
	case cpu.X86.HasAVX512F:
		return kernel{order: order8, run: asm(blocks8, 128)}
	case cpu.X86.HasAVX2:
		return kernel{order: order4, run: asm(blocks4, 64)}
	}
	return kernel{}
}()

// asm wraps an assembly kernel, which needs at least one group.
func asm(blocks func(acc *[5][8]uint64, msg *byte, groups int, table *[9][8]uint64), group int) func(*[5][8]uint64, []byte, *[9][8]uint64) {
	return func(acc *[5][8]uint64, msg []byte, table *[9][8]uint64) {
		if len(msg) >= group {
			blocks(acc, &msg[0], len(msg)/group, table)
		}
	}
}

//go:noescape
func blocks4(acc *[5][8]uint64, msg *byte, groups int, table *[9][8]uint64)

//go:noescape
func blocks8(acc *[5][8]uint64, msg *byte, groups int, table *[9][8]uint64)
