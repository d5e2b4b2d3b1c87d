package sftp

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/backendtest"
	"github.com/hbackup/hbackup/internal/testutil"
)

// sftpOnlyConfig logs in as the chrooted SFTP-only user, whose session
// starts in /upload inside the chroot (s.UploadDir outside).
func sftpOnlyConfig(s *testutil.SSHD, path string) Config {
	cfg := testConfig(s, path)
	cfg.User = testutil.SFTPOnlyUser
	return cfg
}

// The NAS case: an SFTP-only account in a chroot, with the repository
// path relative to where the session starts.
func TestSFTPOnlyChrootRelativePath(t *testing.T) {
	t.Parallel()
	s := testutil.StartSSHD(t, testutil.SSHDOptions{SFTPOnly: true}) // skips unless root

	be := newBackend(t, sftpOnlyConfig(s, "hass"))
	defer func() { _ = be.Close() }()
	if err := be.Create(t.Context()); err != nil {
		t.Fatalf("Create: %v", err)
	}
	save(t, be, backend.Handle{Type: backend.ConfigFile}, []byte("config"))
	save(t, be, backend.Handle{Type: backend.PackFile, Name: "ab01"}, []byte("pack"))
	for _, p := range []string{"config", "data/ab/ab01", "keys", "data/ff"} {
		if _, err := os.Stat(filepath.Join(s.UploadDir, "hass", p)); err != nil {
			t.Errorf("%s is not in the chroot's upload directory: %v", p, err)
		}
	}
	if got, err := backend.LoadAll(t.Context(), be, backend.Handle{Type: backend.ConfigFile}); err != nil || string(got) != "config" {
		t.Errorf("Load(config) = %q, %v", got, err)
	}

	// An absolute path is taken inside the chroot.
	abs := newBackend(t, sftpOnlyConfig(s, "/upload/abs"))
	defer func() { _ = abs.Close() }()
	if err := abs.Create(t.Context()); err != nil {
		t.Fatalf("Create with an absolute path: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.UploadDir, "abs", "keys")); err != nil {
		t.Errorf("absolute path inside the chroot: %v", err)
	}
	// The chroot root is not writable: a repository there fails.
	root := newBackend(t, sftpOnlyConfig(s, "/outside"))
	defer func() { _ = root.Close() }()
	if err := root.Create(t.Context()); err == nil {
		t.Error("Create in the read-only chroot root succeeded")
	}
}

func TestSFTPOnlyConformance(t *testing.T) {
	t.Parallel()
	s := testutil.StartSSHD(t, testutil.SSHDOptions{SFTPOnly: true}) // skips unless root
	var n atomic.Int64
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		return newBackend(t, sftpOnlyConfig(s, fmt.Sprintf("repo%d", n.Add(1))))
	})
}
