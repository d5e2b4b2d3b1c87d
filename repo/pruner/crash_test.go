package pruner_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/repo/checker"
	"github.com/hbackup/hbackup/repo/pruner"
)

var errDead = errors.New("process killed")

// dying lets a number of writes (Save, Remove) through and then fails
// every later one, as if the process had been killed at that moment.
type dying struct {
	backend.Backend
	mu   sync.Mutex
	left int
}

func (d *dying) alive() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.left == 0 {
		return false
	}
	d.left--
	return true
}

func (d *dying) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if !d.alive() {
		return errDead
	}
	return d.Backend.Save(ctx, h, rd)
}

func (d *dying) Remove(ctx context.Context, h backend.Handle) error {
	if !d.alive() {
		return errDead
	}
	return d.Backend.Remove(ctx, h)
}

// clone copies every file of a backend into a new memory backend.
func clone(t *testing.T, src backend.Backend) backend.Backend {
	t.Helper()
	ctx := context.Background()
	dst := mem.New()
	if err := dst.Create(ctx); err != nil {
		t.Fatal(err)
	}
	for _, ft := range []backend.FileType{backend.ConfigFile, backend.KeyFile, backend.PackFile, backend.IndexFile, backend.SnapshotFile} {
		copyFile := func(h backend.Handle) error {
			return src.Load(ctx, h, 0, 0, func(rd io.Reader) error {
				data, err := io.ReadAll(rd)
				if err != nil {
					return err
				}
				return dst.Save(ctx, h, backend.NewByteReader(data))
			})
		}
		if ft == backend.ConfigFile {
			if err := copyFile(backend.Handle{Type: ft}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := src.List(ctx, ft, func(fi backend.FileInfo) error {
			return copyFile(backend.Handle{Type: ft, Name: fi.Name})
		}); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestPruneKilledAtEveryWrite kills prune after each of its writes in
// turn. Every kept snapshot must stay complete, check must pass, and a
// rerun must finish the job.
func TestPruneKilledAtEveryWrite(t *testing.T) {
	base := newWorld(t, 3)
	base.forget(t, base.snapshots[0], base.snapshots[1])
	opts := pruner.Options{MaxUnused: mustParse(t, "0")}
	ctx := context.Background()
	for k := 0; ; k++ {
		w := &world{be: clone(t, base.be), files: base.files}
		killed := &dying{Backend: w.be, left: k}
		plan, err := pruner.NewPlan(ctx, (&world{be: killed}).open(t), opts)
		if err != nil {
			t.Fatal(err)
		}
		err = plan.Execute(ctx, nil)
		if err == nil {
			if k < 3 {
				t.Fatalf("prune finished after only %d writes", k)
			}
			t.Logf("prune needs %d writes; killed after each of 0..%d", k, k-1)
			return
		}
		if !errors.Is(err, errDead) {
			t.Fatalf("killed after %d writes: unexpected error %v", k, err)
		}
		w.verify(t)
		w.check(t)
		// The rerun completes and leaves nothing unused.
		prune(t, w, opts)
		w.verify(t)
		res := w.check(t)
		for _, h := range res.Hints {
			if _, ok := h.(*checker.UnusedBlobHint); ok {
				t.Fatalf("killed after %d writes: rerun left unused blob %v", k, h)
			}
			if _, ok := h.(*checker.OrphanedPackHint); ok {
				t.Fatalf("killed after %d writes: rerun left orphaned pack %v", k, h)
			}
		}
	}
}
