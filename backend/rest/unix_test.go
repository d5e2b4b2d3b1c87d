package rest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/backendtest"
	"github.com/hbackup/hbackup/internal/testutil"
)

// serveOnUnixSocket serves h on a new unix socket and returns its path.
// Debian's rclone 1.60 cannot listen on one itself (--addr unix:// came
// in a later version), so a reverse proxy in front of it does.
func serveOnUnixSocket(t *testing.T, h http.Handler) string {
	t.Helper()
	// Socket paths are limited to ~108 bytes; t.TempDir can be longer.
	dir, err := mkShortTemp(t)
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "rest.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return sock
}

func mkShortTemp(t *testing.T) (string, error) {
	dir, err := os.MkdirTemp("/tmp", "hb-sock-")
	if err == nil {
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
	}
	return dir, err
}

// proxyTo returns a reverse proxy to rclone that counts requests.
func proxyTo(t *testing.T, target string, requests *atomic.Int64) http.Handler {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		rp.ServeHTTP(w, r)
	})
}

// TestConformanceUnixSocket runs the suite over restic's
// rest:http+unix:///socket:/path form, against rclone behind the socket.
func TestConformanceUnixSocket(t *testing.T) {
	srv := testutil.StartRclone(t, testutil.RcloneOptions{})
	var requests atomic.Int64
	sock := serveOnUnixSocket(t, proxyTo(t, srv.URL, &requests))
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		if rcloneInPlace[path.Base(t.Name())] {
			t.Skip("rclone serve restic writes uploads in place; see rcloneInPlace")
		}
		be, err := New(Config{URL: "rest:http+unix://" + sock + ":/" + randomName()[:16] + "/"})
		if err != nil {
			t.Fatal(err)
		}
		return be
	})
	if requests.Load() == 0 {
		t.Fatal("no request went through the unix socket")
	}
}

// TestUnixSocketURL checks the parsing of restic's http+unix form.
func TestUnixSocketURL(t *testing.T) {
	for _, tc := range []struct {
		url, location, err string
	}{
		{"rest:http+unix:///tmp/rest.socket:/my_backup_repo/", "rest:http+unix:///tmp/rest.socket:/my_backup_repo/", ""},
		{"rest:http+unix:///run/r.sock:/", "rest:http+unix:///run/r.sock:/", ""},
		{"rest:http+unix:///run/r.sock:repo", "rest:http+unix:///run/r.sock:/repo/", ""},
		{"rest:http+unix:///run/r.sock", "", "want http+unix:///path/to/socket:/repository/path"},
		{"rest:http+unix://relative.sock:/repo", "", "want http+unix:///path/to/socket:/repository/path"},
		{"rest:http+unix://:/repo", "", "want http+unix:///path/to/socket:/repository/path"},
	} {
		be, err := New(Config{URL: tc.url})
		if tc.err != "" {
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.err)) {
				t.Errorf("New(%q) = %v, want an error with %q", tc.url, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("New(%q): %v", tc.url, err)
			continue
		}
		if got := be.Location(); got != tc.location {
			t.Errorf("New(%q).Location() = %q, want %q", tc.url, got, tc.location)
		}
	}
}

// TestUnixSocketRoundTrip saves and loads through the socket and finds
// the file in rclone's directory, where restic would.
func TestUnixSocketRoundTrip(t *testing.T) {
	srv := testutil.StartRclone(t, testutil.RcloneOptions{})
	var requests atomic.Int64
	sock := serveOnUnixSocket(t, proxyTo(t, srv.URL, &requests))
	be, err := New(Config{URL: "rest:http+unix://" + sock + ":/repo"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := be.Create(ctx); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(5000)
	h := backend.Handle{Type: backend.PackFile, Name: randomName()}
	save(t, be, h, data)
	var got []byte
	if err := be.Load(ctx, h, 100, 1000, func(rd io.Reader) error {
		got, err = io.ReadAll(rd)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data[1000:1100]) {
		t.Fatal("range read through the socket differs")
	}
	onDisk, err := os.ReadFile(filepath.Join(srv.Dir, "repo", "data", h.Name[:2], h.Name))
	if err != nil || !bytes.Equal(onDisk, data) {
		t.Fatalf("file not where restic expects it: %v", err)
	}
	if _, err := be.Stat(ctx, backend.Handle{Type: backend.SnapshotFile, Name: randomName()}); !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("Stat of a missing file: %v", err)
	}
	if requests.Load() < 4 {
		t.Errorf("%d requests through the socket, want at least 4", requests.Load())
	}
}
