package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func sshdMust(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// dialSSHD logs in to s as login with the generated key, checking the
// host key against the generated known_hosts.
func dialSSHD(t *testing.T, s *SSHD, login string) *ssh.Client {
	t.Helper()
	data, err := os.ReadFile(s.ClientKeyFile)
	sshdMust(t, err)
	signer, err := ssh.ParsePrivateKey(data)
	sshdMust(t, err)
	hostKeys, err := knownhosts.New(s.KnownHostsFile)
	sshdMust(t, err)
	c, err := ssh.Dial("tcp", s.Addr(), &ssh.ClientConfig{
		User:            login,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: hostKeys,
		// The test's known_hosts has both keys; ask for the first.
		HostKeyAlgorithms: []string{ssh.KeyAlgoED25519},
		Timeout:           10 * time.Second,
	})
	if err != nil {
		t.Fatalf("ssh %s@%s: %v\nsshd log:\n%s", login, s.Addr(), err, s.Log())
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestSSHDLoginAndSFTPSubsystem(t *testing.T) {
	s := StartSSHD(t, SSHDOptions{})
	c := dialSSHD(t, s, s.User)
	sess, err := c.NewSession()
	sshdMust(t, err)
	if err := sess.RequestSubsystem("sftp"); err != nil {
		t.Fatalf("sftp subsystem: %v", err)
	}

	// Killing the sessions ends the connection; the server stays up.
	if n := s.KillSessions(t); n == 0 {
		t.Fatal("KillSessions found no session process")
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("connection still open after KillSessions")
	}
	dialSSHD(t, s, s.User)
}

// TestSSHDSessionsCPU: the CPU a session spends on the server shows in
// SessionsCPU once the client has gone.
func TestSSHDSessionsCPU(t *testing.T) {
	s := StartSSHD(t, SSHDOptions{})
	before, err := s.SessionsCPU()
	sshdMust(t, err)
	c := dialSSHD(t, s, s.User)
	sess, err := c.NewSession()
	sshdMust(t, err)
	// About half a CPU-second of hashing, in a child of the session.
	if out, err := sess.CombinedOutput("head -c 400000000 /dev/zero | sha256sum"); err != nil {
		t.Fatalf("remote command: %v\n%s", err, out)
	}
	sshdMust(t, c.Close())
	after, err := s.SessionsCPU()
	sshdMust(t, err)
	if spent := after - before; spent < 100*time.Millisecond {
		t.Fatalf("SessionsCPU grew by %v over a session that hashed 400 MB", spent)
	}
}

func TestSSHDSystemClient(t *testing.T) {
	s := StartSSHD(t, SSHDOptions{})
	bin := RequireBinary(t, "ssh")
	// The same command line restic runs with -o sftp.command.
	args := strings.Fields(s.SFTPCommand(s.Alias))
	cmd := exec.Command(bin, args[1:]...)
	cmd.Stdin = strings.NewReader("") // EOF at once: the server ends the session
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s\nsshd log:\n%s", s.SFTPCommand(s.Alias), err, out, s.Log())
	}
}

func TestSSHDSFTPOnlyUser(t *testing.T) {
	RequireRoot(t)
	s := StartSSHD(t, SSHDOptions{SFTPOnly: true})
	c := dialSSHD(t, s, SFTPOnlyUser)
	sess, err := c.NewSession()
	sshdMust(t, err)
	// ForceCommand replaces any command with internal-sftp, which
	// answers a shell command with SFTP, not its output.
	out, _ := sess.CombinedOutput("echo hello")
	if strings.Contains(string(out), "hello") {
		t.Fatalf("the SFTP-only user ran a shell command: %q", out)
	}
	fi, err := os.Stat(s.UploadDir)
	sshdMust(t, err)
	if !fi.IsDir() {
		t.Fatalf("%s is not a directory", s.UploadDir)
	}
}

// TestSSHDServerWithoutTest: the core used by programs (the benchmark
// harness) starts a server that a client can reach, and Stop ends it
// and its sessions, twice without harm.
func TestSSHDServerWithoutTest(t *testing.T) {
	if _, err := SSHDPath(); err != nil {
		skipMissing(t, "sshd", err)
	}
	s, err := StartSSHDServer(t.Context(), t.TempDir(), SSHDOptions{})
	sshdMust(t, err)
	defer s.Stop()
	home := t.TempDir()
	sshdMust(t, s.WriteHomeFiles(home))
	for _, f := range []string{".ssh/config", ".ssh/known_hosts"} {
		if _, err := os.Stat(filepath.Join(home, f)); err != nil {
			t.Errorf("WriteHomeFiles: %v", err)
		}
	}
	c := dialSSHD(t, s, s.User)
	pid := s.cmd.Process.Pid
	s.Stop()
	s.Stop()
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("sshd (pid %d) still runs after Stop", pid)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("connection still open after Stop")
	}
}
