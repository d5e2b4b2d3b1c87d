package sftp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/backendtest"
	"github.com/hbackup/hbackup/internal/testutil"
)

// testConfig reaches s as its user with the test's key and known_hosts
// only: nothing from the machine's own ssh setup.
func testConfig(s *testutil.SSHD, path string) Config {
	return Config{
		User:            s.User,
		Host:            s.Host,
		Port:            s.Port,
		Path:            path,
		IdentityFiles:   []string{s.ClientKeyFile},
		KnownHostsFiles: []string{s.KnownHostsFile},
		SSHConfigFile:   "none",
	}
}

// TestMain keeps the tests away from the user's ssh-agent: they must
// pass on the keys they generate alone.
func TestMain(m *testing.M) {
	_ = os.Unsetenv("SSH_AUTH_SOCK")
	os.Exit(m.Run())
}

// startSSHD starts a server for the test.
func startSSHD(t *testing.T) *testutil.SSHD {
	t.Helper()
	return testutil.StartSSHD(t, testutil.SSHDOptions{})
}

func newBackend(t *testing.T, cfg Config) *Backend {
	t.Helper()
	be, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New(%s): %v", cfg.Path, err)
	}
	return be
}

// created returns a backend on a new repository, closed when the test
// ends, and the repository's local directory.
func created(t *testing.T, s *testutil.SSHD) (*Backend, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	be := newBackend(t, testConfig(s, dir))
	t.Cleanup(func() { _ = be.Close() })
	if err := be.Create(t.Context()); err != nil {
		t.Fatalf("Create: %v", err)
	}
	return be, dir
}

func save(t *testing.T, be *Backend, h backend.Handle, data []byte) {
	t.Helper()
	if err := be.Save(t.Context(), h, backend.NewByteReader(data)); err != nil {
		t.Fatalf("Save(%v): %v", h, err)
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	s := startSSHD(t)
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		return newBackend(t, testConfig(s, filepath.Join(t.TempDir(), "repo")))
	})
}

func TestLayoutAndModes(t *testing.T) {
	t.Parallel()
	s := startSSHD(t)
	be, dir := created(t, s)
	if !be.Properties().HasAtomicReplace {
		t.Error("OpenSSH has posix-rename, but HasAtomicReplace is false")
	}
	for _, d := range []string{"", "data", "data/00", "data/ff", "keys", "locks", "snapshots", "index"} {
		wantMode(t, filepath.Join(dir, d), fs.ModeDir|0o700)
	}
	name := strings.Repeat("ab", 32)
	save(t, be, backend.Handle{Type: backend.PackFile, Name: name}, []byte("pack"))
	save(t, be, backend.Handle{Type: backend.ConfigFile}, []byte("config"))
	wantMode(t, filepath.Join(dir, "data", "ab", name), 0o400)
	wantMode(t, filepath.Join(dir, "config"), 0o400)

	// A missing data/xx directory is created on demand.
	if err := os.Remove(filepath.Join(dir, "data", "cd")); err != nil {
		t.Fatal(err)
	}
	save(t, be, backend.Handle{Type: backend.PackFile, Name: "cd01"}, []byte("x"))
	wantMode(t, filepath.Join(dir, "data", "cd"), fs.ModeDir|0o700)
	if tmp := tempFiles(t, dir); len(tmp) > 0 {
		t.Errorf("temporary files left behind: %v", tmp)
	}
}

func TestGroupReadableRepository(t *testing.T) {
	t.Parallel()
	s := startSSHD(t)
	_, dir := created(t, s)
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte("c"), 0o440); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "config"), 0o440); err != nil {
		t.Fatal(err)
	}
	be := newBackend(t, testConfig(s, dir))
	defer func() { _ = be.Close() }()
	save(t, be, backend.Handle{Type: backend.KeyFile, Name: "k1"}, []byte("key"))
	wantMode(t, filepath.Join(dir, "keys", "k1"), 0o440)
}

func TestListSkipsTemporaryFiles(t *testing.T) {
	t.Parallel()
	s := startSSHD(t)
	be, dir := created(t, s)
	for _, name := range []string{"a" + tempMarker + "0123", "b-tmp-4567"} {
		if err := os.WriteFile(filepath.Join(dir, "snapshots", name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	err := be.List(t.Context(), backend.SnapshotFile, func(fi backend.FileInfo) error {
		t.Errorf("List returned %q", fi.Name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h := backend.Handle{Type: backend.SnapshotFile, Name: "x" + tempMarker + "1"}
	if err := be.Save(t.Context(), h, backend.NewByteReader(nil)); err == nil {
		t.Errorf("Save accepted a name containing %q", tempMarker)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	if _, err := New(t.Context(), Config{Path: "repo"}); err == nil {
		t.Error("New without a host succeeded")
	}
	if _, err := New(t.Context(), Config{Host: "example.org"}); err == nil {
		t.Error("New without a path succeeded")
	}
	s := startSSHD(t)
	cfg := testConfig(s, "repo")
	cfg.User = "hbackup-no-such-user"
	_, err := New(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") || !strings.Contains(err.Error(), s.ClientKeyFile) {
		t.Errorf("login as an unknown user: got %v, want an authentication error naming the key tried", err)
	}
	cfg = testConfig(s, "repo")
	cfg.IdentityFiles = []string{filepath.Join(t.TempDir(), "missing")}
	_, err = New(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing identity file: got %v, want an error naming it", err)
	}
}

func TestClosed(t *testing.T) {
	t.Parallel()
	s := startSSHD(t)
	be, _ := created(t, s)
	if err := be.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := be.Stat(t.Context(), backend.Handle{Type: backend.ConfigFile})
	if err == nil || errors.Is(err, backend.ErrNotExist) {
		t.Errorf("Stat after Close: got %v, want an error", err)
	}
}

func wantMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode() & (fs.ModeDir | fs.ModePerm); got != want {
		t.Errorf("%s has mode %v, want %v", path, got, want)
	}
}

// tempFiles returns the leftover temporary files under root.
func tempFiles(t *testing.T, root string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.Contains(d.Name(), tempMarker) {
			found = append(found, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// With Sessions > 1, concurrent operations spread over several SSH
// connections, and the data is the same as over one.
func TestSeveralSessions(t *testing.T) {
	t.Parallel()
	s := startSSHD(t)
	cfg := testConfig(s, filepath.Join(t.TempDir(), "repo"))
	cfg.Connections, cfg.Sessions = 6, 3
	be := newBackend(t, cfg)
	t.Cleanup(func() { _ = be.Close() })
	if err := be.Create(t.Context()); err != nil {
		t.Fatal(err)
	}
	files := map[backend.Handle][]byte{}
	for i := range 6 {
		data := bytes.Repeat([]byte{byte(i)}, 3<<20+i)
		files[backend.Handle{Type: backend.PackFile, Name: fmt.Sprintf("%02x%062d", i, i)}] = data
	}
	var wg sync.WaitGroup
	for h, data := range files {
		wg.Go(func() { save(t, be, h, data) })
	}
	wg.Wait()
	be.mu.Lock()
	open := 0
	for _, s := range be.sessions {
		if s.c != nil {
			open++
		}
	}
	be.mu.Unlock()
	if open < 2 {
		t.Errorf("%d SSH connections open after 6 concurrent uploads, want 2 or 3", open)
	}
	for h, data := range files {
		var got []byte
		err := be.Load(t.Context(), h, 0, 0, func(rd io.Reader) error {
			var err error
			got, err = io.ReadAll(rd)
			return err
		})
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Load(%v): %v, %d bytes, equal %v", h, err, len(got), bytes.Equal(got, data))
		}
	}
}
