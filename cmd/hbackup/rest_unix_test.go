package main

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hbackup/hbackup/internal/testutil"
)

// TestRESTUnixSocket backs up over restic's rest:http+unix:///sock:/repo
// form. Debian's rclone cannot listen on a unix socket, so a reverse
// proxy on the socket forwards to it; restic then checks the repository.
func TestRESTUnixSocket(t *testing.T) {
	rc := testutil.StartRclone(t, testutil.RcloneOptions{})
	u, err := url.Parse(rc.URL)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("/tmp", "hb-sock-") // socket paths are short
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "rest.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var requests atomic.Int64
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })

	src := filepath.Join(t.TempDir(), "src")
	testutil.MakeTestTree(t, src, testutil.TreeOptions{Seed: 7})
	env := map[string]string{"RESTIC_REPOSITORY": "rest:http+unix://" + sock + ":/repo/", "RESTIC_PASSWORD": "geheim"}
	for _, args := range [][]string{{"init"}, {"backup", "-q", src}, {"snapshots"}} {
		out, errb, code := runCLI(t, env, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errb)
		}
		if args[0] == "snapshots" && !strings.Contains(out, "1 snapshots") {
			t.Fatalf("snapshots:\n%s", out)
		}
	}
	if requests.Load() == 0 {
		t.Fatal("nothing went through the unix socket")
	}
	restic := testutil.NewRestic(t, filepath.Join(rc.Dir, "repo"), "geheim")
	if out := restic.Run(t, "check", "--read-data"); !strings.Contains(string(out), "no errors were found") {
		t.Fatalf("restic check:\n%s", out)
	}
}
