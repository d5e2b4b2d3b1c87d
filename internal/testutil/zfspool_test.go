package testutil

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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

// EnsureZFS starts the daemon once when zpool cannot reach it, even when
// two callers race. Fake zpool and zfs-fuse commands on PATH stand in for
// the real ones, which other tests share and this one must not stop.
func TestEnsureZFSStartsDaemonOnce(t *testing.T) {
	RequireRoot(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	ready, starts, pids := filepath.Join(dir, "ready"), filepath.Join(dir, "starts"), filepath.Join(dir, "pids")
	scripts := map[string]string{
		"zpool": "#!/bin/sh\n[ -f " + ready + " ] && { echo 'no pools available'; exit 0; }\necho 'connect: Connection refused' >&2\necho 'internal error: failed to initialize ZFS library' >&2\nexit 1\n",
		// Like zfs-fuse --no-daemon: ready after a moment, then runs on.
		"zfs-fuse": "#!/bin/sh\necho start >> " + starts + "\necho $$ >> " + pids + "\nsleep 0.3\ntouch " + ready + "\nexec sleep 1000\n",
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	t.Setenv("TMPDIR", dir) // the lock and log files go here
	t.Cleanup(func() {
		b, _ := os.ReadFile(pids)
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	done := make(chan struct{})
	for i := 0; i < 2; i++ {
		go func() {
			defer func() { done <- struct{}{} }()
			EnsureZFS(t)
		}()
	}
	<-done
	<-done
	if t.Failed() {
		return
	}
	b, err := os.ReadFile(starts)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "start"); n != 1 {
		t.Fatalf("zfs-fuse started %d times, want 1", n)
	}
	if err := zpoolWorks("zpool"); err != nil {
		t.Fatalf("zpool after EnsureZFS: %v", err)
	}
}
