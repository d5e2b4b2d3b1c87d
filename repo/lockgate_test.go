package repo_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/repo"
)

// Two processes lock at the same moment and both pass the first check:
// the second check must find the conflict, and everything a lock protects
// must fail with ErrLocked rather than go ahead.
func TestLockConflictFoundByRecheck(t *testing.T) {
	ctx := context.Background()
	be := mem.New()
	r := initRepo(t, be, 2, repo.Options{})
	idx, err := r.SaveUnpacked(ctx, backend.IndexFile, []byte(`{"packs":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	l, err := r.Lock(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	// The other process's exclusive lock, written right after our first
	// check (lock files pass the gate).
	raw, _ := json.Marshal(repo.LockInfo{Time: time.Now(), Exclusive: true, Hostname: "other", PID: 4242})
	if _, err := r.SaveUnpacked(ctx, backend.LockFile, raw); err != nil {
		t.Fatal(err)
	}

	if _, err := r.SaveUnpacked(ctx, backend.SnapshotFile, []byte(`{}`)); !errors.Is(err, repo.ErrLocked) {
		t.Errorf("snapshot saved during a lock conflict: %v, want ErrLocked", err)
	}
	if err := l.Wait(ctx); !errors.Is(err, repo.ErrLocked) {
		t.Errorf("Wait: %v, want ErrLocked", err)
	}
	if err := r.Backend().Remove(ctx, backend.Handle{Type: backend.IndexFile, Name: idx.String()}); !errors.Is(err, repo.ErrLocked) {
		t.Errorf("index removed during a lock conflict: %v, want ErrLocked", err)
	}
	pack := backend.Handle{Type: backend.PackFile, Name: repo.Hash([]byte("p")).String()}
	if err := r.Backend().Save(ctx, pack, backend.NewByteReader([]byte("p"))); !errors.Is(err, repo.ErrLocked) {
		t.Errorf("pack uploaded after the conflict was found: %v, want ErrLocked", err)
	}
	if _, err := r.LoadUnpacked(ctx, backend.IndexFile, idx); err != nil {
		t.Errorf("index gone: %v", err)
	}
	if err := l.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// Without a conflict, writes wait for the recheck and then pass, and a
// lock released and taken again leaves no stale state behind.
func TestLockRecheckPasses(t *testing.T) {
	ctx := context.Background()
	r := initRepo(t, mem.New(), 2, repo.Options{})
	for range 2 {
		l, err := r.Lock(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.SaveUnpacked(ctx, backend.SnapshotFile, []byte(`{}`)); err != nil {
			t.Fatalf("snapshot under a confirmed lock: %v", err)
		}
		if err := l.Wait(ctx); err != nil {
			t.Fatalf("Wait: %v", err)
		}
		if err := l.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Unlocked before the recheck ran: the next lock is not affected.
	l, err := r.Lock(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	l, err = r.Lock(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock(ctx)
	if _, err := r.SaveUnpacked(ctx, backend.SnapshotFile, []byte(`{"x":1}`)); err != nil {
		t.Fatalf("snapshot after an early unlock: %v", err)
	}
}
