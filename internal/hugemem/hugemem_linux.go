package hugemem

import "syscall"

// madvHugePage is MADV_HUGEPAGE, which package syscall does not name.
const madvHugePage = 14

// roundsToHugePages: mappings here are made in whole huge pages (see Cap).
const roundsToHugePages = true

func mapHuge(n int) ([]byte, bool) {
	b, err := syscall.Mmap(-1, 0, Cap(n), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
	if err != nil {
		return nil, false
	}
	// Only advice: with transparent huge pages disabled, pages are small.
	_ = syscall.Madvise(b, madvHugePage)
	return b[:n], true
}

// unmap relies on syscall.Munmap refusing (EINVAL) slices it did not map,
// so a heap buffer passed by mistake is never unmapped.
func unmap(b []byte) { _ = syscall.Munmap(b) }
