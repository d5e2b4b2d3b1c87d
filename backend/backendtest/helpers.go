package backendtest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/hbackup/hbackup/backend"
)

// allTypes is every file type, including the unlistable config.
func allTypes() []backend.FileType {
	return append(slices.Clone(backend.AllTypes), backend.ConfigFile)
}

// randomName returns a name shaped like a restic ID: 64 hex digits.
func randomName() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails, see crypto/rand.Read
	return hex.EncodeToString(b[:])
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// newHandle returns a handle of type ft with a fresh random name.
func newHandle(ft backend.FileType) backend.Handle {
	if ft == backend.ConfigFile {
		return backend.Handle{Type: ft}
	}
	return backend.Handle{Type: ft, Name: randomName()}
}

func save(t *testing.T, be backend.Backend, h backend.Handle, data []byte) {
	t.Helper()
	if err := be.Save(t.Context(), h, backend.NewByteReader(data)); err != nil {
		t.Fatalf("Save(%v): %v", h, err)
	}
}

func loadAll(t *testing.T, be backend.Backend, h backend.Handle) []byte {
	t.Helper()
	data, err := backend.LoadAll(t.Context(), be, h)
	if err != nil {
		t.Fatalf("Load(%v): %v", h, err)
	}
	return data
}

// loadRange loads length bytes from offset, reading all the reader gives.
func loadRange(t *testing.T, be backend.Backend, h backend.Handle, length int, offset int64) ([]byte, error) {
	t.Helper()
	var out []byte
	err := be.Load(t.Context(), h, length, offset, func(rd io.Reader) error {
		var err error
		out, err = io.ReadAll(rd)
		return err
	})
	return out, err
}

// list returns name → size for every file of type ft, failing the test
// on an error or a name listed twice.
func list(t *testing.T, be backend.Backend, ft backend.FileType) map[string]int64 {
	t.Helper()
	got := make(map[string]int64)
	err := be.List(t.Context(), ft, func(fi backend.FileInfo) error {
		if _, dup := got[fi.Name]; dup {
			t.Errorf("List(%v) returned %q twice", ft, fi.Name)
		}
		got[fi.Name] = fi.Size
		return nil
	})
	if err != nil {
		t.Fatalf("List(%v): %v", ft, err)
	}
	return got
}

// wantList checks that ft lists exactly want.
func wantList(t *testing.T, be backend.Backend, ft backend.FileType, want map[string]int64) {
	t.Helper()
	got := list(t, be, ft)
	for name, size := range want {
		gotSize, ok := got[name]
		switch {
		case !ok:
			t.Errorf("List(%v) lacks %q", ft, name)
		case gotSize != size:
			t.Errorf("List(%v): %q has size %d, want %d", ft, name, gotSize, size)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("List(%v) returned unexpected %q", ft, name)
		}
	}
}

func wantNotExist(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("%s: got error %v, want one matching backend.ErrNotExist", what, err)
	}
}

// wantAbsent checks that h cannot be seen by Stat nor List.
func wantAbsent(t *testing.T, be backend.Backend, h backend.Handle) {
	t.Helper()
	_, err := be.Stat(t.Context(), h)
	wantNotExist(t, "Stat("+h.String()+")", err)
	if h.Type == backend.ConfigFile {
		return
	}
	if _, ok := list(t, be, h.Type)[h.Name]; ok {
		t.Errorf("List(%v) shows %q", h.Type, h.Name)
	}
}
