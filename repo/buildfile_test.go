package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/local"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/crypto"
)

// openLocal opens a new repository on a local backend, which builds data
// packs in place; wrap may put a decorator around the backend.
func openLocal(t *testing.T, wrap func(backend.Backend) backend.Backend) (*Repository, string) {
	return openLocalWith(t, wrap, CompressionOff)
}

func openLocalWith(t *testing.T, wrap func(backend.Backend) backend.Backend, mode Compression) (*Repository, string) {
	t.Helper()
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "repo")
	lb, err := local.New(dir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var be backend.Backend = lb
	if wrap != nil {
		be = wrap(lb)
	}
	r, err := Init(ctx, be, "secret", InitOptions{Version: 2, KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Close()
	if r, err = Open(ctx, be, "secret", Options{PackSize: MinPackSize, Compression: mode}); err != nil {
		t.Fatal(err)
	}
	return r, dir
}

// leftovers returns the temporary files in a local repository.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), "-tmp-") {
			found = append(found, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// checkPacks verifies that every pack file is named by its hash and
// returns how many there are.
func checkPacks(t *testing.T, be backend.Backend) int {
	t.Helper()
	n := 0
	err := be.List(t.Context(), backend.PackFile, func(fi backend.FileInfo) error {
		data, err := backend.LoadAll(t.Context(), be, backend.Handle{Type: backend.PackFile, Name: fi.Name})
		if err != nil {
			return err
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != fi.Name {
			t.Errorf("pack %s has hash %x", fi.Name, sum)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Data packs on a local disk are built in place by concurrent savers:
// every blob reads back, every pack is named by its hash, and no
// temporary file is left.
func TestPacksBuiltInPlace(t *testing.T) {
	ctx := t.Context()
	r, dir := openLocal(t, nil)
	saved, err := saveMany(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.buildFiles.Load(); got != 1 {
		t.Fatalf("buildFiles = %d, want 1 (packs built in place)", got)
	}
	if r.packBuffers.Load() != 0 {
		t.Errorf("%d memory pack buffers made, want none", r.packBuffers.Load())
	}
	requireBlobs(t, r, saved)
	// 240 blobs of 200 KiB in 4 MiB packs: 12 or more.
	if n := checkPacks(t, r.Backend()); n < 12 {
		t.Errorf("%d packs, want at least 12", n)
	}
	if left := leftovers(t, dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

// A backend without FileBuilder keeps packs in memory.
func TestPacksInMemoryWithoutFileBuilder(t *testing.T) {
	ctx := t.Context()
	r, err := Init(ctx, mem.New(), "secret", InitOptions{Version: 2, KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.SaveBlob(ctx, DataBlob, []byte("data")); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := r.buildFiles.Load(); got != -1 {
		t.Errorf("buildFiles = %d, want -1 (in memory)", got)
	}
}

// failingFiles makes writes into packs built in place fail after a
// number of successful ones.
type failingFiles struct {
	backend.Backend
	okWrites atomic.Int64
}

var errDiskFull = errors.New("no space left on device (test)")

func (b *failingFiles) CreateFile(ctx context.Context, t backend.FileType) (backend.PendingFile, error) {
	f, err := backend.CreateFile(ctx, b.Backend, t)
	if err != nil {
		return nil, err
	}
	return &failingFile{PendingFile: f, b: b}, nil
}

type failingFile struct {
	backend.PendingFile
	b *failingFiles
}

func (f *failingFile) WriteAt(p []byte, off int64) (int, error) {
	if f.b.okWrites.Add(-1) < 0 {
		return 0, errDiskFull
	}
	return f.PendingFile.WriteAt(p, off)
}

func (f *failingFile) Direct() backend.DirectWriter {
	if w := f.PendingFile.Direct(); w != nil {
		return failingDirect{w: w, b: f.b}
	}
	return nil
}

type failingDirect struct {
	w backend.DirectWriter
	b *failingFiles
}

func (f failingDirect) WriteDirect(p []byte, off int64) error {
	if f.b.okWrites.Add(-1) < 0 {
		return errDiskFull
	}
	return f.w.WriteDirect(p, off)
}

// A write that fails stops the repository with that error; the packs
// that made it are complete, and no temporary file is left.
func TestPackFileWriteFails(t *testing.T) {
	ctx := t.Context()
	ff := &failingFiles{}
	ff.okWrites.Store(1 << 40)
	r, dir := openLocal(t, func(be backend.Backend) backend.Backend { ff.Backend = be; return ff })
	ff.okWrites.Store(int64(2*r.opts.PackSize/r.direct.pool.size) + 2) // about two packs of the 48 MiB saveMany writes
	_, err := saveMany(ctx, r)
	if err == nil {
		err = r.Flush(ctx)
	}
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("save: %v, want the write error", err)
	}
	if err := r.Wait(); !errors.Is(err, errDiskFull) {
		t.Errorf("Wait: %v, want the write error", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if left := leftovers(t, dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	checkPacks(t, ff.Backend)
}

// A repository closed without Flush removes the packs it was building.
func TestUnflushedPacksRemoved(t *testing.T) {
	ctx := t.Context()
	r, dir := openLocal(t, nil)
	for i := range 5 {
		if _, _, err := r.SaveBlob(ctx, DataBlob, bytes.Repeat([]byte{byte(i)}, 1000+i)); err != nil {
			t.Fatal(err)
		}
	}
	if len(leftovers(t, dir)) == 0 {
		t.Fatal("no pack being built: the test tests nothing")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if left := leftovers(t, dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	lb, _ := local.New(dir, local.Options{})
	if n := checkPacks(t, lb); n != 0 {
		t.Errorf("%d packs stored, want 0", n)
	}
}

// Once another process's lock is found, a pack built in place is not
// committed (as a pack Save would not be).
func TestBuiltPackHonoursLockConflict(t *testing.T) {
	ctx := t.Context()
	r, dir := openLocal(t, nil)
	l, err := r.Lock(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(LockInfo{Time: time.Now(), Exclusive: true, Hostname: "other", PID: 4242})
	if _, err := r.SaveUnpacked(ctx, backend.LockFile, raw); err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(ctx); !errors.Is(err, ErrLocked) {
		t.Fatalf("Wait: %v, want ErrLocked", err)
	}
	if _, _, err := r.SaveBlob(ctx, DataBlob, []byte("after the conflict")); err != nil {
		t.Fatal(err) // held in an open pack
	}
	if err := r.Flush(ctx); !errors.Is(err, ErrLocked) {
		t.Errorf("Flush: %v, want ErrLocked", err)
	}
	if n := checkPacks(t, r.Backend()); n != 0 {
		t.Errorf("%d packs stored during a lock conflict", n)
	}
	if left := leftovers(t, dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	_ = l.Unlock(ctx)
	_ = r.Close()
}

// Prune's repack writer shares the backend and builds packs in place too.
func TestRepackWriterBuildsInPlace(t *testing.T) {
	ctx := t.Context()
	r, dir := openLocal(t, nil)
	w, err := r.NewRepackWriter()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.SaveBlob(ctx, DataBlob, []byte("repacked")); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := w.buildFiles.Load(); got != 1 {
		t.Errorf("repack writer: buildFiles = %d, want 1", got)
	}
	if n := checkPacks(t, r.Backend()); n != 1 {
		t.Errorf("%d packs, want 1", n)
	}
	_ = w.Close()
	_ = r.Close()
	if left := leftovers(t, dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// Compressed data blobs are compressed into a stage buffer and encrypted
// there in place; they read back, also when a blob is stored twice.
func TestPacksBuiltInPlaceCompressed(t *testing.T) {
	ctx := t.Context()
	r, dir := openLocalWith(t, nil, CompressionMax)
	saved := map[ID][]byte{}
	for i := range 300 {
		data := []byte(strings.Repeat(fmt.Sprintf("line %d of a compressible blob\n", i), 1000+i*37))
		id, _, err := r.SaveBlob(ctx, DataBlob, data)
		if err != nil {
			t.Fatal(err)
		}
		saved[id] = data
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if r.buildFiles.Load() != 1 {
		t.Fatal("packs not built in place: the test tests nothing")
	}
	requireBlobs(t, r, saved)
	var stored, plain uint64
	for id, data := range saved {
		pb := r.Index().Lookup(BlobHandle{ID: id, Type: DataBlob})
		if len(pb) == 0 || pb[0].UncompressedLength != uint32(len(data)) {
			t.Fatalf("blob %v not stored compressed: %+v", id.Str(), pb)
		}
		stored += uint64(pb[0].Length)
		plain += uint64(len(data))
	}
	if stored*4 > plain {
		t.Errorf("stored %d bytes for %d of repetitive text", stored, plain)
	}
	checkPacks(t, r.Backend())
	_ = r.Close()
	if left := leftovers(t, dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
