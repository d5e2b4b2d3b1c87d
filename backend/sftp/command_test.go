package sftp

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/backendtest"
	"github.com/hbackup/hbackup/internal/testutil"
)

// commandConfig reaches s through the system ssh, as restic's
// -o sftp.command does.
func commandConfig(t *testing.T, s *testutil.SSHD, path string) Config {
	t.Helper()
	testutil.RequireBinary(t, "ssh")
	return Config{Host: s.Alias, Path: path, Command: s.SFTPCommand(s.Alias)}
}

func TestCommandConformance(t *testing.T) {
	t.Parallel()
	s := startSSHD(t)
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		return newBackend(t, commandConfig(t, s, filepath.Join(t.TempDir(), "repo")))
	})
}

func TestCommandReconnect(t *testing.T) {
	t.Parallel()
	s := startSSHD(t)
	be := newBackend(t, commandConfig(t, s, filepath.Join(t.TempDir(), "repo")))
	defer func() { _ = be.Close() }()
	if err := be.Create(t.Context()); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(t, 4<<20)
	h := backend.Handle{Type: backend.PackFile, Name: "c0ffee"}
	rd := &killingReader{Reader: bytes.NewReader(data), kill: killer(t, s), after: 1 << 20}
	if err := be.Save(t.Context(), h, rd); err != nil {
		t.Fatalf("Save across a killed ssh: %v", err)
	}
	got, err := backend.LoadAll(t.Context(), be, h)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Load after reconnecting: %d bytes, %v", len(got), err)
	}
}

// -o sftp.args runs the system ssh with extra arguments, as restic does.
func TestSystemSSHArgs(t *testing.T) {
	t.Parallel()
	s := startSSHD(t)
	testutil.RequireBinary(t, "ssh")
	be := newBackend(t, Config{Host: s.Alias, Path: filepath.Join(t.TempDir(), "repo"), Args: "-F " + s.SSHConfigFile})
	defer func() { _ = be.Close() }()
	if err := be.Create(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestCommandFailure(t *testing.T) {
	t.Parallel()
	testutil.RequireBinary(t, "ssh")
	_, err := New(t.Context(), Config{Host: "x", Path: "repo", Command: "ssh -F /dev/null -o BatchMode=yes -p 1 127.0.0.1 -s sftp"})
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("New with a failing ssh: got %v, want ssh's own message", err)
	}
	_, err = New(t.Context(), Config{Host: "x", Path: "repo", Command: "hbackup-no-such-program"})
	if err == nil || !strings.Contains(err.Error(), "hbackup-no-such-program") {
		t.Errorf("New with a missing program: got %v", err)
	}
	if _, err := New(t.Context(), Config{Host: "x", Path: "repo", Command: `ssh "host`}); err == nil {
		t.Error("New with an unbalanced quote succeeded")
	}
}
