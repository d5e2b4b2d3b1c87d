package zfs_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/hbackup/hbackup/zfs"
)

// Replication through the system ssh to a real sshd on 127.0.0.1: the
// test runs as root (NewZFSPool needs it), and StartSSHD's Alias logs in
// as the same user, whose shell finds zfs in PATH.
func TestReplicateOverSSH(t *testing.T) {
	ctx := context.Background()
	sp, dp := testutil.NewZFSPool(t), testutil.NewZFSPool(t)
	sshd := testutil.StartSSHD(t, testutil.SSHDOptions{})
	sshBin := testutil.RequireBinary(t, "ssh")
	// One ssh connection for all commands (each zfs call would otherwise
	// pay a full ssh handshake); the master is stopped before sshd.
	cm, err := os.MkdirTemp("", "hbcm")
	if err != nil {
		t.Fatal(err)
	}
	ctl := filepath.Join(cm, "m")
	t.Cleanup(func() {
		_ = exec.Command(sshBin, "-F", sshd.SSHConfigFile, "-o", "ControlPath="+ctl, "-O", "exit", sshd.Alias).Run()
		_ = os.RemoveAll(cm)
	})
	remote := &zfs.Runner{Wrapper: []string{sshBin, "-F", sshd.SSHConfigFile,
		"-o", "ControlMaster=auto", "-o", "ControlPath=" + ctl, "-o", "ControlPersist=300", sshd.Alias}}

	src := sp.CreateDataset(t, "home", nil)
	testutil.WriteRandomFile(t, filepath.Join(sp.Path("home"), "f"), 2<<20, 7)
	o := zfs.ReplicateOptions{Source: src, Target: dp.Name + "/nas/home", HoldTag: "hbackup-repl:" + sshd.Alias + ":" + dp.Name + "/nas/home"}
	res, err := zfs.Replicate(ctx, sp.Runner, remote, o)
	if err != nil {
		t.Fatalf("%v\nsshd log:\n%s", err, sshd.Log())
	}
	if !res.Full {
		t.Fatalf("first run %+v", res)
	}
	testutil.WriteRandomFile(t, filepath.Join(sp.Path("home"), "g"), 1<<20, 8)
	res, err = zfs.Replicate(ctx, sp.Runner, remote, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Full || res.Common == "" {
		t.Fatalf("second run %+v", res)
	}
	testutil.CompareTrees(t, sp.Path("home"), dp.Path("nas/home"), testutil.CompareOptions{IgnoreRootMtime: true})
	// The remote side sees the same snapshots as the local view of its pool.
	if got, want := snapNames(t, remote, dp.Name+"/nas/home"), snapNames(t, dp.Runner, dp.Name+"/nas/home"); !slices.Equal(got, want) || len(got) != 1 {
		t.Fatalf("remote snapshots %v, local view %v", got, want)
	}
	// Errors keep their kind across ssh.
	if _, err := remote.Dataset(ctx, dp.Name+"/missing"); !errors.Is(err, zfs.ErrNotExist) {
		t.Fatalf("missing dataset over ssh: %v", err)
	}
}
