package backendtest

import (
	"errors"
	"testing"

	"github.com/hbackup/hbackup/backend"
)

// testList: each type lists exactly the files saved under it, with their
// sizes; config shows up in no listing.
func (s suite) testList(t *testing.T) {
	be := s.open(t)
	save(t, be, backend.Handle{Type: backend.ConfigFile}, randomBytes(50))
	want := make(map[backend.FileType]map[string]int64)
	for i, ft := range backend.AllTypes {
		want[ft] = make(map[string]int64)
		for j := range 3 + i {
			h := newHandle(ft)
			size := 10*i + j
			save(t, be, h, randomBytes(size))
			want[ft][h.Name] = int64(size)
		}
	}
	for _, ft := range backend.AllTypes {
		wantList(t, be, ft, want[ft])
	}
}

// testListEmpty: types nothing was saved under list nothing.
func (s suite) testListEmpty(t *testing.T) {
	be := s.open(t)
	save(t, be, backend.Handle{Type: backend.ConfigFile}, randomBytes(50))
	packs := make(map[string]int64)
	for range 2 {
		h := newHandle(backend.PackFile)
		save(t, be, h, randomBytes(100))
		packs[h.Name] = 100
	}
	snap := newHandle(backend.SnapshotFile)
	save(t, be, snap, randomBytes(7))

	wantList(t, be, backend.PackFile, packs)
	wantList(t, be, backend.SnapshotFile, map[string]int64{snap.Name: 7})
	for _, ft := range []backend.FileType{backend.KeyFile, backend.LockFile, backend.IndexFile} {
		wantList(t, be, ft, nil)
	}
}

// testListCallbackError: an error from fn stops the listing and is
// returned.
func (s suite) testListCallbackError(t *testing.T) {
	be := s.open(t)
	for range 3 {
		save(t, be, newHandle(backend.IndexFile), randomBytes(10))
	}
	errFn := errors.New("error from fn")
	calls := 0
	err := be.List(t.Context(), backend.IndexFile, func(backend.FileInfo) error {
		calls++
		return errFn
	})
	if !errors.Is(err, errFn) {
		t.Errorf("List with a failing fn returned %v, want fn's error", err)
	}
	if calls != 1 {
		t.Errorf("List called the failing fn %d times, want 1", calls)
	}
}

// testRemove: a removed file is gone from Stat, Load and List, the other
// files stay, and removing it again reports ErrNotExist. Once config is
// removed, Create works again.
func (s suite) testRemove(t *testing.T) {
	be := s.open(t)
	ctx := t.Context()
	for _, ft := range backend.AllTypes {
		var hs []backend.Handle
		for range 3 {
			h := newHandle(ft)
			save(t, be, h, randomBytes(20))
			hs = append(hs, h)
		}
		if err := be.Remove(ctx, hs[1]); err != nil {
			t.Fatalf("Remove(%v): %v", hs[1], err)
		}
		wantList(t, be, ft, map[string]int64{hs[0].Name: 20, hs[2].Name: 20})
		wantAbsent(t, be, hs[1])
		_, err := loadRange(t, be, hs[1], 0, 0)
		wantNotExist(t, "Load of a removed file", err)
		wantNotExist(t, "second Remove", be.Remove(ctx, hs[1]))
	}

	config := backend.Handle{Type: backend.ConfigFile}
	save(t, be, config, randomBytes(20))
	if err := be.Remove(ctx, config); err != nil {
		t.Fatalf("Remove(config): %v", err)
	}
	wantAbsent(t, be, config)
	if err := be.Create(ctx); err != nil {
		t.Errorf("Create after removing config: %v", err)
	}
}
