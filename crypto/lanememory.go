package crypto

import (
	"unsafe"

	"github.com/hbackup/hbackup/internal/hugemem"
)

// laneMemory is scrypt's working memory, outside the Go heap on huge
// pages (see package hugemem: faulting in 32 MiB page by page was a large
// part of the key derivation's time), given back as soon as it is freed.
func laneMemory(words int) ([]uint32, func()) {
	b := hugemem.Alloc(4 * words)
	v := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(b))), words)
	return v, func() { hugemem.Free(b) }
}
