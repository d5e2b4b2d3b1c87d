package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/internal/layout"
)

// Stat sends a HEAD request and returns the file's Content-Length.
func (b *Backend) Stat(ctx context.Context, h backend.Handle) (backend.FileInfo, error) {
	if err := backend.CheckHandle(ctx, "stat", h, layout.Check); err != nil {
		return backend.FileInfo{}, err
	}
	req, err := b.newRequest(ctx, http.MethodHead, b.fileURL(h), nil)
	if err != nil {
		return backend.FileInfo{}, fmt.Errorf("stat %v: %w", h, err)
	}
	resp, err := b.do(req)
	if err != nil {
		return backend.FileInfo{}, fmt.Errorf("stat %v: %w", h, err)
	}
	defer discard(resp)
	if resp.StatusCode != http.StatusOK {
		return backend.FileInfo{}, fmt.Errorf("stat %v: %w", h, statusError(resp, "stat"))
	}
	if resp.ContentLength < 0 {
		return backend.FileInfo{}, fmt.Errorf("stat %v: the server sent no Content-Length", h)
	}
	return backend.FileInfo{Name: h.Name, Size: resp.ContentLength}, nil
}

// Remove deletes h. Servers differ on a missing file (rest-server
// answers 200, rclone 404), so a HEAD comes first to report
// backend.ErrNotExist either way. A 403, which append-only servers give
// for everything but locks, is a permanent error wrapping ErrForbidden.
func (b *Backend) Remove(ctx context.Context, h backend.Handle) error {
	if _, err := b.Stat(ctx, h); err != nil {
		return fmt.Errorf("remove %v: %w", h, unwrapOp(err))
	}
	req, err := b.newRequest(ctx, http.MethodDelete, b.fileURL(h), nil)
	if err != nil {
		return fmt.Errorf("remove %v: %w", h, err)
	}
	resp, err := b.do(req)
	if err != nil {
		return fmt.Errorf("remove %v: %w", h, err)
	}
	defer discard(resp)
	switch resp.StatusCode {
	case http.StatusOK, http.StatusNoContent:
		return nil
	case http.StatusForbidden:
		return fmt.Errorf("remove %v: %w", h, statusError(resp,
			"the server refuses to delete this file (is it in append-only mode?)"))
	}
	return fmt.Errorf("remove %v: %w", h, statusError(resp, "delete"))
}

// unwrapOp drops the "stat h: " prefix Stat adds, so Remove's message
// does not name the file twice.
func unwrapOp(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

// fileEntry is one element of a v2 listing.
type fileEntry struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// List fetches the listing of t in one request and then calls fn for
// each file, so fn may use the backend. A v2 answer carries the sizes; a
// v1 answer (any other Content-Type) only names, so each file gets a
// HEAD, and files removed meanwhile are skipped. A 404 lists as empty.
func (b *Backend) List(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list %v: %w", t, err)
	}
	if t < backend.PackFile || t >= backend.ConfigFile {
		return fmt.Errorf("list %v: %w", t, backend.Permanent(errors.New("not a listable file type")))
	}
	entries, v2, err := b.fetchList(ctx, t)
	if err != nil {
		return fmt.Errorf("list %v: %w", t, err)
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("list %v: %w", t, err)
		}
		if !v2 {
			fi, err := b.Stat(ctx, backend.Handle{Type: t, Name: e.Name})
			if errors.Is(err, backend.ErrNotExist) {
				continue
			}
			if err != nil {
				return fmt.Errorf("list %v: %w", t, err)
			}
			e.Size = fi.Size
		}
		if err := fn(backend.FileInfo{Name: e.Name, Size: e.Size}); err != nil {
			return err
		}
	}
	return nil
}

// fetchList gets and decodes the listing, reporting whether it was v2.
func (b *Backend) fetchList(ctx context.Context, t backend.FileType) ([]fileEntry, bool, error) {
	req, err := b.newRequest(ctx, http.MethodGet, b.dirURL(t), nil)
	if err != nil {
		return nil, false, err
	}
	resp, err := b.do(req)
	if err != nil {
		return nil, false, err
	}
	defer discard(resp)
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, true, nil
	default:
		return nil, false, statusError(resp, "list")
	}
	dec := json.NewDecoder(resp.Body)
	if resp.Header.Get("Content-Type") == contentTypeV2 {
		var entries []fileEntry
		if err := dec.Decode(&entries); err != nil {
			return nil, false, fmt.Errorf("decoding the v2 listing: %w", err)
		}
		for _, e := range entries {
			if err := checkListed(t, e.Name); err != nil {
				return nil, false, err
			}
			if e.Size < 0 {
				return nil, false, fmt.Errorf("the listing gives %q a negative size %d", e.Name, e.Size)
			}
		}
		return entries, true, nil
	}
	var names []string
	if err := dec.Decode(&names); err != nil {
		return nil, false, fmt.Errorf("decoding the v1 listing: %w", err)
	}
	entries := make([]fileEntry, len(names))
	for i, name := range names {
		if err := checkListed(t, name); err != nil {
			return nil, false, err
		}
		entries[i].Name = name
	}
	return entries, false, nil
}

// checkListed refuses names that could not be used as handles, so a
// confused server cannot make callers request other paths.
func checkListed(t backend.FileType, name string) error {
	if err := layout.Check(backend.Handle{Type: t, Name: name}); err != nil {
		return backend.Permanent(fmt.Errorf("the listing holds an invalid name: %w", err))
	}
	return nil
}
