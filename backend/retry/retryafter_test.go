package retry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/retry"
)

// TestRetryAfterIsHonoured: an error carrying the server's Retry-After
// makes the next attempt wait at least that long, although the backoff
// alone would retry after a millisecond.
func TestRetryAfterIsHonoured(t *testing.T) {
	const wait = 300 * time.Millisecond
	busy := backend.RetryAfter(errors.New("503 Service Unavailable"), wait)
	f := newFlaky(failFirst(2, busy))
	be := retry.New(f, fast())
	ctx := context.Background()
	h := backend.Handle{Type: backend.SnapshotFile, Name: "abcd"}
	start := time.Now()
	if err := be.Save(ctx, h, backend.NewByteReader([]byte("x"))); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 2*wait {
		t.Errorf("two answers with Retry-After %v were retried after %v in total", wait, d)
	}
	if n := f.count("save"); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
	if d, ok := backend.RetryDelay(busy); !ok || d != wait {
		t.Errorf("RetryDelay = %v, %v", d, ok)
	}
	if _, ok := backend.RetryDelay(errors.New("plain")); ok {
		t.Error("RetryDelay found a delay in a plain error")
	}
	if backend.RetryAfter(nil, time.Second) != nil {
		t.Error("RetryAfter(nil) is not nil")
	}
}

// TestRetryAfterBeyondLimit: a server asking for a wait longer than the
// retry budget gets no further attempt; the error comes back at once.
func TestRetryAfterBeyondLimit(t *testing.T) {
	busy := backend.RetryAfter(errors.New("429 Too Many Requests"), time.Hour)
	f := newFlaky(failFirst(100, busy))
	opts := fast()
	opts.MaxElapsed = time.Minute
	be := retry.New(f, opts)
	_, err := be.Stat(context.Background(), backend.Handle{Type: backend.SnapshotFile, Name: "abcd"})
	if err == nil || f.count("stat") != 1 {
		t.Fatalf("Stat = %v after %d attempts, want the error after one", err, f.count("stat"))
	}
	if d, ok := backend.RetryDelay(err); !ok || d != time.Hour {
		t.Errorf("the returned error lost its Retry-After: %v", err)
	}
}
