package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"unsafe"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/crypto"
)

// directFile is a pending pack file in memory that takes direct writes:
// it checks their alignment, counts them, and can refuse them or fail.
type directFile struct {
	mu       sync.Mutex
	data     []byte
	direct   atomic.Int64 // direct writes taken
	refuse   bool         // WriteDirect: errors.ErrUnsupported
	fail     error        // WriteDirect fails with it
	badAlign atomic.Int64 // direct writes not aligned
}

func (f *directFile) WriteAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if end := int(off) + len(p); end > len(f.data) {
		f.data = append(f.data, make([]byte, end-len(f.data))...)
	}
	return copy(f.data[off:], p), nil
}

func (f *directFile) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if int(off)+len(p) > len(f.data) {
		return 0, fmt.Errorf("read %d bytes at %d of %d: %w", len(p), off, len(f.data), errReadBack)
	}
	return copy(p, f.data[off:]), nil
}

func (f *directFile) WriteDirect(p []byte, off int64) error {
	if len(p)%backend.DirectAlign != 0 || off%backend.DirectAlign != 0 ||
		uintptr(unsafe.Pointer(&p[0]))%backend.DirectAlign != 0 {
		f.badAlign.Add(1)
	}
	switch {
	case f.refuse:
		return fmt.Errorf("direct write: %w", errors.ErrUnsupported)
	case f.fail != nil:
		return f.fail
	}
	f.direct.Add(1)
	_, err := f.WriteAt(p, off)
	return err
}

func (f *directFile) Commit(ctx context.Context, h backend.Handle) error { return nil }
func (f *directFile) Abort() error                                       { return nil }
func (f *directFile) Direct() backend.DirectWriter                       { return f }

// storeShuffled stores a pack of random blobs into p from several
// goroutines, in an order other than the pack's, and returns the pack's
// bytes.
func storeShuffled(t *testing.T, p *packer, seed uint64) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	var offs, lens []int
	want := []byte{}
	for len(want) < 5*packBlockSize+12345 {
		n := 1 + rng.IntN(3*packBlockSize/2)
		if len(offs) == 0 {
			n = 100 // a blob inside the first block
		}
		blob := make([]byte, n)
		for i := range blob {
			blob[i] = byte(rng.Uint32())
		}
		offs, lens = append(offs, len(want)), append(lens, n)
		want = append(want, blob...)
	}
	order := rng.Perm(len(offs))
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			for k := w; k < len(order); k += 3 {
				i := order[k]
				p.blocks.put(want[offs[i]:offs[i]+lens[i]], offs[i])
			}
		})
	}
	wg.Wait()
	p.length = len(want)
	return want
}

// A pack with blocks: full blocks go to the file with aligned direct
// writes, the hash reads the blocks, the last partial block goes through
// WriteAt at finish, and every block is given back.
func TestPackBlocks(t *testing.T) {
	for _, size := range []int{packBlockSize, uncompressedPackBlockSize} {
		t.Run(fmt.Sprint(size>>20, "MiB"), func(t *testing.T) { testPackBlocks(t, size) })
	}
}

func testPackBlocks(t *testing.T, size int) {
	r := &Repository{stages: newStagePool(4), direct: newDirectWrites(size)}
	f := &directFile{}
	p := newFilePacker(f, 64<<20)
	p.blocks = newPackBlocks(f, f, r.direct)
	want := storeShuffled(t, p, 1)

	// Hash in two steps, as a hash ahead and a commit would.
	p.prefix.mu.Lock()
	if err := r.hashPrefixes(p, 2*size+1, nil, 0); err != nil {
		t.Fatal(err)
	}
	if err := r.hashPrefixes(p, p.length, nil, 0); err != nil {
		t.Fatal(err)
	}
	p.prefix.mu.Unlock()
	if got := p.prefix.digest.Sum(); got != sha256.Sum256(want) {
		t.Errorf("hash of the blocks %x, want %x", got, sha256.Sum256(want))
	}
	if err := p.blocks.finish(p.length); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.data, want) {
		t.Errorf("file differs from the pack's bytes (%d vs %d bytes)", len(f.data), len(want))
	}
	full := int64(len(want) / size)
	if got := f.direct.Load() + r.direct.cachedBlocks.Load(); got != full {
		t.Errorf("%d full blocks written (%d direct), want %d", got, f.direct.Load(), full)
	}
	if f.direct.Load() == 0 {
		t.Error("no direct writes")
	}
	if n := f.badAlign.Load(); n != 0 {
		t.Errorf("%d direct writes not aligned to %d bytes", n, backend.DirectAlign)
	}
	if r.direct.pool.inUse != 0 {
		t.Errorf("%d blocks not given back", r.direct.pool.inUse)
	}
	r.direct.pool.drain()
	if len(r.direct.pool.slabs) != 0 {
		t.Error("pool memory kept after drain")
	}
}

// A file system that refuses direct writes gets the same bytes through
// WriteAt, and later packs do without blocks.
func TestPackBlocksRefused(t *testing.T) {
	r := &Repository{stages: newStagePool(4), direct: newDirectWrites(packBlockSize)}
	f := &directFile{refuse: true}
	p := newFilePacker(f, 64<<20)
	p.blocks = newPackBlocks(f, f, r.direct)
	want := storeShuffled(t, p, 2)
	if err := p.blocks.finish(p.length); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(f.data, want) {
		t.Error("file differs from the pack's bytes")
	}
	if !r.direct.refused.Load() {
		t.Error("refusal not recorded")
	}
}

// A failed direct write fails the pack with that error, and the blocks
// still come back.
func TestPackBlocksWriteFails(t *testing.T) {
	r := &Repository{stages: newStagePool(4), direct: newDirectWrites(packBlockSize)}
	f := &directFile{fail: syscall.EIO}
	p := newFilePacker(f, 64<<20)
	p.blocks = newPackBlocks(f, f, r.direct)
	storeShuffled(t, p, 3)
	if err := p.blocks.finish(p.length); !errors.Is(err, syscall.EIO) {
		t.Errorf("finish: %v, want EIO", err)
	}
	if r.direct.pool.inUse != 0 {
		t.Errorf("%d blocks not given back", r.direct.pool.inUse)
	}
}

// Packs built in place on a local disk use direct writes (the test's
// temporary directory is on a file system with O_DIRECT where the suite
// runs; elsewhere the test says so and stops), and every pack is right.
func TestDirectPacksLocal(t *testing.T) {
	ctx := t.Context()
	r, dir := openLocal(t, nil)
	rng := rand.New(rand.NewPCG(5, 6))
	saved := saveRandomBlobs(t, r, 120, func() int { return 50<<10 + rng.IntN(400<<10) })
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	direct, cached := r.direct.directBlocks.Load(), r.direct.cachedBlocks.Load()
	if r.direct.refused.Load() {
		t.Skipf("the file system of %s refused direct writes", dir)
	}
	if direct == 0 {
		t.Errorf("no block written directly (%d through the page cache)", cached)
	}
	requireBlobs(t, r, saved)
	checkPacks(t, r.Backend())
	r.direct.pool.mu.Lock()
	inUse := r.direct.pool.inUse
	r.direct.pool.mu.Unlock()
	if inUse != 0 {
		t.Errorf("%d blocks not given back after Flush", inUse)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if left := leftovers(t, dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// Two open packs that fit in one merge at Flush: the blobs of the one
// merged away are read from its blocks, or from its file for blocks
// already written and hashed.
func TestDirectPacksMerge(t *testing.T) {
	ctx := t.Context()
	r, _ := openLocal(t, nil)
	saved := saveRandomBlobs(t, r, 10, func() int { return 300 << 10 })
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if r.direct.refused.Load() {
		t.Skip("the file system refused direct writes")
	}
	if r.direct.directBlocks.Load() == 0 {
		t.Error("no block written directly")
	}
	requireBlobs(t, r, saved)
	if n := checkPacks(t, r.Backend()); n != 1 {
		t.Errorf("%d packs, want the two open ones merged into 1", n)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

// saveRandomBlobs saves n data blobs of random bytes, of the sizes size
// returns, and returns them by ID.
func saveRandomBlobs(t *testing.T, r *Repository, n int, size func() int) map[ID][]byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(n), 11))
	saved := map[ID][]byte{}
	for range n {
		data := make([]byte, size())
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		id, _, err := r.SaveBlob(t.Context(), DataBlob, data)
		if err != nil {
			t.Fatal(err)
		}
		saved[id] = data
	}
	return saved
}

// Where data blobs are stored as they are, packs get the larger blocks.
func TestPackBlockSizeByCompression(t *testing.T) {
	for _, c := range []struct {
		version uint
		comp    Compression
		want    int
	}{
		{2, CompressionAuto, packBlockSize},
		{2, CompressionMax, packBlockSize},
		{2, CompressionOff, uncompressedPackBlockSize},
		{1, CompressionAuto, uncompressedPackBlockSize},
	} {
		r, err := newRepository(mem.New(), crypto.NewRandomKey(), Config{Version: c.version}, Options{Compression: c.comp})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.direct.pool.size; got != c.want {
			t.Errorf("version %d, compression %v: blocks of %d bytes, want %d", c.version, c.comp, got, c.want)
		}
		_ = r.Close()
	}
}

// Two half-full packs whose block writes failed are merged at Flush: the
// error is the failed write's, not the EOF of reading back the blocks that
// were never written (a full disk once came out as "EOF").
func TestMergeAfterFailedBlockWrites(t *testing.T) {
	ctx := t.Context()
	ff := &failingFiles{}
	ff.okWrites.Store(1 << 40)
	r, _ := openLocalWith(t, func(be backend.Backend) backend.Backend { ff.Backend = be; return ff }, CompressionAuto)
	ff.okWrites.Store(0)
	rng := rand.New(rand.NewPCG(3, 5))
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		data := make([]byte, 300<<10)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		_, _, err = r.SaveBlob(ctx, DataBlob, data)
	}
	if err == nil {
		err = r.Flush(ctx)
	}
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("got %v, want the write error", err)
	}
	_ = r.Close()
}
