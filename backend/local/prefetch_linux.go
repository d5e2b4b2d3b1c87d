package local

import (
	"os"

	"golang.org/x/sys/unix"
)

// prefetchMin is the smallest range Load asks the kernel to read ahead:
// pack downloads, not the small reads of headers, indexes and trees.
const prefetchMin = 1 << 20

// prefetchChunk is how much one fadvise call asks for: Linux reads at
// most its readahead window per call, so a long range takes several.
const prefetchChunk = 2 << 20

// prefetch asks the kernel to start reading f's range [off, off+n) into
// the page cache now, so that pages not cached (a cold cache, or pages
// reclaimed since) are read while the caller decrypts what it already
// has, instead of one wait per missing page. Errors only lose the hint.
func prefetch(f *os.File, off, n int64) {
	if n < prefetchMin {
		return
	}
	for end := off + n; off < end; off += prefetchChunk {
		if unix.Fadvise(int(f.Fd()), off, min(prefetchChunk, end-off), unix.FADV_WILLNEED) != nil {
			return
		}
	}
}
