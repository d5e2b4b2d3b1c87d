package backendtest

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/hbackup/hbackup/backend"
)

// testConcurrent saves, stats and loads from several goroutines while
// another one lists. Nobody may ever see a partly written file: a listed
// or stat'ed file always has its final size. Run it with -race.
func (s suite) testConcurrent(t *testing.T) {
	const workers, perWorker = 8, 20
	be := s.open(t)
	ctx := t.Context()
	types := []backend.FileType{backend.PackFile, backend.IndexFile, backend.SnapshotFile}

	// Everything is generated up front; goroutines only read these.
	handles := make([][]backend.Handle, workers)
	contents := make(map[backend.Handle][]byte)
	sizes := make(map[string]int64)
	for w := range workers {
		for i := range perWorker {
			h := newHandle(types[(w+i)%len(types)])
			data := randomBytes(rand.IntN(16 << 10))
			handles[w] = append(handles[w], h)
			contents[h] = data
			sizes[h.Name] = int64(len(data))
		}
	}

	// checkSeen is the atomicity check for what a lister or Stat sees.
	checkSeen := func(what, name string, size int64) {
		want, ok := sizes[name]
		switch {
		case !ok:
			t.Errorf("%s: unexpected file %q", what, name)
		case size != want:
			t.Errorf("%s: %q has size %d while being written, final size %d", what, name, size, want)
		}
	}

	var wg sync.WaitGroup
	done := make(chan struct{})
	var listers sync.WaitGroup
	listers.Go(func() {
		for {
			for _, ft := range types {
				err := be.List(ctx, ft, func(fi backend.FileInfo) error {
					checkSeen("concurrent List", fi.Name, fi.Size)
					return nil
				})
				if err != nil {
					t.Errorf("concurrent List(%v): %v", ft, err)
					return
				}
			}
			select {
			case <-done:
				return
			default:
			}
		}
	})
	for w := range workers {
		wg.Go(func() {
			for i, h := range handles[w] {
				if err := be.Save(ctx, h, backend.NewByteReader(contents[h])); err != nil {
					t.Errorf("Save(%v): %v", h, err)
					return
				}
				// A neighbour's file may or may not exist yet, but
				// is never partial.
				other := handles[(w+1)%workers][i]
				fi, err := be.Stat(ctx, other)
				switch {
				case err == nil:
					checkSeen("concurrent Stat", other.Name, fi.Size)
				case !errors.Is(err, backend.ErrNotExist):
					t.Errorf("Stat(%v): %v", other, err)
				}
				got, err := backend.LoadAll(ctx, be, h)
				if err != nil {
					t.Errorf("Load(%v): %v", h, err)
					return
				}
				if !bytes.Equal(got, contents[h]) {
					t.Errorf("Load(%v) returned %d bytes, not what was saved", h, len(got))
				}
			}
		})
	}
	wg.Wait()
	close(done)
	listers.Wait()

	for _, ft := range types {
		want := make(map[string]int64)
		for h := range contents {
			if h.Type == ft {
				want[h.Name] = int64(len(contents[h]))
			}
		}
		wantList(t, be, ft, want)
	}
}
