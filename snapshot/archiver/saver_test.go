package archiver

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/chunk"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/hbackup/hbackup/repo"
)

// overlaps reports whether two lent stretches share bytes.
func overlaps(a, b *ringBuf) bool { return a.off < b.off+b.n && b.off < a.off+a.n }

func TestChunkRingLendsInOrderAndWraps(t *testing.T) {
	r := newChunkRing(100)
	defer r.free()
	get := func(n int) *ringBuf {
		t.Helper()
		b := r.get(n)
		if b == nil {
			t.Fatalf("no room for %d bytes, %d in use", n, r.inUse())
		}
		if len(b.data) != n {
			t.Fatalf("lent %d bytes, want %d", len(b.data), n)
		}
		return b
	}
	if r.get(101) != nil {
		t.Fatal("lent more than the ring")
	}
	a, b := get(40), get(40)
	if a.off != 0 || b.off != 40 || r.inUse() != 80 {
		t.Fatalf("lent at %d and %d, %d in use", a.off, b.off, r.inUse())
	}
	// 20 bytes left at the end, none at the start.
	if r.get(30) != nil {
		t.Fatal("lent beyond the ring")
	}
	// The later buffer coming back first frees nothing...
	r.put(b)
	if r.inUse() != 80 || r.get(30) != nil {
		t.Fatalf("%d in use after an out-of-order put, want 80", r.inUse())
	}
	// ...until the oldest is back too.
	r.put(a)
	if r.inUse() != 0 {
		t.Fatalf("%d in use with nothing lent", r.inUse())
	}
	c := get(70)
	d := get(30)
	if d.off != 70 {
		t.Fatalf("lent the end at %d", d.off)
	}
	r.put(c)
	// Only [0,70) is free, at the start: the next wraps.
	e := get(50)
	if e.off != 0 || overlaps(d, e) {
		t.Fatalf("wrapped to %d", e.off)
	}
	if r.get(21) != nil {
		t.Fatal("lent over the oldest stretch after wrapping")
	}
	f := get(20)
	if f.off != 50 {
		t.Fatalf("lent up to the oldest stretch at %d", f.off)
	}
	for _, x := range []*ringBuf{d, e, f} {
		r.put(x)
	}
	r.put(get(100)) // a ring-sized chunk fits an empty ring
}

// TestChunkRingRandom lends and returns at random and checks that lent
// buffers never overlap and never hold more than the ring.
func TestChunkRingRandom(t *testing.T) {
	const size = 1000
	r := newChunkRing(size)
	defer r.free()
	rng := rand.New(rand.NewPCG(1, 2))
	var lent []*ringBuf
	for i := 0; i < 20000; i++ {
		if len(lent) > 0 && rng.IntN(2) == 0 {
			j := rng.IntN(len(lent))
			r.put(lent[j])
			lent = append(lent[:j], lent[j+1:]...)
			continue
		}
		n := 1 + rng.IntN(size/3)
		b := r.get(n)
		if b == nil {
			continue // no room now
		}
		if len(b.data) != n || b.off+n > size {
			t.Fatalf("lent %d bytes at %d", len(b.data), b.off)
		}
		for _, o := range lent {
			if overlaps(o, b) {
				t.Fatalf("lent [%d,+%d) overlaps [%d,+%d)", b.off, b.n, o.off, o.n)
			}
		}
		lent = append(lent, b)
		if u := r.inUse(); u > size {
			t.Fatalf("%d bytes in use, ring of %d", u, size)
		}
	}
	for _, b := range lent {
		r.put(b)
	}
	if r.inUse() != 0 {
		t.Fatal("bytes still in use with nothing lent")
	}
}

// TestSaverPoolBounds: however many readers submit, no more stores run at
// once than there are slots, no more bytes are copied than the ring
// holds, and every chunk is stored once.
func TestSaverPoolBounds(t *testing.T) {
	const slots, budget = 3, 10 << 10
	var running, most atomic.Int32
	var p *saverPool
	var overBudget atomic.Bool
	var stored sync.Map
	p = newSaverPool(slots, budget, func(_ context.Context, id repo.ID, data []byte) error {
		n := running.Add(1)
		defer running.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		if p.ring.inUse() > budget {
			overBudget.Store(true)
		}
		if repo.Hash(data) != id {
			t.Error("stored data does not match its ID")
		}
		stored.Store(id, true)
		return nil
	})
	ctx := context.Background()
	var readers sync.WaitGroup
	var ids sync.Map
	for r := 0; r < 4; r++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			var f fileSaves
			buf := make([]byte, 4<<10)
			rng := rand.New(rand.NewPCG(uint64(r), 7))
			for i := 0; i < 200; i++ {
				data := buf[:1+rng.IntN(len(buf))]
				for j := range data {
					data[j] = byte(rng.Uint32())
				}
				id := repo.Hash(data)
				ids.Store(id, true)
				if i%5 == 0 {
					if err := p.store(ctx, id, data); err != nil {
						t.Error(err)
					}
					continue
				}
				if err := p.submit(ctx, &f, id, data); err != nil {
					t.Error(err)
				}
			}
			if err := f.wait(); err != nil {
				t.Error(err)
			}
		}()
	}
	readers.Wait()
	p.close()
	if m := most.Load(); m > slots {
		t.Fatalf("%d stores ran at once, %d slots", m, slots)
	}
	if overBudget.Load() {
		t.Fatal("more bytes in flight than the budget")
	}
	ids.Range(func(id, _ any) bool {
		if _, ok := stored.Load(id); !ok {
			t.Fatalf("chunk %v never stored", id.(repo.ID).Str())
		}
		return true
	})
}

func TestSaverPoolReportsTheFirstError(t *testing.T) {
	errBad := errors.New("bad chunk (test)")
	bad := repo.Hash([]byte("bad"))
	p := newSaverPool(2, 1<<20, func(_ context.Context, id repo.ID, _ []byte) error {
		if id == bad {
			return repositoryError{errBad}
		}
		return nil
	})
	defer p.close()
	ctx := context.Background()
	var f fileSaves
	for _, s := range []string{"a", "bad", "b"} {
		if err := p.submit(ctx, &f, repo.Hash([]byte(s)), []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	err := f.wait()
	if !errors.Is(err, errBad) || !errors.As(err, new(repositoryError)) {
		t.Fatalf("wait returned %v, want the repository error", err)
	}
	if f.failed() == nil {
		t.Fatal("failed does not report the error")
	}
	var other fileSaves
	if err := p.submit(ctx, &other, repo.Hash([]byte("c")), []byte("c")); err != nil {
		t.Fatal(err)
	}
	if err := other.wait(); err != nil {
		t.Fatalf("another file's saves report %v", err)
	}
}

// TestSaverPoolCancel: stores that wait on a cancelled context end, the
// readers waiting for a slot return, and every buffer comes back.
func TestSaverPoolCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{}, 100)
	p := newSaverPool(2, 3<<10, func(ctx context.Context, _ repo.ID, _ []byte) error {
		started <- struct{}{}
		<-ctx.Done()
		return repositoryError{ctx.Err()}
	})
	var f fileSaves
	data := make([]byte, 1<<10)
	submitErr := make(chan error, 1)
	go func() {
		for {
			if err := p.submit(ctx, &f, repo.Hash(data), data); err != nil {
				submitErr <- err
				return
			}
		}
	}()
	<-started
	<-started // both slots taken; the reader waits for a slot or room
	cancel()
	if err := <-submitErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("submit returned %v", err)
	}
	if err := f.wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait returned %v", err)
	}
	if n := p.ring.inUse(); n != 0 {
		t.Fatalf("%d bytes still lent", n)
	}
	if err := p.store(ctx, repo.Hash(data), data); !errors.Is(err, context.Canceled) {
		t.Fatalf("store after cancel: %v", err)
	}
	p.close() // returns: no store is left running
}

func newTestArchiver(t *testing.T, save func(a *archiver) func(context.Context, repo.ID, []byte) error) *archiver {
	t.Helper()
	r, err := repo.Init(context.Background(), mem.New(), "pw", repo.InitOptions{KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		t.Fatal(err)
	}
	a := &archiver{repo: r, progress: &Progress{}}
	a.savers = newSaverPool(4, 4*ringPerSaver, save(a))
	t.Cleanup(a.savers.close)
	return a
}

// wantContent chunks a file one chunk after the other.
func wantContent(t *testing.T, a *archiver, path string) []repo.ID {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := chunk.New(f, a.repo.Config().ChunkerPolynomial)
	var ids []repo.ID
	for {
		data, err := c.Next(make([]byte, chunk.MaxSize))
		if errors.Is(err, io.EOF) {
			return ids
		}
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, repo.Hash(data))
	}
}

// TestSaveFileKeepsChunkOrder: the savers finish a file's chunks in any
// order (here the first chunk only after all others), and the content
// list still follows the file. Repeated chunks are stored once.
func TestSaveFileKeepsChunkOrder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	part := testutil.RandomBytes(3, 16<<20) // ~16 chunks (the polynomial is random)
	// The second copy repeats the first one's chunks (after the first
	// cut, which depends on where the data starts).
	if err := os.WriteFile(path, bytes.Repeat(part, 2), 0o644); err != nil {
		t.Fatal(err)
	}
	// The first chunk's store waits until the second and third are done.
	firstDone := make(chan struct{})
	var calls atomic.Int32
	a := newTestArchiver(t, func(a *archiver) func(context.Context, repo.ID, []byte) error {
		return func(ctx context.Context, id repo.ID, data []byte) error {
			n := calls.Add(1)
			if n == 1 {
				<-firstDone
			}
			err := a.storeChunk(ctx, id, data)
			if n == 3 {
				close(firstDone)
			}
			return err
		}
	})
	want := wantContent(t, a, path)
	if len(want) < 6 {
		t.Fatalf("only %d chunks; the test needs more", len(want))
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	got, size, err := a.saveFile(context.Background(), path, fi)
	if err != nil {
		t.Fatal(err)
	}
	if size != uint64(fi.Size()) || a.progress.Bytes.Load() != size {
		t.Fatalf("size %d, progress %d bytes, file %d", size, a.progress.Bytes.Load(), fi.Size())
	}
	if len(got) != len(want) {
		t.Fatalf("%d chunks, want %d", len(got), len(want))
	}
	distinct := map[repo.ID]bool{}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("chunk %d is %v, want %v", i, got[i].Str(), want[i].Str())
		}
		distinct[want[i]] = true
	}
	if n := a.progress.DataBlobs.Load(); n != uint64(len(distinct)) {
		t.Fatalf("%d data blobs counted, %d distinct chunks", n, len(distinct))
	}
	if err := a.repo.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, id := range got {
		if !a.repo.Index().Has(repo.BlobHandle{ID: id, Type: repo.DataBlob}) {
			t.Fatalf("chunk %v not stored", id.Str())
		}
	}
}

// TestSaveFileStopsAtRepositoryError: a chunk the repository fails to
// store fails the whole file with the repository error, after every
// chunk handed to the savers is done.
func TestSaveFileStopsAtRepositoryError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	data := testutil.RandomBytes(5, 20<<20)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	errFull := errors.New("disk full (test)")
	var calls, running atomic.Int32
	a := newTestArchiver(t, func(a *archiver) func(context.Context, repo.ID, []byte) error {
		return func(ctx context.Context, id repo.ID, data []byte) error {
			running.Add(1)
			defer running.Add(-1)
			if calls.Add(1) == 2 {
				return repositoryError{errFull}
			}
			return a.storeChunk(ctx, id, data)
		}
	})
	fi, _ := os.Lstat(path)
	_, _, err := a.saveFile(context.Background(), path, fi)
	if !errors.Is(err, errFull) || !errors.As(err, new(repositoryError)) {
		t.Fatalf("saveFile returned %v, want the repository error", err)
	}
	if n := running.Load(); n != 0 {
		t.Fatalf("%d stores still running after saveFile returned", n)
	}
	if n := a.savers.ring.inUse(); n != 0 {
		t.Fatalf("%d bytes still lent", n)
	}
}

// TestHandOverOnlyToIdleSlots: chunks go to the savers only while fewer
// files are read than stores may run, and never a file's last chunk.
func TestHandOverOnlyToIdleSlots(t *testing.T) {
	a := &archiver{savers: newSaverPool(2, ringPerSaver, nil)}
	a.reading.Store(1)
	if !a.handOver(1<<20, 10<<20) {
		t.Fatal("one file read, two slots: the chunk is not handed over")
	}
	if a.handOver(10<<20, 10<<20) {
		t.Fatal("the last chunk is handed over")
	}
	a.reading.Store(2)
	if a.handOver(1<<20, 10<<20) {
		t.Fatal("as many files read as slots: the chunk is handed over")
	}
}
