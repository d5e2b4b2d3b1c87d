package backendtest

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/hbackup/hbackup/backend"
)

// testCreate: Create works on a new backend, may be repeated while there
// is no config, and refuses to run over an existing repository.
func (s suite) testCreate(t *testing.T) {
	be := s.fresh(t)
	ctx := t.Context()
	if err := be.Create(ctx); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := be.Create(ctx); err != nil {
		t.Fatalf("Create again without a config: %v", err)
	}
	config := randomBytes(200)
	save(t, be, backend.Handle{Type: backend.ConfigFile}, config)
	if err := be.Create(ctx); !errors.Is(err, backend.ErrAlreadyExists) {
		t.Errorf("Create over an existing config: got %v, want backend.ErrAlreadyExists", err)
	}
	if got := loadAll(t, be, backend.Handle{Type: backend.ConfigFile}); !bytes.Equal(got, config) {
		t.Errorf("config changed by a refused Create")
	}
}

// testSaveLoad round-trips a file of every type, including an empty one.
func (s suite) testSaveLoad(t *testing.T) {
	be := s.open(t)
	for i, ft := range allTypes() {
		for _, size := range []int{0, 1, 1000 + 997*i, 300_000} {
			h := newHandle(ft)
			data := randomBytes(size)
			save(t, be, h, data)
			if got := loadAll(t, be, h); !bytes.Equal(got, data) {
				t.Errorf("Load(%v) of a %d-byte file returned %d different bytes", h, size, len(got))
			}
		}
	}
}

// testStat checks sizes and names for every type.
func (s suite) testStat(t *testing.T) {
	be := s.open(t)
	for i, ft := range allTypes() {
		for _, size := range []int{0, 17 + 1000*i} {
			h := newHandle(ft)
			save(t, be, h, randomBytes(size))
			fi, err := be.Stat(t.Context(), h)
			if err != nil {
				t.Fatalf("Stat(%v): %v", h, err)
			}
			if fi.Size != int64(size) {
				t.Errorf("Stat(%v).Size = %d, want %d", h, fi.Size, size)
			}
			if ft != backend.ConfigFile && fi.Name != h.Name {
				t.Errorf("Stat(%v).Name = %q, want %q", h, fi.Name, h.Name)
			}
		}
	}
}

// testMissing: Stat, Load and Remove of a missing file report
// backend.ErrNotExist, and Load does not call fn.
func (s suite) testMissing(t *testing.T) {
	be := s.open(t)
	ctx := t.Context()
	for _, ft := range backend.AllTypes {
		// Another file of the type, so its directory exists.
		save(t, be, newHandle(ft), randomBytes(10))
	}
	for _, ft := range allTypes() {
		h := newHandle(ft)
		_, err := be.Stat(ctx, h)
		wantNotExist(t, "Stat("+h.String()+")", err)
		called := false
		err = be.Load(ctx, h, 0, 0, func(io.Reader) error { called = true; return nil })
		wantNotExist(t, "Load("+h.String()+")", err)
		if called {
			t.Errorf("Load(%v) of a missing file called fn", h)
		}
		wantNotExist(t, "Remove("+h.String()+")", be.Remove(ctx, h))
	}
}

// testInvalidHandle: handles without a valid type or name are refused
// with a permanent error (a retry cannot fix them) and store nothing.
func (s suite) testInvalidHandle(t *testing.T) {
	be := s.open(t)
	ctx := t.Context()
	refused := func(call string, h backend.Handle, err error) {
		t.Helper()
		switch {
		case err == nil:
			t.Errorf("%s(%#v) succeeded", call, h)
		case !backend.IsPermanent(err):
			t.Errorf("%s(%#v): %v is not permanent, so a retry would try again", call, h, err)
		}
	}
	for _, h := range []backend.Handle{
		{},
		{Type: backend.PackFile},
		{Type: backend.ConfigFile + 1, Name: randomName()},
	} {
		refused("Save", h, be.Save(ctx, h, backend.NewByteReader([]byte("x"))))
		_, err := be.Stat(ctx, h)
		refused("Stat", h, err)
		_, err = loadRange(t, be, h, 0, 0)
		refused("Load", h, err)
		refused("Remove", h, be.Remove(ctx, h))
	}
	for _, ft := range backend.AllTypes {
		wantList(t, be, ft, nil)
	}
}

// testReplace: saving over an existing file replaces it whole, on
// backends that claim atomic replacement.
func (s suite) testReplace(t *testing.T) {
	be := s.open(t)
	if !be.Properties().HasAtomicReplace {
		t.Skip("backend does not claim HasAtomicReplace")
	}
	for _, ft := range []backend.FileType{backend.ConfigFile, backend.PackFile, backend.IndexFile} {
		h := newHandle(ft)
		save(t, be, h, randomBytes(1000))
		second := randomBytes(300)
		save(t, be, h, second)
		if got := loadAll(t, be, h); !bytes.Equal(got, second) {
			t.Errorf("Load(%v) after replacing: got %d bytes, not the second version", h, len(got))
		}
		if fi, err := be.Stat(t.Context(), h); err != nil || fi.Size != 300 {
			t.Errorf("Stat(%v) after replacing = %v, %v; want size 300", h, fi, err)
		}
		if ft != backend.ConfigFile {
			wantList(t, be, ft, map[string]int64{h.Name: 300})
		}
	}
}
