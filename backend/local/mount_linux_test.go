package local

import (
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/hbackup/hbackup/backend"
)

// mountTmpfs mounts a small tmpfs on a temp directory, or skips the test
// when that is not allowed (not root, or no CAP_SYS_ADMIN in a
// container). It is the only way to get a real full or read-only file
// system without touching the host's disks.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// Disk full: Save reports ENOSPC, removes its temporary file (freeing
// the space) and leaves no file under the final name.
func TestSaveDiskFull(t *testing.T) {
	dir := mountTmpfs(t, "256k")
	be := newBackend(t, dir)
	if err := be.Create(t.Context()); err != nil {
		t.Fatalf("Create: %v", err)
	}
	h := backend.Handle{Type: backend.PackFile, Name: "ab00"}
	err := be.Save(t.Context(), h, backend.NewByteReader(make([]byte, 1<<20)))
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Save of 1 MiB onto a 256 KiB file system = %v, want ENOSPC", err)
	}
	if _, err := be.Stat(t.Context(), h); !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("Stat after the failed Save = %v, want ErrNotExist", err)
	}
	if tmp := tempFiles(t, dir); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
	// The space came back, so a small file fits.
	save(t, be, h, make([]byte, 64<<10))
}

// Read-only file system: Save reports EROFS and creates nothing.
func TestSaveReadOnlyFS(t *testing.T) {
	dir := mountTmpfs(t, "1m")
	be := newBackend(t, dir)
	if err := be.Create(t.Context()); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot remount read-only: %v", err)
	}
	h := backend.Handle{Type: backend.SnapshotFile, Name: "s1"}
	err := be.Save(t.Context(), h, backend.NewByteReader([]byte("snapshot")))
	if !errors.Is(err, syscall.EROFS) {
		t.Errorf("Save on a read-only file system = %v, want EROFS", err)
	}
	if _, err := be.Stat(t.Context(), h); !errors.Is(err, backend.ErrNotExist) {
		t.Errorf("Stat after the failed Save = %v, want ErrNotExist", err)
	}
}
