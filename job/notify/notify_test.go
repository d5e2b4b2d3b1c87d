package notify

import (
	"context"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// recorder is a test HTTP server that keeps every request it gets and
// answers with the next status in its list (200 when the list is empty).
type recorder struct {
	mu       sync.Mutex
	requests []recorded
	statuses []int
	srv      *httptest.Server
}

type recorded struct {
	method, path, query string
	header              http.Header
	body                string
}

func newRecorder(t *testing.T, statuses ...int) *recorder {
	r := &recorder{statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.requests = append(r.requests, recorded{req.Method, req.URL.Path, req.URL.RawQuery, req.Header.Clone(), string(body)})
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, "answer body")
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) got() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.requests...)
}

var fast = Retry{Attempts: 3, Delay: time.Millisecond}

func TestNtfyFailure(t *testing.T) {
	rec := newRecorder(t)
	n := &Ntfy{URL: rec.srv.URL + "/nas-backups", Token: "tk_secret", Retry: fast}
	err := n.Send(context.Background(), Message{Outcome: Failure, Job: "home", Hostname: "nas",
		Body: "backup failed: no space left on device", Tags: []string{"home"}})
	if err != nil {
		t.Fatal(err)
	}
	reqs := rec.got()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	for what, c := range map[string][2]string{
		"method":        {r.method, "POST"},
		"path":          {r.path, "/nas-backups"},
		"Title":         {r.header.Get("Title"), "hbackup: home on nas failed"},
		"Priority":      {r.header.Get("Priority"), "5"},
		"Tags":          {r.header.Get("Tags"), "rotating_light,home"},
		"Authorization": {r.header.Get("Authorization"), "Bearer tk_secret"},
		"body":          {r.body, "backup failed: no space left on device"},
	} {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", what, c[0], c[1])
		}
	}
}

func TestNtfyOutcomesAndPriorities(t *testing.T) {
	rec := newRecorder(t)
	n := &Ntfy{URL: rec.srv.URL + "/t", Username: "alice", Password: "pw", Retry: fast,
		On: []Outcome{Start, Success, Warning}, Priority: map[Outcome]int{Success: 1}}
	ctx := context.Background()
	for _, o := range []Outcome{Start, Success, Warning, Failure} {
		if err := n.Send(ctx, Message{Outcome: o, Job: "tank"}); err != nil {
			t.Fatal(err)
		}
	}
	reqs := rec.got()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 (failure is not in On)", len(reqs))
	}
	want := []struct{ prio, tags, title string }{
		{"2", "arrow_forward", "hbackup: tank started"},
		{"1", "white_check_mark", "hbackup: tank succeeded"},
		{"4", "warning", "hbackup: tank finished with warnings"},
	}
	for i, w := range want {
		r := reqs[i]
		if r.header.Get("Priority") != w.prio || r.header.Get("Tags") != w.tags || r.header.Get("Title") != w.title || r.body != w.title {
			t.Errorf("request %d: priority %q tags %q title %q body %q, want %+v", i,
				r.header.Get("Priority"), r.header.Get("Tags"), r.header.Get("Title"), r.body, w)
		}
		if r.header.Get("Authorization") != "Basic YWxpY2U6cHc=" { // alice:pw
			t.Errorf("request %d: Authorization %q", i, r.header.Get("Authorization"))
		}
	}
	// The default sends only warnings and failures.
	d := &Ntfy{}
	if d.Wants(Success) || d.Wants(Start) || !d.Wants(Warning) || !d.Wants(Failure) {
		t.Error("default outcomes")
	}
}

func TestNtfyUnicodeTitle(t *testing.T) {
	rec := newRecorder(t)
	n := &Ntfy{URL: rec.srv.URL + "/t", Retry: fast}
	if err := n.Send(context.Background(), Message{Outcome: Failure, Title: "Sicherung fehlgeschlagen: Müller"}); err != nil {
		t.Fatal(err)
	}
	title := rec.got()[0].header.Get("Title")
	dec, err := new(mime.WordDecoder).DecodeHeader(title)
	if err != nil || dec != "Sicherung fehlgeschlagen: Müller" || title == dec {
		t.Errorf("Title header %q decodes to %q, %v", title, dec, err)
	}
}

func TestNtfyLongBodyKeepsTheEnd(t *testing.T) {
	rec := newRecorder(t)
	n := &Ntfy{URL: rec.srv.URL + "/t", Retry: fast}
	body := strings.Repeat("é line of log\n", 1000) + "Fatal: the real reason"
	if err := n.Send(context.Background(), Message{Outcome: Failure, Job: "j", Body: body}); err != nil {
		t.Fatal(err)
	}
	got := rec.got()[0].body
	if len(got) > ntfyMaxBody || !strings.HasSuffix(got, "Fatal: the real reason") || !strings.HasPrefix(got, "[...]") || !utf8.ValidString(got) {
		t.Errorf("body of %d bytes: %q...", len(got), got[:40])
	}
}

func TestRetriesServerErrors(t *testing.T) {
	rec := newRecorder(t, 503, 429)
	n := &Ntfy{URL: rec.srv.URL + "/t", Retry: fast}
	if err := n.Send(context.Background(), Message{Outcome: Failure, Job: "j"}); err != nil {
		t.Fatal(err)
	}
	if len(rec.got()) != 3 {
		t.Errorf("%d requests, want 3", len(rec.got()))
	}
}

func TestNoRetryOnClientError(t *testing.T) {
	rec := newRecorder(t, 403)
	n := &Ntfy{URL: rec.srv.URL + "/t", Retry: fast}
	err := n.Send(context.Background(), Message{Outcome: Failure, Job: "j"})
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 403 || he.Body != "answer body" {
		t.Fatalf("err = %v", err)
	}
	if len(rec.got()) != 1 {
		t.Errorf("%d requests, want 1", len(rec.got()))
	}
}

func TestGivesUpAfterAttempts(t *testing.T) {
	rec := newRecorder(t, 500, 500, 500, 500)
	n := &Ntfy{URL: rec.srv.URL + "/t", Retry: fast}
	err := n.Send(context.Background(), Message{Outcome: Failure, Job: "j"})
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 500 {
		t.Fatalf("err = %v", err)
	}
	if len(rec.got()) != 3 {
		t.Errorf("%d requests, want 3", len(rec.got()))
	}
}

// TestRetriesNetworkErrors drops the first connection without answering.
func TestRetriesNetworkErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	bodies := []string{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		first := len(bodies) == 1
		mu.Unlock()
		if first {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	h := &Healthchecks{URL: "http://" + ln.Addr().String() + "/ping/abc", Retry: fast}
	if err := h.Fail(context.Background(), "log tail"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 2 || bodies[1] != "log tail" {
		t.Errorf("bodies %q, want the body sent again", bodies)
	}
}

func TestContextEndsRetries(t *testing.T) {
	rec := newRecorder(t, 503, 503, 503)
	ctx, cancel := context.WithCancel(context.Background())
	n := &Ntfy{URL: rec.srv.URL + "/t", Retry: Retry{Attempts: 3, Delay: time.Hour}}
	done := make(chan error, 1)
	go func() { done <- n.Send(ctx, Message{Outcome: Failure, Job: "j"}) }()
	for len(rec.got()) == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(rec.got()) != 1 {
		t.Errorf("%d requests after cancel", len(rec.got()))
	}
}

func TestHealthchecksPings(t *testing.T) {
	rec := newRecorder(t)
	const uuid = "5f6e8c1a-9b2d-4c3e-8f7a-1b2c3d4e5f60"
	h := &Healthchecks{BaseURL: rec.srv.URL + "/", UUID: uuid, RunID: "0e4a2c1b-7d3f-4a5e-9b8c-6f1d2e3a4b5c", Retry: fast}
	ctx := context.Background()
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Success(ctx, "added 3 files"); err != nil {
		t.Fatal(err)
	}
	if err := h.Fail(ctx, "line 1\nFatal: wrong password"); err != nil {
		t.Fatal(err)
	}
	if err := h.Log(ctx, "retrying"); err != nil {
		t.Fatal(err)
	}
	want := []recorded{
		{method: "POST", path: "/" + uuid + "/start", body: ""},
		{method: "POST", path: "/" + uuid, body: "added 3 files"},
		{method: "POST", path: "/" + uuid + "/fail", body: "line 1\nFatal: wrong password"},
		{method: "POST", path: "/" + uuid + "/log", body: "retrying"},
	}
	got := rec.got()
	if len(got) != len(want) {
		t.Fatalf("%d requests", len(got))
	}
	for i, w := range want {
		g := got[i]
		if g.method != w.method || g.path != w.path || g.body != w.body || g.query != "rid=0e4a2c1b-7d3f-4a5e-9b8c-6f1d2e3a4b5c" {
			t.Errorf("ping %d: %s %s?%s %q, want %s %s %q", i, g.method, g.path, g.query, g.body, w.method, w.path, w.body)
		}
		if ct := g.header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("ping %d: Content-Type %q", i, ct)
		}
	}
}

func TestHealthchecksFullURL(t *testing.T) {
	rec := newRecorder(t)
	h := &Healthchecks{URL: rec.srv.URL + "/ping/my-ping-key/home/", Retry: fast}
	if err := h.Fail(context.Background(), strings.Repeat("x", hcMaxBody+10)); err != nil {
		t.Fatal(err)
	}
	g := rec.got()[0]
	if g.path != "/ping/my-ping-key/home/fail" || len(g.body) != hcMaxBody || g.query != "" {
		t.Errorf("%s?%s with %d bytes", g.path, g.query, len(g.body))
	}
	if err := (&Healthchecks{}).Start(context.Background()); err == nil {
		t.Error("a check without URL or UUID pinged")
	}
}

func TestReadUUIDFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte("5f6e8c1a-9b2d-4c3e-8f7a-1b2c3d4e5f60\n"), 0o600)
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("https://hc-ping.com/x\n"), 0o600)
	if u, err := ReadUUIDFile(good); err != nil || u != "5f6e8c1a-9b2d-4c3e-8f7a-1b2c3d4e5f60" {
		t.Errorf("good: %q %v", u, err)
	}
	if _, err := ReadUUIDFile(bad); err == nil || !strings.Contains(err.Error(), "not a UUID") {
		t.Errorf("bad: %v", err)
	}
	if _, err := ReadUUIDFile(filepath.Join(dir, "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}
