package sftp

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func writeKnownHosts(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUnknownHostKeyRejected(t *testing.T) {
	s := startSSHD(t)
	for name, files := range map[string][]string{
		"no file":       {filepath.Join(t.TempDir(), "missing")},
		"other host":    {writeKnownHosts(t, fmt.Sprintf("[%s]:%d %s", "10.0.0.1", s.Port, ssh.MarshalAuthorizedKey(s.HostKeys[0])))},
		"empty file":    {writeKnownHosts(t, "# nothing")},
		"no files even": nil,
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(s, "repo")
			cfg.KnownHostsFiles = files
			if files == nil {
				// Defaults: ~/.ssh/known_hosts of an empty home.
				t.Setenv("HOME", t.TempDir())
			}
			_, err := New(t.Context(), cfg)
			if !errors.Is(err, ErrUnknownHostKey) {
				t.Fatalf("New: got %v, want ErrUnknownHostKey", err)
			}
			for _, want := range []string{
				fmt.Sprintf("ssh-keyscan -p %d 127.0.0.1 >> ", s.Port),
				"SHA256:",
				"not in known_hosts",
				"never accepts unknown host keys",
			} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestChangedHostKeyRejected(t *testing.T) {
	t.Parallel()
	s := startSSHD(t)
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	known := writeKnownHosts(t, fmt.Sprintf("[127.0.0.1]:%d %s", s.Port, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(other)))))
	cfg := testConfig(s, "repo")
	cfg.KnownHostsFiles = []string{known}
	_, err = New(t.Context(), cfg)
	if !errors.Is(err, ErrHostKeyChanged) {
		t.Fatalf("New: got %v, want ErrHostKeyChanged", err)
	}
	for _, want := range []string{"has changed", ssh.FingerprintSHA256(other), "ssh-keygen -R", known} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

// A server with several host keys must be asked for a key of the type
// known_hosts holds; any other would look like a changed key.
func TestKnownKeyOfOneTypeOnly(t *testing.T) {
	t.Parallel()
	s := startSSHD(t)
	for _, k := range s.HostKeys {
		t.Run(k.Type(), func(t *testing.T) {
			cfg := testConfig(s, filepath.Join(t.TempDir(), "repo"))
			cfg.KnownHostsFiles = []string{writeKnownHosts(t,
				fmt.Sprintf("[127.0.0.1]:%d %s", s.Port, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))))}
			be, err := New(t.Context(), cfg)
			if err != nil {
				t.Fatalf("New with only the %s key known: %v", k.Type(), err)
			}
			_ = be.Close()
		})
	}
}

func TestHashedKnownHosts(t *testing.T) {
	t.Parallel()
	s := startSSHD(t)
	line := fmt.Sprintf("%s %s", knownhosts.HashHostname(fmt.Sprintf("[127.0.0.1]:%d", s.Port)), ssh.MarshalAuthorizedKey(s.HostKeys[0]))
	cfg := testConfig(s, filepath.Join(t.TempDir(), "repo"))
	cfg.KnownHostsFiles = []string{writeKnownHosts(t, strings.TrimSpace(line))}
	be, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New with a hashed known_hosts entry: %v", err)
	}
	_ = be.Close()
}
