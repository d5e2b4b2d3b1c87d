//go:build linux

package snapshot

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// resticCmd runs the restic binary on a scratch repository with a clean
// environment, so no user configuration leaks in.
func resticCmd(t *testing.T, bin, home, dir string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--no-cache", "--quiet"}, args...)...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "RESTIC_PASSWORD=test",
		"RESTIC_REPOSITORY=" + filepath.Join(home, "repo")}
	if tz, ok := os.LookupEnv("TZ"); ok {
		// Node times are written in the local zone: restic's must be ours.
		cmd.Env = append(cmd.Env, "TZ="+tz)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("restic %v: %v\n%s", args, err, stderr.Bytes())
	}
	return out
}

// The strongest compatibility check: real restic backs up a directory,
// and the trees we build from our own lstat of the same entries must be
// byte-identical to restic's (content IDs copied from restic's nodes,
// since chunking is not this package's job).
func TestTreesMatchRestic(t *testing.T) {
	bin, err := exec.LookPath("restic")
	if err != nil {
		t.Skip("restic binary not found in PATH")
	}
	if testing.Short() {
		t.Skip("runs the restic binary")
	}
	home := t.TempDir()
	data := filepath.Join(home, "src", "data")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(data, "sub"), 0o755))
	for name, content := range map[string]string{
		"small.txt": "hello world\n", "empty.txt": "", `quote"name`: "x", `back\slash`: "x",
		"tab\tname": "x", "bad\xffname": "x", "a<b>&c": "x", "nb\u00a0sp": "x", "ünï": "x",
	} {
		must(os.WriteFile(filepath.Join(data, name), []byte(content), 0o644))
	}
	must(os.Symlink("small.txt", filepath.Join(data, "link")))
	must(os.Symlink("tgt\xff", filepath.Join(data, "badlink")))
	must(unix.Mkfifo(filepath.Join(data, "fifo"), 0o644))
	must(os.Link(filepath.Join(data, "small.txt"), filepath.Join(data, "sub", "hard")))
	must(os.Mkdir(filepath.Join(data, "sgdir"), 0o755))
	must(os.Chmod(filepath.Join(data, "sgdir"), os.ModeSetgid|os.ModeSticky|0o755))
	if unix.Setxattr(filepath.Join(data, "small.txt"), "user.note", []byte("a note"), 0) != nil {
		t.Log("no user xattrs on the temp filesystem; comparing without them")
	}
	mtime := time.Date(2020, 2, 2, 2, 2, 2, 123456789, time.UTC)
	must(os.Chtimes(filepath.Join(data, "small.txt"), mtime, mtime))

	resticCmd(t, bin, home, home, "init")
	resticCmd(t, bin, home, filepath.Join(home, "src"), "backup", "data")
	var sns []struct {
		Tree string `json:"tree"`
	}
	must(json.Unmarshal(resticCmd(t, bin, home, home, "snapshots", "--json"), &sns))
	if len(sns) != 1 {
		t.Fatalf("%d snapshots", len(sns))
	}
	loadTree := func(id string) (*Tree, []byte) {
		raw := resticCmd(t, bin, home, home, "cat", "blob", id)
		tr, err := DecodeTree(raw)
		must(err)
		return tr, raw
	}
	root, _ := loadTree(sns[0].Tree)
	dataNode := root.Find("data")
	if dataNode == nil || dataNode.Subtree == nil {
		t.Fatalf("root tree %v", root.Nodes)
	}

	var names UserNames
	var compare func(dir string, theirsNode *Node)
	compare = func(dir string, theirsNode *Node) {
		theirs, raw := loadTree(theirsNode.Subtree.String())
		entries, err := os.ReadDir(dir)
		must(err)
		var ours Tree
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			fi, err := os.Lstat(p)
			must(err)
			n, err := NodeFromFileInfo(p, fi, &names)
			must(err)
			their := theirs.Find(n.Name)
			if their == nil {
				t.Fatalf("restic has no node %q", n.Name)
			}
			switch n.Type {
			case NodeTypeFile:
				n.Content, n.Size = their.Content, their.Size
			case NodeTypeDir:
				n.Subtree = their.Subtree
				compare(p, their)
			}
			must(ours.Insert(n))
		}
		enc, err := ours.Encode()
		must(err)
		if !bytes.Contains(raw, []byte(`"linktarget_raw"`)) {
			// restic before 0.16 does not write linktarget_raw.
			enc = bytes.ReplaceAll(enc, []byte(`,"linktarget_raw":"dGd0/w=="`), nil)
		}
		if !bytes.Equal(enc, raw) {
			t.Errorf("tree of %s differs from restic's:\n ours   %s\n restic %s", dir, enc, raw)
		}
	}
	compare(data, dataNode)
}
