package retry_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/backendtest"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/backend/retry"
)

// fast keeps the backoff short so tests do not wait.
func fast() retry.Options {
	return retry.Options{MaxRetries: 20, InitialDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
}

var errFlaky = errors.New("flaky: connection reset")

// flaky wraps mem and asks inject, before each call, which error to
// return instead (nil: do the call).
type flaky struct {
	*mem.Backend
	mu     sync.Mutex
	calls  map[string]int
	inject func(op string, call int) error
}

func newFlaky(inject func(op string, call int) error) *flaky {
	return &flaky{Backend: mem.New(), calls: map[string]int{}, inject: inject}
}

func (f *flaky) next(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	return f.inject(op, f.calls[op])
}

func (f *flaky) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *flaky) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if err := f.next("save"); err != nil {
		_, _ = io.CopyN(io.Discard, rd, rd.Length()/2) // a broken upload reads some
		return err
	}
	return f.Backend.Save(ctx, h, rd)
}

func (f *flaky) Load(ctx context.Context, h backend.Handle, length int, offset int64, fn func(io.Reader) error) error {
	if err := f.next("load"); err != nil {
		return err
	}
	return f.Backend.Load(ctx, h, length, offset, fn)
}

func (f *flaky) Stat(ctx context.Context, h backend.Handle) (backend.FileInfo, error) {
	if err := f.next("stat"); err != nil {
		return backend.FileInfo{}, err
	}
	return f.Backend.Stat(ctx, h)
}

// failFirst fails the first n calls of every operation with err.
func failFirst(n int, err error) func(string, int) error {
	return func(_ string, call int) error {
		if call <= n {
			return err
		}
		return nil
	}
}

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		return retry.New(mem.New(), fast())
	})
}

// TestConformanceUnderFaults: through retry, a faulty backend behaves
// like a reliable one.
func TestConformanceUnderFaults(t *testing.T) {
	seed := uint64(0)
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		seed++
		f := &backendtest.Faulty{Backend: mem.New(), ErrorRate: 0.2, ShortReads: true, Seed: seed}
		return retry.New(f, fast())
	})
}

func TestTransientThenSuccess(t *testing.T) {
	f := newFlaky(failFirst(2, errFlaky))
	var logs bytes.Buffer
	opts := fast()
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	be := retry.New(f, opts)
	h := backend.Handle{Type: backend.PackFile, Name: "abcd"}
	data := bytes.Repeat([]byte("0123456789"), 1000)
	if err := be.Save(t.Context(), h, backend.NewByteReader(data)); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if n := f.count("save"); n != 3 {
		t.Errorf("Save made %d attempts, want 3", n)
	}
	// Each retry rewound the half-read reader: the whole content is there.
	got, err := backend.LoadAll(t.Context(), be, h)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("after retried Save: %d bytes, %v; want the %d saved", len(got), err, len(data))
	}
	if n := strings.Count(logs.String(), "retrying"); n != 4 { // 2 for save, 2 for load
		t.Errorf("logged %d retries, want 4:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "connection reset") {
		t.Errorf("the log does not show the error:\n%s", logs.String())
	}
}

func TestPermanentNotRetried(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"permanent", backend.Permanent(errors.New("quota exceeded"))},
		{"not-exist", backend.ErrNotExist},
		{"wrapped-not-exist", errors.Join(errors.New("stat"), backend.ErrNotExist)},
		{"already-exists", backend.ErrAlreadyExists},
		{"canceled", context.Canceled},
	} {
		f := newFlaky(func(string, int) error { return tc.err })
		be := retry.New(f, retry.Options{}) // default delays: a retry would take a second
		start := time.Now()
		_, err := be.Stat(t.Context(), backend.Handle{Type: backend.ConfigFile})
		if !errors.Is(err, tc.err) {
			t.Errorf("%s: Stat returned %v", tc.name, err)
		}
		if n := f.count("stat"); n != 1 {
			t.Errorf("%s: %d attempts, want 1", tc.name, n)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("%s: took %v", tc.name, d)
		}
	}
}

func TestGivesUp(t *testing.T) {
	f := newFlaky(func(string, int) error { return errFlaky })
	opts := fast()
	opts.MaxRetries = 3
	_, err := retry.New(f, opts).Stat(t.Context(), backend.Handle{Type: backend.ConfigFile})
	if !errors.Is(err, errFlaky) || !strings.Contains(err.Error(), "4 attempts") {
		t.Errorf("Stat: %v, want errFlaky after 4 attempts", err)
	}
	if n := f.count("stat"); n != 4 {
		t.Errorf("%d attempts, want 4", n)
	}

	f = newFlaky(func(string, int) error { return errFlaky })
	opts = retry.Options{MaxRetries: -1}
	if _, err := retry.New(f, opts).Stat(t.Context(), backend.Handle{Type: backend.ConfigFile}); !errors.Is(err, errFlaky) || f.count("stat") != 1 {
		t.Errorf("MaxRetries -1: %v after %d attempts, want 1 attempt", err, f.count("stat"))
	}

	f = newFlaky(func(string, int) error { return errFlaky })
	opts = retry.Options{InitialDelay: 20 * time.Millisecond, MaxElapsed: 100 * time.Millisecond, Jitter: -1}
	if _, err := retry.New(f, opts).Stat(t.Context(), backend.Handle{Type: backend.ConfigFile}); !errors.Is(err, errFlaky) {
		t.Errorf("MaxElapsed: %v", err)
	}
	// Waits of 20, 40 ms fit in 100 ms; the next, 80 ms, does not.
	if n := f.count("stat"); n != 3 {
		t.Errorf("MaxElapsed 100ms with waits of 20ms doubling: %d attempts, want 3", n)
	}
}

// TestContextCancelStops: cancelling while waiting for a retry returns
// at once with context.Canceled.
func TestContextCancelStops(t *testing.T) {
	f := newFlaky(func(string, int) error { return errFlaky })
	be := retry.New(f, retry.Options{InitialDelay: time.Hour, MaxElapsed: 2 * time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := be.Stat(ctx, backend.Handle{Type: backend.ConfigFile})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Stat: %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Stat returned %v after the cancel", d)
	}
	if n := f.count("stat"); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
	// An already cancelled context makes no attempt.
	if _, err := be.Stat(ctx, backend.Handle{Type: backend.ConfigFile}); !errors.Is(err, context.Canceled) || f.count("stat") != 1 {
		t.Errorf("Stat with a cancelled context: %v, %d attempts", err, f.count("stat"))
	}
}

// errSource is the caller's own reader failing.
var errSource = errors.New("source file unreadable")

type brokenReader struct{ backend.RewindReader }

func (brokenReader) Read([]byte) (int, error) { return 0, errSource }

// TestReaderErrorNotRetried: when the content cannot be read, asking the
// backend again does not help.
func TestReaderErrorNotRetried(t *testing.T) {
	f := newFlaky(func(string, int) error { return nil })
	be := retry.New(f, retry.Options{})
	h := backend.Handle{Type: backend.PackFile, Name: "abcd"}
	err := be.Save(t.Context(), h, brokenReader{backend.NewByteReader(make([]byte, 10))})
	if !errors.Is(err, errSource) || f.count("save") != 1 {
		t.Errorf("Save of a failing reader: %v after %d attempts; want errSource after 1", err, f.count("save"))
	}
}

// noOverwrite refuses to save over an existing file, as rest-server,
// and loses the answer to the first save.
type noOverwrite struct{ *flaky }

func (n noOverwrite) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if _, err := n.Backend.Stat(ctx, h); err == nil {
		return backend.Permanent(errors.New("403 Forbidden: file exists"))
	}
	if err := n.Backend.Save(ctx, h, rd); err != nil {
		return err
	}
	return n.next("save")
}

// TestSaveAnswerLost: a retry refused because the first attempt did
// store the file counts as success.
func TestSaveAnswerLost(t *testing.T) {
	// The first two saves store the file but lose the answer.
	be := retry.New(noOverwrite{newFlaky(func(op string, call int) error {
		if op == "save" && call <= 2 {
			return errFlaky
		}
		return nil
	})}, fast())
	h := backend.Handle{Type: backend.PackFile, Name: "abcd"}
	if err := be.Save(t.Context(), h, backend.NewByteReader([]byte("content"))); err != nil {
		t.Errorf("Save whose first answer was lost: %v", err)
	}
	// config is not named by its content, so no such guess is made.
	err := be.Save(t.Context(), backend.Handle{Type: backend.ConfigFile}, backend.NewByteReader([]byte("content")))
	if err == nil {
		t.Errorf("Save(config) whose answer was lost, then refused, succeeded")
	}
}

// listOnce fails the first listing after two entries.
type listOnce struct {
	*mem.Backend
	calls int
}

func (l *listOnce) List(ctx context.Context, t backend.FileType, fn func(backend.FileInfo) error) error {
	l.calls++
	n := 0
	return l.Backend.List(ctx, t, func(fi backend.FileInfo) error {
		if l.calls == 1 && n == 2 {
			return errFlaky
		}
		n++
		return fn(fi)
	})
}

// TestListRestartsWithoutDuplicates: a listing that breaks is restarted
// and fn sees every file exactly once; fn's own error stops it.
func TestListRestartsWithoutDuplicates(t *testing.T) {
	l := &listOnce{Backend: mem.New()}
	for _, name := range []string{"a1", "b2", "c3", "d4", "e5"} {
		h := backend.Handle{Type: backend.IndexFile, Name: name}
		if err := l.Save(t.Context(), h, backend.NewByteReader([]byte(name))); err != nil {
			t.Fatal(err)
		}
	}
	be := retry.New(l, fast())
	seen := map[string]int{}
	err := be.List(t.Context(), backend.IndexFile, func(fi backend.FileInfo) error {
		seen[fi.Name]++
		return nil
	})
	if err != nil || len(seen) != 5 || l.calls != 2 {
		t.Fatalf("List: %v, saw %v in %d listings", err, seen, l.calls)
	}
	for name, n := range seen {
		if n != 1 {
			t.Errorf("fn saw %s %d times", name, n)
		}
	}
	errStop := errors.New("stop")
	calls := l.calls
	err = be.List(t.Context(), backend.IndexFile, func(backend.FileInfo) error { return errStop })
	if err != errStop || l.calls != calls+1 {
		t.Errorf("List with a failing fn: %v after %d listings; want fn's error after 1", err, l.calls-calls)
	}
}

// TestLoadCallsFnAgain: a download cut short is retried with a fresh
// reader, and fn's result is the whole range.
func TestLoadCallsFnAgain(t *testing.T) {
	f := &backendtest.Faulty{Backend: mem.New(), ShortReads: true, ErrorRate: 0.5, Seed: 3}
	be := retry.New(f, fast())
	h := backend.Handle{Type: backend.PackFile, Name: "abcd"}
	data := bytes.Repeat([]byte("restic"), 50_000)
	if err := be.Save(t.Context(), h, backend.NewByteReader(data)); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		var got []byte
		err := be.Load(t.Context(), h, 100_000, 1000, func(rd io.Reader) error {
			got = make([]byte, 100_000)
			_, err := io.ReadFull(rd, got)
			return err
		})
		if err != nil || !bytes.Equal(got, data[1000:101_000]) {
			t.Fatalf("Load #%d: %v", i, err)
		}
	}
	if f.Injected() == 0 {
		t.Errorf("no fault was injected")
	}
}
