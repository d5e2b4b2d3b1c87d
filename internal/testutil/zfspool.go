package testutil

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hbackup/hbackup/zfs"
)

// ZFSPool is a throw-away ZFS pool on a sparse file, created by
// NewZFSPool and destroyed when the test ends.
type ZFSPool struct {
	Name       string      // unique pool name, "hbt" + random hex
	Mountpoint string      // where the pool's root dataset is mounted
	Vdev       string      // the file backing the pool
	Runner     *zfs.Runner // zfs/zpool from PATH
}

// zfsVdevSize is the size of a test pool's sparse vdev file.
const zfsVdevSize = 256 << 20

// NewZFSPool creates a pool for the test. It needs root and the zfs, zpool
// and zfs-fuse binaries (a missing binary skips the test, or fails it
// under HBACKUP_REQUIRE_INTEGRATION=1). It starts the zfs-fuse daemon when
// no ZFS is reachable. The pool and everything in it are destroyed in
// t.Cleanup.
func NewZFSPool(t testing.TB) *ZFSPool {
	t.Helper()
	RequireRoot(t)
	zfsBin := RequireBinary(t, "zfs")
	zpoolBin := RequireBinary(t, "zpool")
	EnsureZFS(t)

	dir := t.TempDir()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	p := &ZFSPool{
		Name:       "hbt" + hex.EncodeToString(b[:]),
		Mountpoint: filepath.Join(dir, "mnt"),
		Vdev:       filepath.Join(dir, "vdev"),
		Runner:     &zfs.Runner{ZFS: zfsBin, ZPool: zpoolBin},
	}
	f, err := os.Create(p.Vdev)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(zfsVdevSize); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(zpoolBin, "create", "-m", p.Mountpoint, p.Name, p.Vdev).CombinedOutput(); err != nil {
		t.Fatalf("zpool create %s: %v\n%s", p.Name, err, out)
	}
	// Registered after t.TempDir, so it runs before the directory goes.
	t.Cleanup(func() { p.destroy(t, zpoolBin, zfsBin) })
	return p
}

// destroy removes the pool, unmounting what a test left busy.
func (p *ZFSPool) destroy(t testing.TB, zpoolBin, zfsBin string) {
	var last []byte
	for attempt := 0; attempt < 20; attempt++ {
		out, err := exec.Command(zpoolBin, "destroy", "-f", p.Name).CombinedOutput()
		if err == nil || strings.Contains(string(out), "no such pool") {
			return
		}
		last = out
		// Unmount children first, deepest last in the list first.
		list, _ := exec.Command(zfsBin, "list", "-H", "-o", "name", "-r", p.Name).Output()
		names := strings.Fields(string(list))
		for i := len(names) - 1; i >= 0; i-- {
			_ = exec.Command(zfsBin, "unmount", "-f", names[i]).Run()
		}
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	t.Errorf("zpool destroy %s: %s", p.Name, last)
}

// Path returns the mountpoint of the pool's dataset rel ("" for the root),
// which inherits its mountpoint from the pool.
func (p *ZFSPool) Path(rel string) string {
	return filepath.Join(p.Mountpoint, rel)
}

// CreateDataset creates the filesystem Name/rel (and missing parents) with
// props and returns its full name. It is mounted at p.Path(rel).
func (p *ZFSPool) CreateDataset(t testing.TB, rel string, props map[string]string) string {
	t.Helper()
	name := p.Name + "/" + rel
	if err := p.Runner.CreateAll(context.Background(), name, props); err != nil {
		t.Fatalf("create dataset %s: %v", name, err)
	}
	return name
}

// EnsureZFS makes sure ZFS commands work, starting the zfs-fuse daemon if
// "zpool list" cannot reach it. An flock on a file in os.TempDir keeps
// test processes (go test runs packages in parallel) from starting two
// daemons.
func EnsureZFS(t testing.TB) {
	t.Helper()
	zpoolBin := RequireBinary(t, "zpool")
	if zpoolWorks(zpoolBin) == nil {
		return
	}
	fuseBin := RequireBinary(t, "zfs-fuse")
	RequireRoot(t)
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "hbackup-zfs-fuse.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("lock zfs-fuse start: %v", err)
	}
	defer func() { _ = syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) }()
	if zpoolWorks(zpoolBin) == nil {
		return // another test process started it while we waited
	}
	logPath := filepath.Join(os.TempDir(), "hbackup-zfs-fuse.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	// --no-daemon with its own session: it outlives the test process (other
	// packages' tests share it) and does not get the terminal's signals.
	cmd := exec.Command(fuseBin, "--no-daemon")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start zfs-fuse: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// Startup takes well under a second; the bound only stops a hung
	// daemon from hanging the test run.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		lastErr := zpoolWorks(zpoolBin)
		if lastErr == nil {
			return
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("zfs-fuse exited (%v) before zpool worked (%v); log %s:\n%s", err, lastErr, logPath, log)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("zfs-fuse started but zpool list still fails: %v", lastErr)
		}
	}
}

// zpoolWorks runs "zpool list" and returns why it failed, if it did.
func zpoolWorks(zpoolBin string) error {
	out, err := exec.Command(zpoolBin, "list", "-H").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
	}
	if strings.Contains(string(out), "failed to initialize") {
		return errors.New(strings.TrimSpace(string(out)))
	}
	return nil
}
