package interop_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hbackup/hbackup/internal/testutil"
)

// sftpSetup starts sshd and returns an hbackup for the repository at
// path on it (reached as alias, through its native SSH client reading a
// temporary $HOME/.ssh) and a restic for the same repository (through
// the system ssh, with -o sftp.command).
func sftpSetup(t *testing.T, s *testutil.SSHD, alias, path string) (*hbackup, *testutil.Restic, []string) {
	t.Helper()
	testutil.RequireBinary(t, "ssh") // restic's transport
	home := t.TempDir()
	s.WriteHome(t, home)
	url := "sftp:" + alias + ":" + path
	hb := newHbackup(url)
	hb.env = []string{"HOME=" + home, "SSH_AUTH_SOCK="}
	restic := testutil.NewRestic(t, url, "geheim")
	return hb, restic, []string{"-o", "sftp.command=" + s.SFTPCommand(alias)}
}

// TestSftpHbackupWritesResticReads: hbackup backs up over SFTP, then
// restic checks every byte and restores over SFTP, and so does hbackup.
func TestSftpHbackupWritesResticReads(t *testing.T) {
	s := testutil.StartSSHD(t, testutil.SSHDOptions{})
	base := t.TempDir()
	src := filepath.Join(base, "src")
	info := testutil.MakeTestTree(t, src, testutil.TreeOptions{Seed: 31, Special: true})
	repoDir := filepath.Join(base, "repo")
	hb, restic, viaSSH := sftpSetup(t, s, s.Alias, repoDir)

	hb.run(t, "init")
	sum := hb.backupJSON(t, "-o", "sftp.connections=3", "--tag", "sftp", src)
	if sum["files_new"].(float64) == 0 {
		t.Fatalf("backup stored no files: %v", sum)
	}
	fi, err := os.Stat(filepath.Join(repoDir, "config"))
	if err != nil || fi.Mode().Perm() != 0o400 {
		t.Errorf("config over SFTP: %v, %v; want mode 0400", fi, err)
	}

	out := restic.Run(t, append(viaSSH, "check", "--read-data")...)
	if !strings.Contains(string(out), "no errors were found") {
		t.Fatalf("restic check over SFTP did not report success:\n%s", out)
	}
	opt := testutil.CompareOptions{Owner: info.Chown, Xattrs: info.Xattrs}
	resticTarget := filepath.Join(base, "restic-restored")
	restic.Run(t, append(viaSSH, "restore", "latest", "--target", resticTarget)...)
	compareRestored(t, restic, src, filepath.Join(resticTarget, src), opt)

	hbTarget := filepath.Join(base, "hbackup-restored")
	hb.run(t, "restore", "latest", "--target", hbTarget, "--verify")
	compareRestored(t, restic, src, filepath.Join(hbTarget, src), opt)

	// Nothing changed: the second backup adds no data.
	sum = hb.backupJSON(t, src)
	if sum["data_blobs"].(float64) != 0 || sum["files_new"].(float64) != 0 {
		t.Errorf("unchanged second backup over SFTP: %v", sum)
	}
}

// TestSftpResticWritesHbackupReads: restic backs up over SFTP, hbackup
// lists and restores over SFTP.
func TestSftpResticWritesHbackupReads(t *testing.T) {
	s := testutil.StartSSHD(t, testutil.SSHDOptions{})
	base := t.TempDir()
	src := filepath.Join(base, "src")
	info := testutil.MakeTestTree(t, src, testutil.TreeOptions{Seed: 32, Special: true})
	hb, restic, viaSSH := sftpSetup(t, s, s.Alias, filepath.Join(base, "repo"))

	restic.Run(t, append(viaSSH, "init")...)
	restic.Run(t, append(viaSSH, "backup", "--tag", "fromrestic", src)...)

	var sns []map[string]any
	if err := json.Unmarshal(hb.run(t, "snapshots", "--json"), &sns); err != nil {
		t.Fatal(err)
	}
	if len(sns) != 1 || sns[0]["tags"].([]any)[0] != "fromrestic" {
		t.Fatalf("hbackup snapshots --json over SFTP: %v", sns)
	}
	target := filepath.Join(base, "restored")
	hb.run(t, "restore", "latest", "--target", target, "--verify")
	compareRestored(t, restic, src, filepath.Join(target, src), testutil.CompareOptions{
		Owner: info.Chown, Xattrs: info.Xattrs,
	})

	// hbackup through the system ssh too, as restic's option says.
	out := hb.run(t, append(viaSSH, "snapshots", "--json")...)
	if !strings.Contains(string(out), "fromrestic") {
		t.Errorf("snapshots through -o sftp.command: %s", out)
	}
	if _, stderr, code := hb.runErr("-o", "sftp.bogus=1", "snapshots"); code == 0 || !strings.Contains(string(stderr), "sftp.bogus") {
		t.Errorf("unknown sftp option: exit %d, %s", code, stderr)
	}
}

// TestSftpOnlyChrootRelativePath: the NAS case, an SFTP-only chrooted
// account and a repository path relative to where its session starts
// (sftp:truenas-backup:hass).
func TestSftpOnlyChrootRelativePath(t *testing.T) {
	s := testutil.StartSSHD(t, testutil.SSHDOptions{SFTPOnly: true}) // skips unless root
	base := t.TempDir()
	src := filepath.Join(base, "src")
	testutil.MakeTestTree(t, src, testutil.TreeOptions{Seed: 33, NoUnreadable: true})
	hb, restic, viaSSH := sftpSetup(t, s, s.SFTPOnlyAlias, "hass")

	hb.run(t, "init")
	hb.backupJSON(t, src)
	if _, err := os.Stat(filepath.Join(s.UploadDir, "hass", "config")); err != nil {
		t.Fatalf("the repository is not in the account's directory: %v", err)
	}
	out := restic.Run(t, append(viaSSH, "check", "--read-data")...)
	if !strings.Contains(string(out), "no errors were found") {
		t.Fatalf("restic check over SFTP did not report success:\n%s", out)
	}
	target := filepath.Join(base, "restored")
	restic.Run(t, append(viaSSH, "restore", "latest", "--target", target)...)
	compareRestored(t, restic, src, filepath.Join(target, src), testutil.CompareOptions{})
}

// TestSftpConnectionKilledMidBackup: the SSH connection dies while packs
// are being uploaded; hbackup reconnects, the backup completes, and
// restic fully accepts the repository.
func TestSftpConnectionKilledMidBackup(t *testing.T) {
	s := testutil.StartSSHD(t, testutil.SSHDOptions{})
	base := t.TempDir()
	src := filepath.Join(base, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		testutil.WriteRandomFile(t, filepath.Join(src, fmt.Sprintf("f%d", i)), 8<<20, int64(100+i))
	}
	repoDir := filepath.Join(base, "repo")
	hb, restic, viaSSH := sftpSetup(t, s, s.Alias, repoDir)
	hb.run(t, "init")

	cmd := exec.Command(hbackupBin, "-r", hb.repo, "backup", "--json", src)
	cmd.Env = append(append(cleanEnv(), "RESTIC_PASSWORD="+hb.password), hb.env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill the connection as soon as a pack upload is under way.
	killed := 0
	deadline := time.Now().Add(60 * time.Second)
	for killed == 0 && time.Now().Before(deadline) {
		if uploads, _ := filepath.Glob(filepath.Join(repoDir, "data", "*", "*")); len(uploads) > 0 {
			killed = s.KillSessions(t)
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	err := cmd.Wait()
	if killed == 0 {
		t.Fatalf("no upload seen to interrupt (backup: %v)\n%s", err, stderr.String())
	}
	if err != nil {
		t.Fatalf("backup across a killed connection: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	t.Logf("killed %d sshd processes mid-backup; the backup completed", killed)

	out := restic.Run(t, append(viaSSH, "check", "--read-data")...)
	if !strings.Contains(string(out), "no errors were found") {
		t.Fatalf("restic check after the interrupted connection:\n%s", out)
	}
	target := filepath.Join(base, "restored")
	hb.run(t, "restore", "latest", "--target", target, "--verify")
	testutil.CompareTrees(t, src, filepath.Join(target, src), testutil.CompareOptions{})
}

// TestSftpUnknownHostKeyCLI: hbackup refuses a server whose key is not
// in known_hosts, and says how to add it.
func TestSftpUnknownHostKeyCLI(t *testing.T) {
	s := testutil.StartSSHD(t, testutil.SSHDOptions{})
	hb, _, _ := sftpSetup(t, s, s.Alias, filepath.Join(t.TempDir(), "repo"))
	home := strings.TrimPrefix(hb.env[0], "HOME=")
	if err := os.WriteFile(filepath.Join(home, ".ssh", "known_hosts"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// The test's ssh_config points at its own known_hosts: use one
	// without that line.
	cfg := fmt.Sprintf("Host %s\n  HostName %s\n  Port %d\n  User %s\n  IdentityFile %s\n",
		s.Alias, s.Host, s.Port, s.User, s.ClientKeyFile)
	if err := os.WriteFile(filepath.Join(home, ".ssh", "config"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := hb.runErr("init")
	if code == 0 {
		t.Fatal("init succeeded with an unknown host key")
	}
	for _, want := range []string{"not in known_hosts", fmt.Sprintf("ssh-keyscan -p %d %s", s.Port, s.Host)} {
		if !strings.Contains(string(stderr), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}
