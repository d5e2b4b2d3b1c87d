package testutil

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/ssh"
)

// writeClientFiles writes known_hosts and the ssh_config.
func (s *SSHD) writeClientFiles() error {
	var kh bytes.Buffer
	for _, k := range s.HostKeys {
		fmt.Fprintf(&kh, "[%s]:%d %s", s.Host, s.Port, ssh.MarshalAuthorizedKey(k))
	}
	s.KnownHostsFile = filepath.Join(s.Dir, "known_hosts")
	if err := os.WriteFile(s.KnownHostsFile, kh.Bytes(), 0o600); err != nil {
		return fmt.Errorf("writing known_hosts: %w", err)
	}
	s.SSHConfigFile = filepath.Join(s.Dir, "ssh_config")
	cfg := s.hostBlock(s.Alias, s.User)
	if s.SFTPOnlyAlias != "" {
		cfg += s.hostBlock(s.SFTPOnlyAlias, SFTPOnlyUser)
	}
	if err := os.WriteFile(s.SSHConfigFile, []byte(cfg), 0o600); err != nil {
		return fmt.Errorf("writing ssh_config: %w", err)
	}
	return nil
}

// hostBlock is an ssh_config Host entry for a login to this server that
// needs nothing from the user's own ssh setup.
func (s *SSHD) hostBlock(alias, login string) string {
	return fmt.Sprintf("Host %s\n  HostName %s\n  Port %d\n  User %s\n  IdentityFile %s\n  IdentitiesOnly yes\n"+
		"  UserKnownHostsFile %s\n  GlobalKnownHostsFile /dev/null\n  StrictHostKeyChecking yes\n  BatchMode yes\n",
		alias, s.Host, s.Port, login, s.ClientKeyFile, s.KnownHostsFile)
}

// SFTPCommand is a command for restic's -o sftp.command that reaches the
// server as alias with the system ssh, using only the server's files.
func (s *SSHD) SFTPCommand(alias string) string {
	return fmt.Sprintf("ssh -F %s %s -s sftp", s.SSHConfigFile, alias)
}

// WriteHome installs the client files as home/.ssh/config and
// home/.ssh/known_hosts, for programs that read them from $HOME.
func (s *SSHD) WriteHome(t testing.TB, home string) {
	t.Helper()
	if err := s.WriteHomeFiles(home); err != nil {
		t.Fatal(err)
	}
}

// WriteHomeFiles is WriteHome outside tests. The system ssh ignores
// $HOME (it takes ~ from the passwd entry): give it the file with -F.
func (s *SSHD) WriteHomeFiles(home string) error {
	sshDir := filepath.Join(home, ".ssh")
	if err := os.MkdirAll(sshDir, 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", sshDir, err)
	}
	for src, dst := range map[string]string{s.SSHConfigFile: "config", s.KnownHostsFile: "known_hosts"} {
		data, err := os.ReadFile(src)
		if err != nil {
			return fmt.Errorf("reading the client files: %w", err)
		}
		if err := os.WriteFile(filepath.Join(sshDir, dst), data, 0o600); err != nil {
			return fmt.Errorf("writing %s: %w", dst, err)
		}
	}
	return nil
}
