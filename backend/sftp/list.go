package sftp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/internal/layout"
)

// listWorkers is how many directories are read at once: listing packs
// reads 256 directories, one round trip each.
const listWorkers = 8

// List calls fn for every file of type t. Pack files are collected from
// all subdirectories of data. Temporary files of unfinished saves are
// skipped. If the connection breaks, List reconnects and goes on without
// calling fn twice for a file.
func (b *Backend) List(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list %v: %w", t, err)
	}
	if t < backend.PackFile || t >= backend.ConfigFile {
		return fmt.Errorf("list %v: not a listable file type", t)
	}
	seen := make(map[string]bool)
	var fnErr error
	err := b.do(ctx, func(c *conn, _ bool) error {
		dirs := []string{b.join(t.String())}
		if t == backend.PackFile {
			var err error
			if dirs, err = subdirs(ctx, c, dirs[0]); err != nil {
				return err
			}
		}
		return listDirs(ctx, c, dirs, func(fi backend.FileInfo) error {
			if seen[fi.Name] {
				return nil
			}
			seen[fi.Name] = true
			if err := fn(fi); err != nil {
				fnErr = err
				return permanent(err)
			}
			return nil
		})
	})
	if fnErr != nil && err == fnErr { //nolint:errorlint // exactly fn's error, unwrapped
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("list %v on %s: %w", t, b.location, err)
	}
	return nil
}

// subdirs returns the directories inside dir; none if dir is missing.
func subdirs(ctx context.Context, c *conn, dir string) ([]string, error) {
	entries, err := c.sftp.ReadDirContext(ctx, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, dir+"/"+e.Name())
		}
	}
	return out, nil
}

// listDirs reads dirs, several at once, and calls emit (from this
// goroutine only) for the finished regular files in them. A missing
// directory lists as empty.
func listDirs(ctx context.Context, c *conn, dirs []string, emit func(backend.FileInfo) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the readers when emit fails
	type result struct {
		dir     string
		entries []fs.FileInfo
		err     error
	}
	work := make(chan string)
	results := make(chan result)
	go func() {
		defer close(work)
		for _, d := range dirs {
			select {
			case work <- d:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range min(listWorkers, len(dirs)) {
		wg.Go(func() {
			for d := range work {
				entries, err := c.sftp.ReadDirContext(ctx, d)
				select {
				case results <- result{d, entries, err}:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	for r := range results {
		if errors.Is(r.err, fs.ErrNotExist) {
			continue
		}
		if r.err != nil {
			return fmt.Errorf("list %s: %w", r.dir, r.err)
		}
		for _, e := range r.entries {
			if !e.Mode().IsRegular() || strings.Contains(e.Name(), tempMarker) || strings.Contains(e.Name(), layout.TempMarker) {
				continue
			}
			if err := emit(backend.FileInfo{Name: e.Name(), Size: e.Size()}); err != nil {
				return err
			}
		}
	}
	return ctx.Err() // set only if the caller's ctx ended the readers early
}
