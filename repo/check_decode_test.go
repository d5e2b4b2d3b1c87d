package repo_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/repo"
)

// storedBlob saves data as a blob and returns its index entry and its
// stored bytes.
func storedBlob(t *testing.T, r *repo.Repository, be backend.Backend, data []byte) (repo.PackedBlob, []byte) {
	t.Helper()
	pb := saveFlushed(t, r, data)
	pack, err := backend.LoadAll(context.Background(), be, backend.Handle{Type: backend.PackFile, Name: pb.PackID.String()})
	if err != nil {
		t.Fatal(err)
	}
	return pb, pack[pb.Offset : pb.Offset+pb.Length]
}

// TestDecodeBlobInPlace: decoding in place gives what DecodeBlob gives,
// for compressed and uncompressed blobs, and rejects the same damage.
func TestDecodeBlobInPlace(t *testing.T) {
	text := bytes.Repeat([]byte("a line of text that compresses well\n"), 3000)
	for _, tc := range []struct {
		name       string
		data       []byte
		compressed bool
	}{
		{"compressed", text, true},
		{"uncompressed", randomBytes(3, 70000), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := mem.New()
			r := initRepo(t, be, 2, repo.Options{})
			defer r.Close()
			pb, sealed := storedBlob(t, r, be, tc.data)
			if got := pb.UncompressedLength != 0; got != tc.compressed {
				t.Fatalf("blob compressed=%v, want %v", got, tc.compressed)
			}
			plain, err := r.DecodeBlobInPlace(pb, bytes.Clone(sealed), make([]byte, 0, len(tc.data)))
			if err != nil || !bytes.Equal(plain, tc.data) {
				t.Fatalf("in place: %v, plaintext equal %v", err, bytes.Equal(plain, tc.data))
			}
			// A plain buffer too small is not an error.
			if plain, err = r.DecodeBlobInPlace(pb, bytes.Clone(sealed), nil); err != nil || !bytes.Equal(plain, tc.data) {
				t.Fatalf("without a plain buffer: %v", err)
			}
			for _, d := range []struct {
				name   string
				pb     repo.PackedBlob
				sealed []byte
			}{
				{"flipped byte", pb, flipped(sealed, 20)},
				{"flipped MAC", pb, flipped(sealed, len(sealed)-1)},
				{"wrong ID", withID(pb, repo.Hash([]byte("other"))), sealed},
				{"too short", pb, sealed[:31]},
				{"empty", pb, nil},
			} {
				if _, err := r.DecodeBlobInPlace(d.pb, bytes.Clone(d.sealed), nil); !errors.Is(err, repo.ErrIntegrity) {
					t.Errorf("%s: %v, want ErrIntegrity", d.name, err)
				}
			}
			if tc.compressed {
				wrong := pb
				wrong.UncompressedLength++
				if _, err := r.DecodeBlobInPlace(wrong, bytes.Clone(sealed), nil); !errors.Is(err, repo.ErrIntegrity) {
					t.Errorf("wrong uncompressed length: %v, want ErrIntegrity", err)
				}
			}
		})
	}
}

func flipped(b []byte, at int) []byte {
	b = bytes.Clone(b)
	b[at] ^= 0x40
	return b
}

func withID(pb repo.PackedBlob, id repo.ID) repo.PackedBlob {
	pb.ID = id
	return pb
}
