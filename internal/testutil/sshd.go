package testutil

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// SFTPOnlyUser is the system account StartSSHD creates (as root) for the
// chrooted, SFTP-only login.
const SFTPOnlyUser = "hbsftp"

// SSHDOptions configures StartSSHD.
type SSHDOptions struct {
	// SFTPOnly adds SFTPOnlyUser, locked into a chroot with
	// "ForceCommand internal-sftp". It needs root: without it the test
	// is skipped.
	SFTPOnly bool
}

// SSHD is a real OpenSSH server on 127.0.0.1, with generated host and
// user keys, and the client files to reach it: a known_hosts file and an
// ssh_config defining the host aliases Alias and (with SFTPOnly)
// SFTPOnlyAlias. It runs until the test ends.
type SSHD struct {
	Host string // "127.0.0.1"
	Port int
	User string // the login of Alias: the user running the test
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
	bin := sshdPath(t)
	if opts.SFTPOnly {
		RequireRoot(t)
	}
	dir, err := os.MkdirTemp("", "hbackup-sshd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	// The chrooted user reads authorized_keys from here.
	sshdMust(t, os.Chmod(dir, 0o755))
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	s := &SSHD{Host: "127.0.0.1", User: u.Username, Dir: dir, Alias: "hbackup-sshd", logFile: filepath.Join(dir, "sshd.log")}
	s.writeKeys(t)
	if opts.SFTPOnly {
		s.setupChroot(t)
	}
	if IsRoot() {
		// sshd's privilege separation directory, normally made by
		// the service unit.
		sshdMust(t, os.MkdirAll("/run/sshd", 0o755))
	}
	var lastErr error
	for range 3 { // the free port may be taken before sshd binds it
		if lastErr = s.start(bin); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("start sshd: %v\nlog:\n%s", lastErr, s.Log())
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("sshd log:\n%s", s.Log())
		}
	})
	s.writeClientFiles(t)
	return s
}

// sshdPath finds sshd, which lives in /usr/sbin, often not in PATH.
func sshdPath(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("sshd"); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs // sshd refuses to run from a relative path
		}
	}
	for _, p := range []string{"/usr/sbin/sshd", "/usr/local/sbin/sshd"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return RequireBinary(t, "sshd") // skips, or fails when required
}

func sshdMust(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// writeKeys generates the host keys, the user key and authorized_keys.
func (s *SSHD) writeKeys(t testing.TB) {
	t.Helper()
	_, edHost, err := ed25519.GenerateKey(rand.Reader)
	sshdMust(t, err)
	ecHost, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sshdMust(t, err)
	_, client, err := ed25519.GenerateKey(rand.Reader)
	sshdMust(t, err)
	for _, k := range []struct {
		name string
		key  crypto.Signer
	}{{"ssh_host_ed25519_key", edHost}, {"ssh_host_ecdsa_key", ecHost}} {
		pub := writePrivateKey(t, filepath.Join(s.Dir, k.name), k.key)
		s.HostKeys = append(s.HostKeys, pub)
	}
	s.ClientKeyFile = filepath.Join(s.Dir, "id_ed25519")
	pub := writePrivateKey(t, s.ClientKeyFile, client)
	sshdMust(t, os.WriteFile(filepath.Join(s.Dir, "authorized_keys"), ssh.MarshalAuthorizedKey(pub), 0o644))
}

// writePrivateKey writes key in OpenSSH format (mode 0600, as ssh and sshd
// demand) and its ".pub" file, and returns the public key.
func writePrivateKey(t testing.TB, path string, key crypto.Signer) ssh.PublicKey {
	t.Helper()
	block, err := ssh.MarshalPrivateKey(key, "hbackup-test")
	sshdMust(t, err)
	sshdMust(t, os.WriteFile(path, pem.EncodeToMemory(block), 0o600))
	pub, err := ssh.NewPublicKey(key.Public())
	sshdMust(t, err)
	sshdMust(t, os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(pub), 0o644))
	return pub
}

// setupChroot creates SFTPOnlyUser if needed and the chroot. sshd wants
// every component of the chroot path root-owned and writable by nobody
// else, which rules out anything under /tmp.
func (s *SSHD) setupChroot(t testing.TB) {
	t.Helper()
	uid, gid := ensureSFTPUser(t)
	root, err := os.MkdirTemp("/var/lib", "hbackup-sshd-chroot-")
	sshdMust(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(root) })
	sshdMust(t, os.Chmod(root, 0o755))
	s.ChrootDir = root
	s.UploadDir = filepath.Join(root, "upload")
	sshdMust(t, os.Mkdir(s.UploadDir, 0o755))
	sshdMust(t, os.Chown(s.UploadDir, uid, gid))
	s.SFTPOnlyAlias = "hbackup-sftponly"
}

// ensureSFTPUser creates SFTPOnlyUser once per machine and returns its
// ids. Its password field is "*" (no password, but not locked: sshd
// without PAM refuses locked accounts even for key logins).
func ensureSFTPUser(t testing.TB) (uid, gid int) {
	t.Helper()
	if _, err := user.Lookup(SFTPOnlyUser); err != nil {
		out, err := exec.Command("useradd", "-M", "-d", "/upload", "-s", "/usr/sbin/nologin", "-p", "*", SFTPOnlyUser).CombinedOutput()
		var ee *exec.ExitError
		// Exit code 9: created meanwhile by a test running in parallel.
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 9) {
			t.Fatalf("useradd %s: %v\n%s", SFTPOnlyUser, err, out)
		}
	}
	u, err := user.Lookup(SFTPOnlyUser)
	sshdMust(t, err)
	uid, err = strconv.Atoi(u.Uid)
	sshdMust(t, err)
	gid, err = strconv.Atoi(u.Gid)
	sshdMust(t, err)
	return uid, gid
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
func (s *SSHD) start(bin string) error {
	l, err := net.Listen("tcp", s.Host+":0")
	if err != nil {
		return err
	}
	s.Port = l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cfg := filepath.Join(s.Dir, "sshd_config")
	if err := os.WriteFile(cfg, []byte(s.config()), 0o644); err != nil {
		return err
	}
	logf, err := os.OpenFile(s.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer func() { _ = logf.Close() }() // sshd has its own descriptor
	// -D: stay in the foreground; -e: log to stderr.
	cmd := exec.Command(bin, "-D", "-e", "-f", cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("sshd exited at start (%v)", cmd.ProcessState)
		default:
		}
		if banner(s.Addr()) {
			s.cmd, s.exited = cmd, exited
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	<-exited
	return errors.New("sshd did not answer within 10s")
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

// writeClientFiles writes known_hosts and the ssh_config.
func (s *SSHD) writeClientFiles(t testing.TB) {
	t.Helper()
	var kh bytes.Buffer
	for _, k := range s.HostKeys {
		fmt.Fprintf(&kh, "[%s]:%d %s", s.Host, s.Port, ssh.MarshalAuthorizedKey(k))
	}
	s.KnownHostsFile = filepath.Join(s.Dir, "known_hosts")
	sshdMust(t, os.WriteFile(s.KnownHostsFile, kh.Bytes(), 0o600))
	s.SSHConfigFile = filepath.Join(s.Dir, "ssh_config")
	cfg := s.hostBlock(s.Alias, s.User)
	if s.SFTPOnlyAlias != "" {
		cfg += s.hostBlock(s.SFTPOnlyAlias, SFTPOnlyUser)
	}
	sshdMust(t, os.WriteFile(s.SSHConfigFile, []byte(cfg), 0o600))
}

// hostBlock is an ssh_config Host entry for a login to this server that
// needs nothing from the user's own ssh setup.
func (s *SSHD) hostBlock(alias, login string) string {
	return fmt.Sprintf("Host %s\n  HostName %s\n  Port %d\n  User %s\n  IdentityFile %s\n  IdentitiesOnly yes\n"+
		"  UserKnownHostsFile %s\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n  BatchMode yes\n",
		alias, s.Host, s.Port, login, s.ClientKeyFile, s.KnownHostsFile)
}

// Addr is "127.0.0.1:port".
func (s *SSHD) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// SFTPCommand is a command for restic's -o sftp.command that reaches the
// server as alias with the system ssh, using only the test's files.
func (s *SSHD) SFTPCommand(alias string) string {
	return fmt.Sprintf("ssh -F %s %s -s sftp", s.SSHConfigFile, alias)
}

// WriteHome installs the client files as home/.ssh/config and
// home/.ssh/known_hosts, for programs that read them from $HOME.
func (s *SSHD) WriteHome(t testing.TB, home string) {
	t.Helper()
	sshDir := filepath.Join(home, ".ssh")
	sshdMust(t, os.MkdirAll(sshDir, 0o700))
	for src, dst := range map[string]string{s.SSHConfigFile: "config", s.KnownHostsFile: "known_hosts"} {
		data, err := os.ReadFile(src)
		sshdMust(t, err)
		sshdMust(t, os.WriteFile(filepath.Join(sshDir, dst), data, 0o600))
	}
}

// Log returns what sshd logged so far.
func (s *SSHD) Log() string {
	data, _ := os.ReadFile(s.logFile)
	return string(data)
}

// KillSessions kills (SIGKILL) every process sshd started to serve a
// connection, as a crash or a network failure would end them. The server
// keeps listening. It returns how many processes it killed.
func (s *SSHD) KillSessions(t testing.TB) int {
	t.Helper()
	pids, err := descendants(s.cmd.Process.Pid)
	if err != nil {
		t.Fatalf("find sshd sessions: %v", err)
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL) // may have exited already
	}
	return len(pids)
}

// Stop kills the server and its sessions; it is safe to call twice.
func (s *SSHD) Stop() {
	if s.cmd == nil {
		return
	}
	if pids, err := descendants(s.cmd.Process.Pid); err == nil {
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// descendants lists the processes below pid, from /proc (Linux).
func descendants(pid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	children := make(map[int][]int)
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		// The command name in parentheses may hold spaces: the
		// fields after the last ')' are state, then ppid.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 {
			continue
		}
		ppid, err := strconv.Atoi(fields[1])
		if err == nil {
			children[ppid] = append(children[ppid], p)
		}
	}
	var out []int
	queue := children[pid]
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		out = append(out, p)
		queue = append(queue, children[p]...)
	}
	return out, nil
}
