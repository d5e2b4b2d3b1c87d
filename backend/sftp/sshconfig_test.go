package sftp

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hbackup/hbackup/backend"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestGlobMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "anything", true},
		{"*", "", true},
		{"nas", "nas", true},
		{"nas", "nas2", false},
		{"nas?", "nas2", true},
		{"nas?", "nas", false},
		{"*.example.org", "a.example.org", true},
		{"*.example.org", "example.org", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"10.0.0.?", "10.0.0.7", true},
	} {
		if got := globMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.pattern, tc.s, got)
		}
	}
}

func TestSSHConfigLookup(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	writeFile(t, filepath.Join(home, ".ssh", "extra.conf"), `
Host included
  HostName included.example.org
`)
	writeFile(t, filepath.Join(home, ".ssh", "config"), `
# Global settings come first and apply to every host.
IdentityFile ~/.ssh/global_key

Host nas nas-alt
    HostName 192.168.1.10
    User backup
    Port 2222
    IdentityFile ~/.ssh/nas_%r

Host nas
    # First value wins: this Port is ignored.
    Port 3333
    User ignored

Host *.lan !bad.lan
    User lanuser

Host=eq
    HostName = eq.example.org

Match host nas exec "false"
    User from-match

Host "quoted"
    Port 2200

Include extra.conf

Host *
    User fallback
    UserKnownHostsFile ~/.ssh/kh1 ~/.ssh/kh2
`)
	sc, err := loadSSHConfig("", home)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		host, key, want string
	}{
		{"nas", "hostname", "192.168.1.10"},
		{"nas", "user", "backup"},
		{"nas", "port", "2222"},
		{"nas-alt", "port", "2222"},
		{"NAS", "user", "backup"}, // host names match case-insensitively
		{"pi.lan", "user", "lanuser"},
		{"bad.lan", "user", "fallback"},
		{"eq", "hostname", "eq.example.org"},
		{"quoted", "port", "2200"},
		{"included", "hostname", "included.example.org"},
		{"other", "hostname", ""},
		{"other", "user", "fallback"},
	} {
		if got := sc.lookup(tc.host).get(tc.key); got != tc.want {
			t.Errorf("%s: %s = %q, want %q", tc.host, tc.key, got, tc.want)
		}
	}
	hs := sc.lookup("nas")
	if want := []string{"~/.ssh/global_key", "~/.ssh/nas_%r"}; !slices.Equal(hs.identityFiles, want) {
		t.Errorf("nas: IdentityFile = %q, want %q (accumulated)", hs.identityFiles, want)
	}
	if got := hs.values["userknownhostsfile"]; len(got) != 2 {
		t.Errorf("UserKnownHostsFile = %q, want two files", got)
	}
}

func TestResolve(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	writeFile(t, filepath.Join(home, ".ssh", "config"), `
Host nas
    HostName 192.168.1.10
    User backup
    Port 2222
    IdentityFile ~/.ssh/nas_%r_%h
    UserKnownHostsFile ~/kh
`)
	ep, err := resolve(Config{Host: "nas", Path: "repo"})
	if err != nil {
		t.Fatal(err)
	}
	if ep.hostname != "192.168.1.10" || ep.user != "backup" || ep.port != "2222" {
		t.Errorf("resolved %+v", ep)
	}
	wantID := filepath.Join(home, ".ssh", "nas_backup_192.168.1.10")
	if len(ep.identities) != 1 || ep.identities[0].path != wantID {
		t.Errorf("identities %+v, want %s", ep.identities, wantID)
	}
	if len(ep.knownHosts) == 0 || ep.knownHosts[0] != filepath.Join(home, "kh") {
		t.Errorf("known hosts %q, want %s first", ep.knownHosts, filepath.Join(home, "kh"))
	}

	// The URL's user and port win over the ssh config.
	ep, err = resolve(Config{Host: "nas", User: "root", Port: 22, Path: "repo"})
	if err != nil {
		t.Fatal(err)
	}
	if ep.user != "root" || ep.port != "22" {
		t.Errorf("URL values lost: %+v", ep)
	}

	// A host behind a jump host is left to the system ssh.
	writeFile(t, filepath.Join(home, ".ssh", "config"), "Host inner\n  ProxyJump bastion\n")
	ep, err = resolve(Config{Host: "inner", User: "u", Path: "repo"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ssh", "-l", "u", "inner", "-s", "sftp"}; !slices.Equal(ep.command, want) {
		t.Errorf("ProxyJump host: command %q, want %q", ep.command, want)
	}

	// Without configuration: the host as given, port 22, default keys.
	ep, err = resolve(Config{Host: "plain.example.org", Path: "repo"})
	if err != nil {
		t.Fatal(err)
	}
	if ep.hostname != "plain.example.org" || ep.port != "22" || ep.user != localUser() {
		t.Errorf("defaults: %+v", ep)
	}
	if len(ep.identities) != 3 || ep.identities[0].path != filepath.Join(home, ".ssh", "id_ed25519") {
		t.Errorf("default identities: %+v", ep.identities)
	}
}

// An alias in ~/.ssh/config supplies host name, user, port and key.
func TestSSHConfigAliasLogin(t *testing.T) {
	s := startSSHD(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	key, err := os.ReadFile(s.ClientKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(home, ".ssh", "backup_key"), string(key))
	known, err := os.ReadFile(s.KnownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(home, ".ssh", "known_hosts"), string(known))
	writeFile(t, filepath.Join(home, ".ssh", "config"), fmt.Sprintf(`
Host my-nas
    HostName %s
    User %s
    Port %d
    IdentityFile ~/.ssh/backup_key
`, s.Host, s.User, s.Port))

	dir := filepath.Join(t.TempDir(), "repo")
	be, err := New(t.Context(), Config{Host: "my-nas", Path: dir})
	if err != nil {
		t.Fatalf("New via the alias: %v", err)
	}
	defer func() { _ = be.Close() }()
	if err := be.Create(t.Context()); err != nil {
		t.Fatal(err)
	}
	save(t, be, backend.Handle{Type: backend.KeyFile, Name: "k"}, []byte("key"))
	if _, err := os.Stat(filepath.Join(dir, "keys", "k")); err != nil {
		t.Fatalf("the file did not arrive: %v", err)
	}
	if got, want := be.Location(), "sftp:my-nas:"+dir; got != want {
		t.Errorf("Location() = %q, want %q", got, want)
	}
}
