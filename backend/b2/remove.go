package b2

import (
	"context"
	"errors"
	"fmt"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/internal/layout"
)

// Remove deletes h. B2 keeps every upload of a name as a version, so
// with HardDelete every version (and hide marker) of the name is
// deleted; otherwise the file is hidden with b2_hide_file and B2 keeps
// its data. A missing or already hidden file is backend.ErrNotExist.
func (b *Backend) Remove(ctx context.Context, h backend.Handle) error {
	if err := backend.CheckHandle(ctx, "remove", h, layout.Check); err != nil {
		return err
	}
	name := b.fileName(h)
	if !b.cfg.HardDelete {
		if _, err := b.Stat(ctx, h); err != nil {
			return fmt.Errorf("remove %v: %w", h, unwrapOp(err))
		}
		in := map[string]string{"bucketId": b.bucketID, "fileName": name}
		if err := b.apiCall(ctx, "b2_hide_file", in, nil); err != nil {
			return fmt.Errorf("remove %v: %w", h, err)
		}
		return nil
	}
	versions, err := b.versions(ctx, name)
	if err != nil {
		return fmt.Errorf("remove %v: %w", h, err)
	}
	// Versions come newest first: the file exists if the newest is an
	// upload rather than a hide marker.
	if len(versions) == 0 || versions[0].Action != "upload" {
		return fmt.Errorf("remove %v: %w", h, backend.ErrNotExist)
	}
	for _, v := range versions {
		in := map[string]string{"fileName": v.FileName, "fileId": v.FileID}
		err := b.apiCall(ctx, "b2_delete_file_version", in, nil)
		if err != nil && !errors.Is(err, backend.ErrNotExist) {
			return fmt.Errorf("remove %v: %w", h, err)
		}
	}
	return nil
}

// versions lists every version of exactly name, newest first, following
// nextFileName/nextFileId across pages.
func (b *Backend) versions(ctx context.Context, name string) ([]fileVersion, error) {
	var out []fileVersion
	startName, startID := name, ""
	for {
		in := map[string]any{"bucketId": b.bucketID, "prefix": name, "startFileName": startName, "maxFileCount": listPageSize}
		if startID != "" {
			in["startFileId"] = startID
		}
		var page listPage
		if err := b.apiCall(ctx, "b2_list_file_versions", in, &page); err != nil {
			return nil, err
		}
		for _, f := range page.Files {
			if f.FileName != name {
				return out, nil // sorted by name: past ours
			}
			if f.Action == "start" {
				continue // an unfinished large file is no version
			}
			out = append(out, f)
		}
		if page.NextFileName == nil || *page.NextFileName != name || page.NextFileID == nil {
			return out, nil
		}
		startName, startID = *page.NextFileName, *page.NextFileID
	}
}
