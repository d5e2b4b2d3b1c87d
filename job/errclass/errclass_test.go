package errclass

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"regexp"
	"syscall"
	"testing"

	"github.com/hbackup/hbackup/repo"
)

func TestClassifyText(t *testing.T) {
	c := New(nil, Options{})
	cases := []struct {
		msg  string
		want Category
	}{
		// hbackup's own messages
		{"repository is already locked: exclusive lock by root@nas (PID 4242) (lock 3f2a9c1d); if the process is gone, remove the lock with `unlock`", Lock},
		{"wrong password or no key found", Authentication},
		{"integrity check failed: pack 1a2b3c4d: content does not match its name (file damaged or truncated)", RepositoryDamage},
		{"integrity check failed: blob 5e6f7a8b in pack 1a2b3c4d: content does not match its ID", RepositoryDamage},
		{"check: pack 1a2b3c4d: pack content does not match its ID", RepositoryDamage},
		{"repository does not exist: /srv/restic", Configuration},
		{"b2: authentication failed: 401 bad_auth_token (check B2_ACCOUNT_ID, B2_ACCOUNT_KEY and the key's bucket)", Authentication},
		{"b2: B2 cap exceeded: storage_cap_exceeded (raise the cap in the B2 account settings)", Storage},
		{"rest: authentication failed (check the user and password)", Authentication},
		{"rest: forbidden by the server: 403 Forbidden", Permission},
		{"sftp: connection lost again after reconnecting: EOF", Network},
		{"sftp: host key changed for nas.example.org", Authentication},
		{"sftp: unknown host key for backup.example.org:22", Configuration},
		{"save data/1a/1a2b: gave up after 10 attempts: 503 Service Unavailable", Network},
		{"backup written, but some files could not be read (3 files or directories skipped)", SourceRead},
		// the operating system
		{"open /srv/restic/data/1a/1a2b3c.tmp: no space left on device", Storage},
		{"write /backup/repo/index/abc: disk quota exceeded", Storage},
		{"mkdir /mnt/usb/restic/locks: read-only file system", Storage},
		{"open /home/alice/.ssh/id_ed25519: permission denied", Permission},
		{"lchown /restore/etc/shadow: operation not permitted", Permission},
		// ssh
		{"ssh: connect to host nas.example.org port 22: Connection refused", Network},
		{"ssh: connect to host 192.0.2.7 port 22: No route to host", Network},
		{"ssh: Could not resolve hostname nas.lan: Name or service not known", Network},
		{"backup@nas.example.org: Permission denied (publickey,password).", Authentication},
		{"kex_exchange_identification: read: Connection reset by peer", Network},
		{"ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain", Authentication},
		// restic and HTTP
		{"Fatal: unable to open config file: stat /srv/restic/config: no such file or directory\nIs there a repository at the following location?", Configuration},
		{"unable to create lock in backend: repository is already locked exclusively by PID 1234 on nas by root (UID 0, GID 0)", Lock},
		{"Fatal: wrong password or no key found", Authentication},
		{`Get "https://api.backblazeb2.com/b2api/v2/b2_authorize_account": dial tcp: lookup api.backblazeb2.com: no such host`, Network},
		{`Post "https://ntfy.sh/backups": net/http: TLS handshake timeout`, Network},
		{"read tcp 10.0.0.2:51234->10.0.0.9:8000: i/o timeout", Network},
		{"write tcp 10.0.0.2:51234->10.0.0.9:8000: write: broken pipe", Network},
		{"b2_upload_file: 429 too many requests", Network},
		{"Fatal: repository contains errors", RepositoryDamage},
		{"ciphertext verification failed", RepositoryDamage},
		// hooks and the rest
		{"pre_backup hook: exit status 1", Hook},
		{"on_failure: signal: killed", Hook},
		{"backup interrupted", Interrupted},
		{"something nobody has seen before", Unknown},
	}
	for _, tc := range cases {
		got := c.ClassifyText(tc.msg)
		if got.Category != tc.want {
			t.Errorf("%q: %s (rule %q), want %s", tc.msg, got.Category, got.Matched, tc.want)
		}
		if got.Message != tc.msg {
			t.Errorf("%q: Message = %q", tc.msg, got.Message)
		}
	}
}

func TestConsequences(t *testing.T) {
	c := New(nil, Options{})
	for _, tc := range []struct {
		msg                   string
		sev                   Severity
		actionable, retryable bool
	}{
		{"dial tcp 10.0.0.9:22: connect: connection refused", Warning, false, true},
		{"write /repo/data/x: no space left on device", Critical, true, false},
		{"repository is already locked", Warning, false, true},
		{"integrity check failed", Critical, true, false},
		{"wrong password or no key found", Critical, true, false},
		{"open /etc/shadow: permission denied", Error, true, false},
		{"pre_backup hook: exit status 2", Error, true, false},
		{"a brand new failure", Error, true, false},
	} {
		r := c.ClassifyText(tc.msg)
		if r.Severity != tc.sev || r.Actionable != tc.actionable || r.Retryable != tc.retryable || r.Advice == "" {
			t.Errorf("%q: %+v, want severity %s actionable %v retryable %v with advice", tc.msg, r, tc.sev, tc.actionable, tc.retryable)
		}
	}
}

func TestClassifyStructural(t *testing.T) {
	c := New(nil, Options{})
	dnsErr := &net.DNSError{Err: "server misbehaving", Name: "nas.lan"}
	for _, tc := range []struct {
		err  error
		want Category
	}{
		// Wrapped sentinels win over words in the message.
		{fmt.Errorf("open repository at /srv/x: %w", repo.ErrLocked), Lock},
		{fmt.Errorf("opening: %w", repo.ErrWrongPassword), Authentication},
		{fmt.Errorf("snapshot 1a2b: %w", repo.ErrIntegrity), RepositoryDamage},
		{fmt.Errorf("opening /srv/x: %w", repo.ErrNoRepository), Configuration},
		{&fs.PathError{Op: "write", Path: "/repo/data/1a", Err: syscall.ENOSPC}, Storage},
		{&fs.PathError{Op: "write", Path: "/repo/data/1a", Err: syscall.EDQUOT}, Storage},
		{&fs.PathError{Op: "open", Path: "/etc/shadow", Err: syscall.EACCES}, Permission},
		{fmt.Errorf("connecting: %w", dnsErr), Network},
		{fmt.Errorf("upload: %w", context.DeadlineExceeded), Network},
		{fmt.Errorf("backup: %w", context.Canceled), Interrupted},
		{os.ErrDeadlineExceeded, Network},
	} {
		got := c.Classify(tc.err)
		if got.Category != tc.want || got.Message != tc.err.Error() || got.Matched == "" {
			t.Errorf("%v: %+v, want %s", tc.err, got, tc.want)
		}
	}
	if r := c.Classify(nil); r.Category != Unknown || r.Severity != Info {
		t.Errorf("nil: %+v", r)
	}
}

func TestUserRules(t *testing.T) {
	user := []Rule{
		// Overrides a default: this site's NAS refusing connections means
		// it is asleep, which a person has to fix.
		{Pattern: regexp.MustCompile(`nas\.lan.*connection refused`), Category: "nas_asleep", Severity: Critical, Actionable: true},
		// Extends: a category of its own.
		{Pattern: regexp.MustCompile(`pg_dump: error`), Category: "database_dump", Severity: Error, Actionable: true, Retryable: true},
		// Beats structural checks too: user rules go first.
		{Pattern: regexp.MustCompile(`lock held by maintenance`), Category: "maintenance", Severity: Info, Retryable: true},
	}
	c := New(user, Options{})
	for msg, want := range map[string]Category{
		"dial tcp nas.lan:22: connection refused":                      "nas_asleep",
		"dial tcp offsite.org:22: connection refused":                  Network,
		"pre_backup hook: pg_dump: error: connection to server failed": "database_dump",
	} {
		if got := c.ClassifyText(msg); got.Category != want {
			t.Errorf("%q: %s, want %s", msg, got.Category, want)
		}
	}
	err := fmt.Errorf("lock held by maintenance: %w", repo.ErrLocked)
	if got := c.Classify(err); got.Category != "maintenance" || got.Severity != Info || !got.Retryable {
		t.Errorf("user rule did not win over the structural check: %+v", got)
	}

	only := New(user[:1], Options{DisableDefaults: true})
	if got := only.Classify(fmt.Errorf("x: %w", repo.ErrLocked)); got.Category != Unknown {
		t.Errorf("DisableDefaults still classified: %+v", got)
	}
	if got := only.ClassifyText("no space left on device"); got.Category != Unknown {
		t.Errorf("DisableDefaults still classified: %+v", got)
	}
}

func TestDefaultRulesAreFresh(t *testing.T) {
	a := DefaultRules()
	a[0].Category = "tampered"
	if b := DefaultRules(); b[0].Category == "tampered" {
		t.Error("DefaultRules shares state between calls")
	}
}
