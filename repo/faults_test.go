package repo_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/backendtest"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/backend/retry"
	"github.com/hbackup/hbackup/repo"
)

// backupLike saves what a small backup saves: data blobs from a few
// workers, enough for several packs, then tree blobs, then Flush. It
// returns every blob it tried to save and the first error. (Uploads run
// in the background, so a SaveBlob error may belong to another blob's
// pack: which blobs made it is for the index to say.)
func backupLike(ctx context.Context, r *repo.Repository, seed uint64) (map[repo.BlobHandle][]byte, error) {
	const workers, perWorker, size = 4, 12, 200 << 10 // 9.4 MiB: 2-3 packs of 4 MiB
	var mu sync.Mutex
	saved := make(map[repo.BlobHandle][]byte)
	var firstErr error
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				data := chachaBytes(seed<<16+uint64(w*perWorker+i), size)
				mu.Lock()
				saved[repo.BlobHandle{ID: repo.Hash(data), Type: repo.DataBlob}] = data
				mu.Unlock()
				if _, _, err := r.SaveBlob(ctx, repo.DataBlob, data); err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return saved, firstErr
	}
	for i := range 8 {
		tree := fmt.Appendf(nil, `{"nodes":[{"name":"file%d","seed":%d}]}`, i, seed)
		saved[repo.BlobHandle{ID: repo.Hash(tree), Type: repo.TreeBlob}] = tree
		if _, _, err := r.SaveBlob(ctx, repo.TreeBlob, tree); err != nil {
			return saved, err
		}
	}
	return saved, r.Flush(ctx)
}

// chachaBytes is randomBytes, faster: the race detector makes a
// byte-at-a-time loop slow for megabytes.
func chachaBytes(seed uint64, n int) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b)
	return b
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// TestBackupThroughRetryUnderFaults: with the retry decorator, a backup
// over a backend that fails often completes, and everything reads back,
// through the faults and straight from the storage.
func TestBackupThroughRetryUnderFaults(t *testing.T) {
	ctx := context.Background()
	store := mem.New()
	faulty := &backendtest.Faulty{Backend: store, ErrorRate: 0.3, ShortReads: true, Latency: time.Millisecond, Seed: 42}
	be := retry.New(faulty, retry.Options{InitialDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond, MaxRetries: 30})
	r := initRepo(t, be, 2, repo.Options{Compression: repo.CompressionOff, PackSize: repo.MinPackSize})
	saved, err := backupLike(ctx, r, 1)
	if err != nil {
		t.Fatalf("backup through retry: %v", err)
	}
	if faulty.Injected() == 0 {
		t.Fatal("no fault was injected")
	}
	t.Logf("%d faults injected, %d blobs saved", faulty.Injected(), len(saved))

	for _, readBe := range []backend.Backend{be, store} {
		checkReadBack(t, readBe, store, saved)
	}
}

// checkReadBack opens the repository in be and checks that every saved
// blob reads back through the index, and the packs in store.
func checkReadBack(t *testing.T, be, store backend.Backend, saved map[repo.BlobHandle][]byte) {
	t.Helper()
	ctx := context.Background()
	r, err := repo.Open(ctx, be, "secret", repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.LoadIndex(ctx); err != nil {
		t.Fatal(err)
	}
	for h, want := range saved {
		got, err := r.LoadBlob(ctx, h.Type, h.ID, nil)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: blob %v: %v", be.Location(), h, err)
		}
	}
	checkPacks(t, r, store, saved)
}

// TestBackupWithoutRetryUnderFaults: without retries a backup under
// faults may fail, but only with an error naming the fault, and every
// blob that reached the storage reads back correctly.
func TestBackupWithoutRetryUnderFaults(t *testing.T) {
	ctx := context.Background()
	outcomes := map[bool]int{}
	for seed := uint64(1); seed <= 4; seed++ {
		store := mem.New()
		if err := initRepo(t, store, 2, repo.Options{}).Close(); err != nil {
			t.Fatal(err)
		}
		rate := 0.004 // some runs get through
		if seed%2 == 0 {
			rate = 0.1
		}
		faulty := &backendtest.Faulty{Backend: store, ErrorRate: rate, ShortReads: true, Seed: seed}
		r, err := repo.Open(ctx, faulty, "secret", repo.Options{Compression: repo.CompressionOff, PackSize: repo.MinPackSize})
		if err != nil {
			if !errors.Is(err, backendtest.ErrInjected) {
				t.Fatalf("seed %d: open failed with %v, not the injected fault", seed, err)
			}
			continue
		}
		tried, backupErr := backupLike(ctx, r, seed)
		outcomes[backupErr == nil]++
		if backupErr != nil && !errors.Is(backupErr, backendtest.ErrInjected) {
			t.Fatalf("seed %d: backup failed with %v, not the injected fault", seed, backupErr)
		}
		t.Logf("seed %d, error rate %v: %d faults, %d blobs uploaded of %d, error: %v",
			seed, rate, faulty.Injected(), r.Index().Count(repo.DataBlob)+r.Index().Count(repo.TreeBlob), len(tried), backupErr)

		// What the failed repository handle uploaded must be intact;
		// read it with a fresh handle on the storage itself.
		clean, err := repo.Open(ctx, store, "secret", repo.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := clean.LoadIndex(ctx); err != nil {
			t.Fatal(err)
		}
		uploaded := map[repo.BlobHandle][]byte{}
		r.Index().Each(func(pb repo.PackedBlob) {
			if data, ok := tried[pb.BlobHandle]; ok {
				uploaded[pb.BlobHandle] = data
			} else {
				t.Errorf("seed %d: index holds %v, which was never saved", seed, pb.BlobHandle)
			}
		})
		checkPacks(t, clean, store, uploaded)
		if backupErr == nil {
			for h := range tried {
				if !clean.Index().Has(h) {
					t.Errorf("seed %d: backup succeeded but %v is in no index file", seed, h)
				}
			}
		}
		_ = r.Close()
	}
	t.Logf("outcomes: %d completed, %d failed", outcomes[true], outcomes[false])
}

// checkPacks reads every pack header in store and decodes each blob,
// which must be one we saved, and checks that every blob of want is in
// some pack, whether or not an index file names it.
func checkPacks(t *testing.T, r *repo.Repository, store backend.Backend, want map[repo.BlobHandle][]byte) {
	t.Helper()
	ctx := context.Background()
	found := map[repo.BlobHandle]bool{}
	err := r.List(ctx, backend.PackFile, func(id repo.ID, size int64) error {
		hdr, err := r.ReadPackHeader(ctx, id, size)
		if err != nil {
			return fmt.Errorf("pack %v: %w", id.Str(), err)
		}
		packData, err := backend.LoadAll(ctx, store, backend.Handle{Type: backend.PackFile, Name: id.String()})
		if err != nil {
			return err
		}
		if repo.Hash(packData) != id {
			return fmt.Errorf("pack %v: content does not match its name", id.Str())
		}
		for _, pb := range hdr {
			plain, err := r.DecodeBlob(pb, packData[pb.Offset:pb.Offset+pb.Length], nil)
			if err != nil {
				return err
			}
			if data, ok := want[pb.BlobHandle]; ok && !bytes.Equal(plain, data) {
				return fmt.Errorf("blob %v differs from what was saved", pb.BlobHandle)
			}
			found[pb.BlobHandle] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for h := range want {
		if !found[h] {
			t.Errorf("blob %v was saved but is in no pack", h)
		}
	}
}

// failIndexOnce fails the first save of an index file.
type failIndexOnce struct {
	backend.Backend
	mu     sync.Mutex
	failed bool
}

var errIndexSave = errors.New("injected: index save failed")

func (b *failIndexOnce) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	b.mu.Lock()
	fail := h.Type == backend.IndexFile && !b.failed
	b.failed = b.failed || fail
	b.mu.Unlock()
	if fail {
		return errIndexSave
	}
	return b.Backend.Save(ctx, h, rd)
}

// TestIndexSaveRetried: when writing the index fails, the packs it was to
// list wait for the next attempt, which lists every one of them.
func TestIndexSaveRetried(t *testing.T) {
	ctx := context.Background()
	store := mem.New()
	be := &failIndexOnce{Backend: store}
	r := initRepo(t, be, 2, repo.Options{Compression: repo.CompressionOff, PackSize: repo.MinPackSize})
	saved, err := backupLike(ctx, r, 3)
	if !errors.Is(err, errIndexSave) {
		t.Fatalf("backup: %v, want the injected index failure", err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatalf("second flush: %v", err)
	}
	checkReadBack(t, store, store, saved)
}
