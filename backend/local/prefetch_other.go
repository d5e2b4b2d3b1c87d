//go:build !linux

package local

import "os"

// prefetch is a no-op where the kernel takes no readahead hints here.
func prefetch(*os.File, int64, int64) {}
