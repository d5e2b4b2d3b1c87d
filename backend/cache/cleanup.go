package cache

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// MaxAge is how long a repository's cache is kept unused before
// RemoveOld deletes it, as restic's --cleanup-cache.
const MaxAge = 30 * 24 * time.Hour

// OldDirs returns the caches under base (empty: DefaultDir) that were
// not used for longer than maxAge (0: MaxAge). New marks a cache as used.
func OldDirs(base string, maxAge time.Duration) ([]string, error) {
	if base == "" {
		var err error
		if base, err = DefaultDir(); err != nil {
			return nil, err
		}
	}
	if maxAge <= 0 {
		maxAge = MaxAge
	}
	entries, err := os.ReadDir(base)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	var old []string
	for _, e := range entries {
		if !e.IsDir() || !validID(e.Name()) {
			continue // only repository caches, never anything else
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		if time.Since(fi.ModTime()) > maxAge {
			old = append(old, filepath.Join(base, e.Name()))
		}
	}
	return old, nil
}

// RemoveOld deletes the caches OldDirs finds and returns their paths.
func RemoveOld(base string, maxAge time.Duration) ([]string, error) {
	old, err := OldDirs(base, maxAge)
	if err != nil {
		return nil, err
	}
	for i, d := range old {
		if err := os.RemoveAll(d); err != nil {
			return old[:i], fmt.Errorf("cache: remove old cache: %w", err)
		}
	}
	return old, nil
}
