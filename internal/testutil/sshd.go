package testutil

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// SFTPOnlyUser is the system account StartSSHD creates (as root) for the
// chrooted, SFTP-only login.
const SFTPOnlyUser = "hbsftp"

// ErrSSHDNotFound is returned (wrapped) when sshd is not installed.
var ErrSSHDNotFound = errors.New("sshd not found (package openssh-server)")

// SSHDOptions configures StartSSHD and StartSSHDServer.
type SSHDOptions struct {
	// SFTPOnly adds SFTPOnlyUser, locked into a chroot with
	// "ForceCommand internal-sftp". It needs root: without it
	// StartSSHD skips the test and StartSSHDServer fails.
	SFTPOnly bool
}

// SSHD is a real OpenSSH server on 127.0.0.1, with generated host and
// user keys, and the client files to reach it: a known_hosts file and an
// ssh_config defining the host aliases Alias and (with SFTPOnly)
// SFTPOnlyAlias. It runs until Stop (with StartSSHD: until the test ends).
type SSHD struct {
	Host string // "127.0.0.1"
	Port int
	User string // the login of Alias: the user running the server
	Dir  string // holds every file below

	ClientKeyFile  string // the user's private key (ed25519, mode 0600)
	KnownHostsFile string // the server's host keys for [127.0.0.1]:Port
	SSHConfigFile  string // client configuration, for ssh -F
	Alias          string // ssh_config Host of User's login
	// HostKeys are the server's public keys, ed25519 first, then ecdsa.
	HostKeys []ssh.PublicKey

	SFTPOnlyAlias string // ssh_config Host of the chrooted login
	ChrootDir     string // the chroot (root-owned); sessions start in ChrootDir/upload
	UploadDir     string // ChrootDir/upload, writable by SFTPOnlyUser

	cmd     *exec.Cmd
	exited  chan struct{}
	logFile string
}

// StartSSHD starts sshd (package openssh-server) for the test and stops
// it in t.Cleanup. It skips the test, or fails it under
// HBACKUP_REQUIRE_INTEGRATION=1, when sshd is not installed.
func StartSSHD(t testing.TB, opts SSHDOptions) *SSHD {
	t.Helper()
	if _, err := SSHDPath(); err != nil {
		skipMissing(t, "sshd", err)
	}
	if opts.SFTPOnly {
		RequireRoot(t)
	}
	dir, err := os.MkdirTemp("", "hbackup-sshd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	s, err := StartSSHDServer(t.Context(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("sshd log:\n%s", s.Log())
		}
	})
	return s
}

// StartSSHDServer starts sshd with its keys, configuration and client
// files in dir (created if needed; the caller removes it after Stop). It
// needs no root, except for SFTPOnly; as another user only that user can
// log in, as Alias. ctx bounds the start only: the server runs until Stop.
func StartSSHDServer(ctx context.Context, dir string, opts SSHDOptions) (*SSHD, error) {
	bin, err := SSHDPath()
	if err != nil {
		return nil, err
	}
	if opts.SFTPOnly && !IsRoot() {
		return nil, fmt.Errorf("sshd with an SFTP-only user needs root (running as uid %d)", os.Geteuid())
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("sshd directory: %w", err)
	}
	// The chrooted user reads authorized_keys from here.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("sshd directory: %w", err)
	}
	u, err := user.Current()
	if err != nil {
		return nil, fmt.Errorf("current user: %w", err)
	}
	s := &SSHD{Host: "127.0.0.1", User: u.Username, Dir: dir, Alias: "hbackup-sshd", logFile: filepath.Join(dir, "sshd.log")}
	if err := s.setup(ctx, bin, opts); err != nil {
		s.Stop() // removes the chroot too
		return nil, err
	}
	return s, nil
}

// setup writes the keys (and the chroot), starts sshd and writes the
// client files, which need its port.
func (s *SSHD) setup(ctx context.Context, bin string, opts SSHDOptions) error {
	if err := s.writeKeys(); err != nil {
		return fmt.Errorf("sshd keys: %w", err)
	}
	if opts.SFTPOnly {
		if err := s.setupChroot(); err != nil {
			return fmt.Errorf("sshd chroot: %w", err)
		}
	}
	if IsRoot() {
		// sshd's privilege separation directory, normally made by
		// the service unit.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			return fmt.Errorf("sshd privilege separation directory: %w", err)
		}
	}
	var err error
	for range 3 { // the free port may be taken before sshd binds it
		if err = s.start(ctx, bin); err == nil || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("start sshd: %w\nlog:\n%s", err, s.Log())
	}
	return s.writeClientFiles()
}

// SSHDPath finds sshd, which lives in /usr/sbin, often not in PATH.
func SSHDPath() (string, error) {
	if p, err := exec.LookPath("sshd"); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs, nil // sshd refuses to run from a relative path
		}
	}
	for _, p := range []string{"/usr/sbin/sshd", "/usr/local/sbin/sshd"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w in PATH, /usr/sbin or /usr/local/sbin", ErrSSHDNotFound)
}

// config is the sshd_config: keys only, no PAM, and the test's files.
func (s *SSHD) config() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Port %d\nListenAddress %s\n", s.Port, s.Host)
	fmt.Fprintf(&b, "HostKey %s\nHostKey %s\n", filepath.Join(s.Dir, "ssh_host_ed25519_key"), filepath.Join(s.Dir, "ssh_host_ecdsa_key"))
	fmt.Fprintf(&b, "PidFile %s\nAuthorizedKeysFile %s\n", filepath.Join(s.Dir, "sshd.pid"), filepath.Join(s.Dir, "authorized_keys"))
	// Without PAM, sshd refuses accounts whose password field marks
	// them locked, and run as a user it cannot read /etc/shadow to
	// tell: let PAM judge the account then. Root runs without PAM (its
	// session modules expect a real login).
	usePAM := "no"
	if !IsRoot() {
		usePAM = "yes"
	}
	fmt.Fprintf(&b, "StrictModes no\nUsePAM %s\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n", usePAM)
	b.WriteString("PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nLogLevel VERBOSE\n")
	b.WriteString("MaxStartups 100\nMaxSessions 100\nSubsystem sftp internal-sftp\n")
	if s.ChrootDir != "" {
		fmt.Fprintf(&b, "Match User %s\n  ChrootDirectory %s\n  ForceCommand internal-sftp -d /upload\n", SFTPOnlyUser, s.ChrootDir)
		b.WriteString("  AllowTcpForwarding no\n  X11Forwarding no\n")
	}
	return b.String()
}

// start picks a free port, starts sshd and waits for its banner.
func (s *SSHD) start(ctx context.Context, bin string) error {
	l, err := net.Listen("tcp", s.Host+":0")
	if err != nil {
		return fmt.Errorf("finding a free port: %w", err)
	}
	s.Port = l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cfg := filepath.Join(s.Dir, "sshd_config")
	if err := os.WriteFile(cfg, []byte(s.config()), 0o644); err != nil {
		return fmt.Errorf("writing sshd_config: %w", err)
	}
	logf, err := os.OpenFile(s.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening the sshd log: %w", err)
	}
	defer func() { _ = logf.Close() }() // sshd has its own descriptor
	// -D: stay in the foreground; -e: log to stderr. Not tied to ctx:
	// the server outlives the start, until Stop.
	cmd := exec.Command(bin, "-D", "-e", "-f", cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("running %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func(err error) error {
		_ = cmd.Process.Kill()
		<-exited
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("sshd exited at start (%v)", cmd.ProcessState)
		case <-ctx.Done():
			return stop(fmt.Errorf("waiting for sshd: %w", ctx.Err()))
		default:
		}
		if banner(s.Addr()) {
			s.cmd, s.exited = cmd, exited
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return stop(errors.New("sshd did not answer within 10s"))
}

// banner reports whether an SSH server answers at addr.
func banner(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 4)
	n, _ := c.Read(buf)
	return string(buf[:n]) == "SSH-"
}

// Addr is "127.0.0.1:port".
func (s *SSHD) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Log returns what sshd logged so far.
func (s *SSHD) Log() string {
	data, _ := os.ReadFile(s.logFile)
	return string(data)
}

// Stop kills the server and its sessions and removes the chroot; it is
// safe to call twice. Dir is left to whoever chose it.
func (s *SSHD) Stop() {
	if s.cmd != nil {
		_, _ = s.killSessions()
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	if s.ChrootDir != "" {
		_ = os.RemoveAll(s.ChrootDir)
	}
}
