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

// TestOpenBlob: OpenBlob gives what DecodeBlob gives, for compressed and
// uncompressed blobs, leaves the stored bytes as they were, and rejects
// the same damage, a wrong ID through CheckBlobSum.
func TestOpenBlob(t *testing.T) {
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
			stored := bytes.Clone(sealed)
			plain, err := r.OpenBlob(pb, sealed, make([]byte, 0, len(sealed)), make([]byte, 0, len(tc.data)))
			if err != nil || !bytes.Equal(plain, tc.data) {
				t.Fatalf("%v, plaintext equal %v", err, bytes.Equal(plain, tc.data))
			}
			if !bytes.Equal(sealed, stored) {
				t.Fatal("the stored bytes changed")
			}
			if err := repo.CheckBlobSum(pb, repo.Hash(plain)); err != nil {
				t.Fatal(err)
			}
			// Buffers too small are not an error.
			if plain, err = r.OpenBlob(pb, sealed, nil, nil); err != nil || !bytes.Equal(plain, tc.data) {
				t.Fatalf("without buffers: %v", err)
			}
			for _, d := range []struct {
				name   string
				sealed []byte
			}{
				{"flipped byte", flipped(sealed, 20)},
				{"flipped MAC", flipped(sealed, len(sealed)-1)},
				{"too short", sealed[:31]},
				{"empty", nil},
			} {
				if _, err := r.OpenBlob(pb, d.sealed, nil, nil); !errors.Is(err, repo.ErrIntegrity) {
					t.Errorf("%s: %v, want ErrIntegrity", d.name, err)
				}
			}
			if err := repo.CheckBlobSum(withID(pb, repo.Hash([]byte("other"))), repo.Hash(plain)); !errors.Is(err, repo.ErrIntegrity) {
				t.Errorf("wrong ID: %v, want ErrIntegrity", err)
			}
			if tc.compressed {
				wrong := pb
				wrong.UncompressedLength++
				if _, err := r.OpenBlob(wrong, sealed, nil, nil); !errors.Is(err, repo.ErrIntegrity) {
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
