package repo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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
// workers, enough for several packs, then tree blobs naming them, then
// Flush. It returns the blobs whose SaveBlob succeeded and the first
// error.
func backupLike(ctx context.Context, r *repo.Repository, seed uint64) (map[repo.BlobHandle][]byte, error) {
	const workers, perWorker, size = 4, 16, 200 << 10 // 12.5 MiB: 3-4 packs of 4 MiB
	var mu sync.Mutex
	saved := make(map[repo.BlobHandle][]byte)
	var firstErr error
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				data := randomBytes(seed<<16+uint64(w*perWorker+i), size)
				id, _, err := r.SaveBlob(ctx, repo.DataBlob, data)
				mu.Lock()
				if err != nil {
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
					return
				}
				saved[repo.BlobHandle{ID: id, Type: repo.DataBlob}] = data
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return saved, firstErr
	}
	for i := range 8 {
		tree := fmt.Appendf(nil, `{"nodes":[{"name":"file%d","seed":%d}]}`, i, seed)
		id, _, err := r.SaveBlob(ctx, repo.TreeBlob, tree)
		if err != nil {
			return saved, err
		}
		saved[repo.BlobHandle{ID: id, Type: repo.TreeBlob}] = tree
	}
	return saved, r.Flush(ctx)
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
	faulty := &backendtest.Faulty{Backend: store, ErrorRate: 0.15, ShortReads: true, Latency: time.Millisecond, Seed: 42}
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
		r2, err := repo.Open(ctx, readBe, "secret", repo.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := r2.LoadIndex(ctx); err != nil {
			t.Fatal(err)
		}
		for h, want := range saved {
			got, err := r2.LoadBlob(ctx, h.Type, h.ID, nil)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: blob %v: %v", readBe.Location(), h, err)
			}
		}
		checkPacks(t, r2, store, saved)
	}
}

// TestBackupWithoutRetryUnderFaults: without retries a backup under
// faults may fail, but only with an error naming the fault, and every
// blob that reached the storage reads back correctly.
func TestBackupWithoutRetryUnderFaults(t *testing.T) {
	ctx := context.Background()
	outcomes := map[bool]int{}
	for seed := uint64(1); seed <= 8; seed++ {
		store := mem.New()
		initRepo(t, store, 2, repo.Options{}).Close()
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
		saved, err := backupLike(ctx, r, seed)
		outcomes[err == nil]++
		if err != nil && !errors.Is(err, backendtest.ErrInjected) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("seed %d: backup failed with %v, not the injected fault", seed, err)
		}
		t.Logf("seed %d, error rate %v: %d faults, %d blobs saved, error: %v", seed, rate, faulty.Injected(), len(saved), err)

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
			if data, ok := saved[pb.BlobHandle]; ok {
				uploaded[pb.BlobHandle] = data
			} else {
				t.Errorf("seed %d: index holds %v, which SaveBlob never reported saved", seed, pb.BlobHandle)
			}
		})
		checkPacks(t, clean, store, uploaded)
		if err == nil {
			for h := range saved {
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
