package testutil

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestNewZFSPool(t *testing.T) {
	var name, vdev string
	t.Run("pool", func(t *testing.T) {
		p := NewZFSPool(t)
		name, vdev = p.Name, p.Vdev
		ds := p.CreateDataset(t, "a/b", map[string]string{"compression": "on"})
		if ds != p.Name+"/a/b" {
			t.Fatalf("dataset name %q", ds)
		}
		if err := os.WriteFile(filepath.Join(p.Path("a/b"), "f"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := p.Runner.Dataset(context.Background(), ds)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Mounted || d.Mountpoint != p.Path("a/b") {
			t.Fatalf("dataset %+v, want mounted at %s", d, p.Path("a/b"))
		}
		got, err := p.Runner.Get(context.Background(), ds, "compression")
		if err != nil || got["compression"] != "on" {
			t.Fatalf("compression = %v, %v", got, err)
		}
		// Leave a busy-making leftover: a snapshot and a held one.
		if err := p.Runner.Snapshot(context.Background(), []string{ds + "@s"}, false, nil); err != nil {
			t.Fatal(err)
		}
		if err := p.Runner.Hold(context.Background(), "keep", ds+"@s"); err != nil {
			t.Fatal(err)
		}
	})
	if name == "" {
		return // skipped
	}
	out, err := exec.Command("zpool", "list", "-H", "-o", "name").CombinedOutput()
	if err != nil {
		t.Fatalf("zpool list: %v\n%s", err, out)
	}
	if strings.Contains(string(out), name) {
		t.Fatalf("pool %s still exists after the test: %s", name, out)
	}
	if _, err := os.Stat(vdev); !os.IsNotExist(err) {
		t.Fatalf("vdev %s left behind: %v", vdev, err)
	}
}
