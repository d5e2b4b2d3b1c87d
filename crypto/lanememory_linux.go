package crypto

import (
	"fmt"
	"syscall"
	"unsafe"
)

// laneMemory maps scrypt's working memory outside the Go heap, asking
// for transparent huge pages, and unmaps it when freed. Faulting in 32 MiB
// page by page is a large part of the key derivation's time in virtual
// machines (measured: 64 MiB in 4 KiB pages 200 ms, in 2 MiB pages 4 ms),
// and unmapping gives the memory back at once instead of leaving it to the
// garbage collector.
func laneMemory(words int) ([]uint32, func(), error) {
	b, err := syscall.Mmap(-1, 0, 4*words, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
	if err != nil {
		return nil, nil, fmt.Errorf("scrypt: memory for key derivation: %w", err)
	}
	// Only advice: with THP disabled the pages are simply small.
	_ = syscall.Madvise(b, madvHugePage)
	v := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(b))), words)
	return v, func() { _ = syscall.Munmap(b) }, nil
}

const madvHugePage = 14 // MADV_HUGEPAGE, missing from package syscall
