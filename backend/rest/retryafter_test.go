package rest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/retry"
	"github.com/hbackup/hbackup/internal/testutil"
)

// TestRetryAfterRclone: a proxy in front of rclone answers the first
// downloads of a file with 503 and 429 and a Retry-After; the retry
// decorator waits as long as asked although its own backoff is a
// millisecond, and the download then succeeds.
func TestRetryAfterRclone(t *testing.T) {
	srv := testutil.StartRclone(t, testutil.RcloneOptions{})
	target := strings.TrimSuffix(srv.URL, "/")
	var gets atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/data/") {
			switch gets.Add(1) {
			case 1:
				w.Header().Set("Retry-After", "1")
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			case 2:
				w.Header().Set("Retry-After", time.Now().Add(2*time.Second).UTC().Format(http.TimeFormat))
				http.Error(w, "slow down", http.StatusTooManyRequests)
				return
			}
		}
		forward(w, r, target)
	}))
	t.Cleanup(proxy.Close)

	raw, err := New(Config{URL: "rest:" + proxy.URL + "/repo"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := raw.Create(ctx); err != nil {
		t.Fatal(err)
	}
	h := backend.Handle{Type: backend.PackFile, Name: randomName()}
	data := randomBytes(1000)
	save(t, raw, h, data)

	be := retry.New(raw, retry.Options{InitialDelay: time.Millisecond, MaxDelay: time.Millisecond})
	start := time.Now()
	var got []byte
	err = be.Load(ctx, h, 0, 0, func(rd io.Reader) error {
		got, err = io.ReadAll(rd)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// 1 s, then at least 1 s more (the date has whole seconds).
	if d := time.Since(start); d < 2*time.Second {
		t.Errorf("retried after %v in total; the server asked for at least 2s", d)
	}
	if !bytes.Equal(got, data) || gets.Load() != 3 {
		t.Errorf("got %d bytes after %d GETs, want %d after 3", len(got), gets.Load(), len(data))
	}

	// Without the decorator the error says how long to wait.
	gets.Store(0)
	err = raw.Load(ctx, h, 0, 0, func(io.Reader) error { return nil })
	if d, ok := backend.RetryDelay(err); !ok || d != time.Second || backend.IsPermanent(err) {
		t.Errorf("503 with Retry-After: 1 gave %v (delay %v, %v)", err, d, ok)
	}
}

// forward sends r to target and copies the answer back.
func forward(w http.ResponseWriter, r *http.Request, target string) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	req.ContentLength = r.ContentLength
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}
