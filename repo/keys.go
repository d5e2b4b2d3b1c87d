package repo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/crypto"
)

// ErrCurrentKey is returned when asked to remove the key that opened the
// repository: doing so could lock the user out.
var ErrCurrentKey = errors.New("refusing to remove key currently used to access repository")

// KeyInfo describes one key file: the fields `key list` shows.
type KeyInfo struct {
	ID       ID
	Username string
	Hostname string
	Created  time.Time
	Current  bool // the key that opened this repository
}

// Keys lists the key files, sorted by creation time (then ID). A key file
// that cannot be parsed is reported as an error, since every key file
// grants access and a damaged one deserves attention.
func (r *Repository) Keys(ctx context.Context) ([]KeyInfo, error) {
	var ids []ID
	if err := r.List(ctx, backend.KeyFile, func(id ID, _ int64) error {
		ids = append(ids, id)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	out := make([]KeyInfo, 0, len(ids))
	for _, id := range ids {
		data, err := r.LoadUnpacked(ctx, backend.KeyFile, id)
		if err != nil {
			return nil, err
		}
		kf, err := crypto.ParseKeyFile(data)
		if err != nil {
			return nil, fmt.Errorf("%w: keys/%v: %v", ErrIntegrity, id, err)
		}
		out = append(out, KeyInfo{ID: id, Username: kf.Username, Hostname: kf.Hostname,
			Created: kf.Created, Current: id == r.keyID})
	}
	slices.SortFunc(out, func(a, b KeyInfo) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return slices.Compare(a.ID[:], b.ID[:])
	})
	return out, nil
}

// RemoveKey deletes the key file id. It refuses the key in use, and the
// caller should hold an exclusive lock, as restic's `key remove` does.
func (r *Repository) RemoveKey(ctx context.Context, id ID) error {
	if id == r.keyID {
		return ErrCurrentKey
	}
	h := backend.Handle{Type: backend.KeyFile, Name: id.String()}
	if _, err := r.be.Stat(ctx, h); err != nil {
		return fmt.Errorf("key %s: %w", id.Str(), err)
	}
	if err := r.be.Remove(ctx, h); err != nil {
		return fmt.Errorf("remove key %s: %w", id.Str(), err)
	}
	return nil
}

// SetCurrentKey records that the repository is now opened by key id, after
// `key passwd` replaced the old key with it.
func (r *Repository) SetCurrentKey(id ID) { r.keyID = id }
