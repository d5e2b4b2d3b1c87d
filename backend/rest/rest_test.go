package rest

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/backendtest"
)

// startFake serves s under /repo/ and returns a backend for it.
func startFake(t *testing.T, s *fakeServer) *Backend {
	t.Helper()
	srv := httptest.NewServer(http.StripPrefix("/repo", s))
	t.Cleanup(srv.Close)
	be, err := New(Config{URL: "rest:" + srv.URL + "/repo"})
	if err != nil {
		t.Fatal(err)
	}
	return be
}

func TestConformanceFakeServer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(*fakeServer)
	}{
		{"v2", func(*fakeServer) {}},
		{"v1-listing", func(s *fakeServer) { s.v1Only = true }},
		{"ignores-range", func(s *fakeServer) { s.ignoreRange = true }},
		// rest-server also refuses to overwrite, which the suite's
		// repeated config saves do not allow for; see TestNoOverwrite.
		{"idempotent-delete", func(s *fakeServer) { s.idempotentDelete = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			backendtest.Run(t, func(t *testing.T) backend.Backend {
				s := newFakeServer()
				tc.setup(s)
				return startFake(t, s)
			})
		})
	}
}

// TestHTTP2 runs the suite over TLS and checks every request used HTTP/2.
func TestHTTP2(t *testing.T) {
	var servers []*fakeServer
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		s := newFakeServer()
		servers = append(servers, s)
		srv := httptest.NewUnstartedServer(s)
		srv.EnableHTTP2 = true
		srv.StartTLS()
		t.Cleanup(srv.Close)
		pool := x509.NewCertPool()
		pool.AddCert(srv.Certificate())
		be, err := New(Config{URL: srv.URL, TLSConfig: &tls.Config{RootCAs: pool}})
		if err != nil {
			t.Fatal(err)
		}
		return be
	})
	for _, s := range servers {
		for i, p := range s.protos {
			if p != 2 {
				t.Fatalf("request %q used HTTP/%d, want HTTP/2", s.requests[i], p)
			}
		}
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randomName() string { return hex.EncodeToString(randomBytes(32)) }

func save(t *testing.T, be backend.Backend, h backend.Handle, data []byte) {
	t.Helper()
	if err := be.Save(t.Context(), h, backend.NewByteReader(data)); err != nil {
		t.Fatalf("Save(%v): %v", h, err)
	}
}

// TestListV1Fallback: a server answering in v1 gets one HEAD per file,
// and the sizes still come out right.
func TestListV1Fallback(t *testing.T) {
	s := newFakeServer()
	s.v1Only = true
	be := startFake(t, s)
	want := map[string]int64{}
	for i := range 3 {
		h := backend.Handle{Type: backend.SnapshotFile, Name: randomName()}
		save(t, be, h, randomBytes(10+i))
		want[h.Name] = int64(10 + i)
	}
	got := map[string]int64{}
	err := be.List(t.Context(), backend.SnapshotFile, func(fi backend.FileInfo) error {
		got[fi.Name] = fi.Size
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	for name, size := range want {
		if got[name] != size {
			t.Errorf("%s: size %d, want %d", name, got[name], size)
		}
		if !slices.Contains(s.seen(), "HEAD /snapshots/"+name) {
			t.Errorf("no HEAD for %s after a v1 listing; requests: %v", name, s.seen())
		}
	}
}

// TestRangeRequests checks the Range headers sent and the handling of
// 206, 200 and 416 answers.
func TestRangeRequests(t *testing.T) {
	data := randomBytes(1000)
	for _, ignore := range []bool{false, true} {
		s := newFakeServer()
		s.ignoreRange = ignore
		be := startFake(t, s)
		h := backend.Handle{Type: backend.PackFile, Name: randomName()}
		save(t, be, h, data)
		for _, tc := range []struct {
			length int
			offset int64
			header string
		}{
			{0, 0, ""},
			{100, 450, "bytes=450-549"},
			{0, 500, "bytes=500-"},
			{1, 999, "bytes=999-999"},
			{0, 1000, "bytes=1000-"}, // 416 from ServeContent: an empty read
		} {
			var got []byte
			err := be.Load(t.Context(), h, tc.length, tc.offset, func(rd io.Reader) error {
				var err error
				got, err = io.ReadAll(rd)
				return err
			})
			want := data[tc.offset:]
			if tc.length > 0 {
				want = want[:tc.length]
			}
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("ignoreRange=%v Load(%d, %d) = %d bytes, %v; want %d bytes", ignore, tc.length, tc.offset, len(got), err, len(want))
			}
			wantReq := "GET /" + h.String()
			if tc.header != "" {
				wantReq += " " + tc.header
			}
			if last := s.seen()[len(s.seen())-1]; last != wantReq && !strings.HasPrefix(last, "HEAD") {
				t.Errorf("Load(%d, %d) sent %q, want %q", tc.length, tc.offset, last, wantReq)
			}
		}
		for _, r := range []struct {
			length int
			offset int64
		}{{1001, 0}, {10, 995}, {0, 1001}, {1, 1000}} {
			called := false
			err := be.Load(t.Context(), h, r.length, r.offset, func(io.Reader) error { called = true; return nil })
			if !errors.Is(err, io.ErrUnexpectedEOF) || !backend.IsPermanent(err) || called {
				t.Errorf("ignoreRange=%v Load(%d, %d) past the end: err %v, fn called %v; want a permanent io.ErrUnexpectedEOF before fn",
					ignore, r.length, r.offset, err, called)
			}
		}
	}
}

// TestStatusErrors: which answers are permanent, which transient.
func TestStatusErrors(t *testing.T) {
	for _, tc := range []struct {
		code      int
		permanent bool
		target    error
	}{
		{http.StatusInternalServerError, false, nil},
		{http.StatusBadGateway, false, nil},
		{http.StatusTooManyRequests, false, nil},
		{http.StatusRequestTimeout, false, nil},
		{http.StatusUnauthorized, true, ErrUnauthorized},
		{http.StatusForbidden, true, ErrForbidden},
		{http.StatusInsufficientStorage, true, nil},
		{http.StatusBadRequest, true, nil},
		{http.StatusNotFound, false, backend.ErrNotExist},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "told to fail", tc.code)
		}))
		be, err := New(Config{URL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		h := backend.Handle{Type: backend.IndexFile, Name: randomName()}
		err = be.Save(t.Context(), h, backend.NewByteReader([]byte("x")))
		if err == nil || backend.IsPermanent(err) != tc.permanent || (tc.target != nil && !errors.Is(err, tc.target)) {
			t.Errorf("status %d: Save error %v, permanent %v; want permanent %v, matching %v", tc.code, err, backend.IsPermanent(err), tc.permanent, tc.target)
		}
		if !strings.Contains(err.Error(), "told to fail") {
			t.Errorf("status %d: error %q lacks the server's explanation", tc.code, err)
		}
		srv.Close()
	}
}

func TestNewURLs(t *testing.T) {
	for _, tc := range []struct{ url, location string }{
		{"rest:http://host:8000", "rest:http://host:8000/"},
		{"http://host:8000/some/repo", "rest:http://host:8000/some/repo/"},
		{"rest:https://user:secret@host/repo/", "rest:https://user:***@host/repo/"},
		{"rest:https://user@host/", "rest:https://user@host/"},
	} {
		be, err := New(Config{URL: tc.url})
		if err != nil {
			t.Errorf("New(%q): %v", tc.url, err)
			continue
		}
		if be.Location() != tc.location {
			t.Errorf("New(%q).Location() = %q, want %q", tc.url, be.Location(), tc.location)
		}
	}
	for _, bad := range []string{"ftp://host/", "rest:/local/path", "http:///nohost", "http://u:topsecret@host/x?y=1", "http://u:topsecret@[::1/"} {
		_, err := New(Config{URL: bad})
		if err == nil {
			t.Errorf("New(%q) succeeded", bad)
		} else if strings.Contains(err.Error(), "topsecret") {
			t.Errorf("New(%q) error shows the password: %v", bad, err)
		}
	}
}

// TestCredentials: URL credentials win over Config's; both reach the
// server as basic authentication.
func TestCredentials(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		got = append(got, u+":"+p)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	withUser := strings.Replace(srv.URL, "://", "://url:urlpass@", 1)
	for _, cfg := range []Config{
		{URL: withUser, Username: "cfg", Password: "cfgpass"},
		{URL: srv.URL, Username: "cfg", Password: "cfgpass"},
		{URL: srv.URL},
	} {
		be, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = be.Stat(t.Context(), backend.Handle{Type: backend.ConfigFile})
	}
	want := []string{"url:urlpass", "cfg:cfgpass", ":"}
	if !slices.Equal(got, want) {
		t.Errorf("server saw credentials %q, want %q", got, want)
	}
}

// TestNoOverwrite: a server refusing to overwrite (rest-server) gives a
// permanent error wrapping ErrForbidden, and the file keeps its content.
func TestNoOverwrite(t *testing.T) {
	s := newFakeServer()
	s.noOverwrite = true
	be := startFake(t, s)
	h := backend.Handle{Type: backend.PackFile, Name: randomName()}
	save(t, be, h, []byte("first"))
	err := be.Save(t.Context(), h, backend.NewByteReader([]byte("second")))
	if !errors.Is(err, ErrForbidden) || !backend.IsPermanent(err) {
		t.Fatalf("Save over an existing file: %v, want a permanent ErrForbidden", err)
	}
	got, err := backend.LoadAll(t.Context(), be, h)
	if err != nil || string(got) != "first" {
		t.Errorf("after a refused overwrite: %q, %v", got, err)
	}
}
