package interop_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/internal/testutil"
)

// TestRESTHbackupWritesResticReads: hbackup backs up to a REST server
// (rclone serve restic), then restic checks every byte through the same
// server and restores, and so does hbackup.
func TestRESTHbackupWritesResticReads(t *testing.T) {
	srv := testutil.StartRclone(t, testutil.RcloneOptions{})
	base := t.TempDir()
	src := filepath.Join(base, "src")
	info := testutil.MakeTestTree(t, src, testutil.TreeOptions{Seed: 21, Special: true})
	url := "rest:" + srv.URL + "hbackup-repo"

	hb := newHbackup(url)
	hb.run(t, "init")
	// The limit flags before -o: both must survive parsing.
	sum := hb.backupJSON(t, "--limit-upload", "1000000", "-o", "rest.connections=3", "--tag", "rest", src)
	if sum["files_new"].(float64) == 0 {
		t.Fatalf("backup stored no files: %v", sum)
	}

	restic := testutil.NewRestic(t, url, "geheim")
	out := restic.Run(t, "check", "--read-data")
	if !strings.Contains(string(out), "no errors were found") {
		t.Fatalf("restic check over REST did not report success:\n%s", out)
	}
	opt := testutil.CompareOptions{Owner: info.Chown, Xattrs: info.Xattrs}
	resticTarget := filepath.Join(base, "restic-restored")
	restic.Run(t, "restore", "latest", "--target", resticTarget)
	compareRestored(t, restic, src, filepath.Join(resticTarget, src), opt)

	hbTarget := filepath.Join(base, "hbackup-restored")
	hb.run(t, "restore", "latest", "--target", hbTarget, "--verify", "--limit-download", "1000000")
	compareRestored(t, restic, src, filepath.Join(hbTarget, src), opt)

	// Nothing changed: the second backup adds no data.
	sum = hb.backupJSON(t, src)
	if sum["data_blobs"].(float64) != 0 || sum["files_new"].(float64) != 0 {
		t.Errorf("unchanged second backup over REST: %v", sum)
	}
}

// TestRESTResticWritesHbackupReads: restic backs up through the REST
// server, hbackup lists and restores through it.
func TestRESTResticWritesHbackupReads(t *testing.T) {
	srv := testutil.StartRclone(t, testutil.RcloneOptions{})
	base := t.TempDir()
	src := filepath.Join(base, "src")
	info := testutil.MakeTestTree(t, src, testutil.TreeOptions{Seed: 22, Special: true})
	url := "rest:" + srv.URL + "restic-repo/"

	restic := testutil.NewRestic(t, url, "geheim")
	restic.Run(t, "init")
	restic.Run(t, "backup", "--tag", "fromrestic", src)

	hb := newHbackup(url)
	var sns []map[string]any
	if err := json.Unmarshal(hb.run(t, "snapshots", "--json"), &sns); err != nil {
		t.Fatal(err)
	}
	if len(sns) != 1 || sns[0]["tags"].([]any)[0] != "fromrestic" {
		t.Fatalf("hbackup snapshots --json over REST: %v", sns)
	}
	target := filepath.Join(base, "restored")
	hb.run(t, "restore", "latest", "--target", target, "--verify")
	compareRestored(t, restic, src, filepath.Join(target, src), testutil.CompareOptions{
		Owner: info.Chown, Xattrs: info.Xattrs,
	})
}

// TestRESTAppendOnly: a repository behind an append-only server takes
// new backups from hbackup (creating and removing its lock is allowed),
// and restic still reads it all.
func TestRESTAppendOnly(t *testing.T) {
	dir := t.TempDir()
	plain := testutil.StartRclone(t, testutil.RcloneOptions{Dir: dir})
	newHbackup("rest:"+plain.URL+"repo").run(t, "init")

	appendOnly := testutil.StartRclone(t, testutil.RcloneOptions{Dir: dir, AppendOnly: true})
	url := "rest:" + appendOnly.URL + "repo"
	base := t.TempDir()
	src := filepath.Join(base, "src")
	testutil.MakeTestTree(t, src, testutil.TreeOptions{Seed: 23})
	hb := newHbackup(url)
	hb.backupJSON(t, src)
	hb.backupJSON(t, src)

	restic := testutil.NewRestic(t, url, "geheim")
	out := restic.Run(t, "check", "--read-data")
	if !strings.Contains(string(out), "no errors were found") {
		t.Fatalf("restic check through the append-only server:\n%s", out)
	}
	var sns []map[string]any
	if err := json.Unmarshal(hb.run(t, "snapshots", "--json"), &sns); err != nil || len(sns) != 2 {
		t.Fatalf("snapshots after two backups: %v, %v", sns, err)
	}
}

// TestRESTCredentials: a server requiring a login is reached with the
// login in the URL, or with RESTIC_REST_USERNAME/RESTIC_REST_PASSWORD,
// and a missing login fails at once with a clear error.
func TestRESTCredentials(t *testing.T) {
	srv := testutil.StartRclone(t, testutil.RcloneOptions{User: "backup", Password: "s3cret"})
	withLogin := "rest:" + strings.Replace(srv.URL, "://", "://backup:s3cret@", 1) + "repo"
	newHbackup(withLogin).run(t, "init")

	hb := newHbackup("rest:" + srv.URL + "repo")
	hb.env = []string{"RESTIC_REST_USERNAME=backup", "RESTIC_REST_PASSWORD=s3cret"}
	hb.run(t, "snapshots")

	hb.env = nil
	_, stderr, code := hb.runErr("snapshots")
	if code == 0 || !strings.Contains(string(stderr), "authentication failed") {
		t.Errorf("snapshots without a login: exit %d, stderr:\n%s", code, stderr)
	}
	if strings.Contains(string(stderr), "s3cret") {
		t.Errorf("an error shows the password:\n%s", stderr)
	}

	restic := testutil.NewRestic(t, withLogin, "geheim")
	restic.Run(t, "snapshots")
}
