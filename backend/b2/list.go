package b2

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/internal/layout"
)

// listPageSize is how many names one listing call asks for; B2 bills a
// transaction per 1000.
const listPageSize = 1000

// fileVersion is a file entry of B2's listings.
type fileVersion struct {
	FileID        string `json:"fileId"`
	FileName      string `json:"fileName"`
	ContentLength int64  `json:"contentLength"`
	Action        string `json:"action"` // "upload", "hide", "start", "folder"
}

// listPage is the answer of b2_list_file_names and b2_list_file_versions.
type listPage struct {
	Files        []fileVersion `json:"files"`
	NextFileName *string       `json:"nextFileName"`
	NextFileID   *string       `json:"nextFileId"`
}

// listNames calls fn for every visible file whose name starts with
// prefix, from start on, page by page. fn returns false to stop.
func (b *Backend) listNames(ctx context.Context, prefix, start string, count int, fn func(fileVersion) (bool, error)) error {
	for {
		in := map[string]any{"bucketId": b.bucketID, "prefix": prefix, "maxFileCount": count}
		if start != "" {
			in["startFileName"] = start
		}
		var page listPage
		if err := b.apiCall(ctx, "b2_list_file_names", in, &page); err != nil {
			return err
		}
		for _, f := range page.Files {
			if f.Action != "upload" {
				continue
			}
			more, err := fn(f)
			if err != nil || !more {
				return err
			}
		}
		if page.NextFileName == nil || *page.NextFileName == "" {
			return nil
		}
		if *page.NextFileName <= start {
			return fmt.Errorf("b2_list_file_names: the listing does not advance past %q", start)
		}
		start = *page.NextFileName
	}
}

// Stat looks h up with a one-name listing (B2 shows the latest visible
// version; a hidden file is missing).
func (b *Backend) Stat(ctx context.Context, h backend.Handle) (backend.FileInfo, error) {
	if err := backend.CheckHandle(ctx, "stat", h, layout.Check); err != nil {
		return backend.FileInfo{}, err
	}
	name := b.fileName(h)
	fi := backend.FileInfo{Size: -1}
	err := b.listNames(ctx, name, name, 1, func(f fileVersion) (bool, error) {
		if f.FileName == name {
			fi = backend.FileInfo{Name: h.Name, Size: f.ContentLength}
		}
		return false, nil
	})
	if err != nil {
		return backend.FileInfo{}, fmt.Errorf("stat %v: %w", h, err)
	}
	if fi.Size < 0 {
		return backend.FileInfo{}, fmt.Errorf("stat %v: %w", h, backend.ErrNotExist)
	}
	return fi, nil
}

// List calls fn for each file of type t, one page of names at a time
// (following nextFileName). Names that do not fit restic's layout, such
// as the .bzEmpty markers of B2's web interface, are skipped.
func (b *Backend) List(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list %v: %w", t, err)
	}
	if t < backend.PackFile || t >= backend.ConfigFile {
		return fmt.Errorf("list %v: %w", t, backend.Permanent(errors.New("not a listable file type")))
	}
	dir := b.prefix + t.String() + "/"
	var cbErr error
	err := b.listNames(ctx, dir, "", listPageSize, func(f fileVersion) (bool, error) {
		rest := strings.TrimPrefix(f.FileName, dir)
		name := rest
		if t == backend.PackFile {
			sub, n, ok := strings.Cut(rest, "/")
			if !ok || sub != subdir(n) {
				return true, nil
			}
			name = n
		}
		if layout.Check(backend.Handle{Type: t, Name: name}) != nil {
			return true, nil
		}
		cbErr = fn(backend.FileInfo{Name: name, Size: f.ContentLength})
		return true, cbErr
	})
	if err != nil && cbErr == nil {
		return fmt.Errorf("list %v: %w", t, err)
	}
	return err
}

// subdir is the data/ subdirectory of a pack name, as layout.Dirname.
func subdir(name string) string {
	if len(name) > 2 {
		return name[:2]
	}
	return name
}
