package repo

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/internal/hugemem"
)

// Version 2 unpacked files start with this byte before the zstd frame.
const encodingZstd = 2

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// fileBuffer returns a buffer of length n for a file about to be stored,
// and the function that gives it back: outside the Go heap from
// offHeapMin on (index files: 3 MB for 20,000 blobs, written at the end
// of a backup, when the page faults and the collection a heap buffer
// brings have nothing to hide behind), on the heap below that.
func fileBuffer(n int) ([]byte, func()) {
	if n < offHeapMin {
		return make([]byte, n), func() {}
	}
	b := hugemem.Alloc(n)
	return b, func() { hugemem.Free(b) }
}

// SaveUnpacked encrypts (and in version 2, compresses) data and stores it
// under its hash. Use it for snapshots, index and lock files.
func (r *Repository) SaveUnpacked(ctx context.Context, t backend.FileType, data []byte) (ID, error) {
	if t == backend.PackFile || t == backend.ConfigFile || t == backend.KeyFile {
		return ID{}, fmt.Errorf("SaveUnpacked: %v files are not stored this way", t)
	}
	// One buffer from IV to MAC: the file is compressed (or copied) in
	// after room for the IV and sealed in place.
	mem, free := fileBuffer(crypto.IVSize + 1 + compressBound(len(data)) + crypto.MACSize)
	defer free()
	buf := mem[:crypto.IVSize]
	if r.cfg.Version >= 2 {
		buf = r.encMeta.encode(data, append(buf, encodingZstd))
	} else {
		buf = append(buf, data...)
	}
	sealed := r.key.SealInPlace(buf)
	id := Hash(sealed)
	h := backend.Handle{Type: t, Name: id.String()}
	if err := r.be.Save(ctx, h, backend.NewByteReader(sealed)); err != nil {
		return ID{}, fmt.Errorf("save %v: %w", h, err)
	}
	return id, nil
}

// LoadUnpacked loads, verifies, decrypts and decompresses a snapshot,
// index or lock file (or a key file, which is returned as stored).
func (r *Repository) LoadUnpacked(ctx context.Context, t backend.FileType, id ID) ([]byte, error) {
	h := backend.Handle{Type: t, Name: id.String()}
	data, err := backend.LoadAll(ctx, r.be, h)
	if err != nil {
		return nil, fmt.Errorf("load %v: %w", h, err)
	}
	if Hash(data) != id {
		return nil, fmt.Errorf("%w: %v: content does not match its name (file damaged or truncated)", ErrIntegrity, h)
	}
	if t == backend.KeyFile {
		return data, nil
	}
	plain, err := r.key.Open(nil, data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v: %v", ErrIntegrity, h, err)
	}
	out, err := r.decodeUnpacked(plain)
	if err != nil {
		return nil, fmt.Errorf("%w: %v: %v", ErrIntegrity, h, err)
	}
	return out, nil
}

func (r *Repository) decodeUnpacked(plain []byte) ([]byte, error) {
	if r.cfg.Version < 2 || len(plain) == 0 || plain[0] == '{' || plain[0] == '[' {
		return plain, nil
	}
	if plain[0] != encodingZstd {
		return nil, fmt.Errorf("not supported encoding format %d", plain[0])
	}
	return r.dec.decode(plain[1:], nil)
}

// List calls fn for every file of type t whose name is a valid ID,
// skipping anything else (temporary files, foreign files).
func (r *Repository) List(ctx context.Context, t backend.FileType, fn func(id ID, size int64) error) error {
	return r.be.List(ctx, t, func(fi backend.FileInfo) error {
		id, err := ParseID(fi.Name)
		if err != nil {
			return nil
		}
		return fn(id, fi.Size)
	})
}

// FindID resolves a full ID or a unique prefix of a file of type t.
func (r *Repository) FindID(ctx context.Context, t backend.FileType, prefix string) (ID, error) {
	prefix = strings.ToLower(prefix)
	if id, err := ParseID(prefix); err == nil {
		return id, nil
	}
	var found []ID
	err := r.List(ctx, t, func(id ID, _ int64) error {
		if strings.HasPrefix(id.String(), prefix) {
			found = append(found, id)
		}
		return nil
	})
	if err != nil {
		return ID{}, err
	}
	switch len(found) {
	case 0:
		return ID{}, fmt.Errorf("%v %q: %w", t, prefix, ErrNotFound)
	case 1:
		return found[0], nil
	}
	return ID{}, fmt.Errorf("%v %q matches %d files: %w", t, prefix, len(found), ErrAmbiguous)
}
