package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/internal/layout"
)

// List calls fn for every file of type t. Pack files are collected from
// all subdirectories of data. Temporary files of unfinished saves are
// skipped, as are files removed while the listing runs.
func (b *Backend) List(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list %v: %w", t, err)
	}
	if t < backend.PackFile || t >= backend.ConfigFile {
		return fmt.Errorf("list %v: not a listable file type", t)
	}
	dirs := []string{b.join(t.String())}
	if t == backend.PackFile {
		var err error
		if dirs, err = subdirs(dirs[0]); err != nil {
			return fmt.Errorf("list %v: %w", t, err)
		}
	}
	for _, dir := range dirs {
		if err := listDir(ctx, dir, fn); err != nil {
			return err
		}
	}
	return nil
}

// subdirs returns the directories inside dir; none if dir is missing.
func subdirs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

// listDir calls fn for the regular files in dir. fn's error is returned
// unchanged, so callers can recognise their own errors.
func listDir(ctx context.Context, dir string, fn func(backend.FileInfo) error) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.Contains(e.Name(), layout.TempMarker) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("list %s: %w", dir, err)
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since ReadDir
		}
		if err != nil {
			return fmt.Errorf("list %s: %w", dir, err)
		}
		if err := fn(backend.FileInfo{Name: e.Name(), Size: fi.Size()}); err != nil {
			return err
		}
	}
	return nil
}
