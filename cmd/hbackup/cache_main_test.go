package main

import (
	"fmt"
	"os"
	"testing"
)

// TestMain gives the in-process CLI runs a cache directory of their own
// (the default is under $XDG_CACHE_HOME), so tests never touch the
// user's cache and start cold.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hbackup-cmd-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
