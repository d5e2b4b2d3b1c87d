package zfs_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/zfs"
)

// The resume path needs OpenZFS (receive -s, send -t), which zfs-fuse
// lacks: it runs against fake zfs commands replaying OpenZFS 2.2 output.
func TestReplicateResumesFromToken(t *testing.T) {
	ctx := context.Background()
	srcFake := newFakeZFS(t, "usage-openzfs-2.2.txt")
	dstFake := newFakeZFS(t, "usage-openzfs-2.2.txt")
	// What "zfs get -H -p -o name,property,value" of OpenZFS prints for the
	// two datasets once the resumed stream is in: snapshot @a on both
	// sides, with the same GUID.
	srcFake.set(t, "out-get", "rpool/home\ttype\tfilesystem\nrpool/home\tname\trpool/home\nrpool/home\tmounted\tyes\n"+
		"rpool/home@a\ttype\tsnapshot\nrpool/home@a\tcreatetxg\t100\nrpool/home@a\tguid\t777\nrpool/home@a\tuserrefs\t0\n")
	dstFake.set(t, "out-get", "backup/home\ttype\tfilesystem\nbackup/home\tname\tbackup/home\n"+
		"backup/home@a\ttype\tsnapshot\nbackup/home@a\tcreatetxg\t9\nbackup/home@a\tguid\t777\nbackup/home@a\tuserrefs\t0\n")
	dstFake.set(t, "out-get-token", "backup/home\treceive_resume_token\t1-10ff0a3c8c-f0-789c636064000310a500c4ec50360710e72765a5\n")
	srcFake.set(t, "out-send", "RESUMED-STREAM")
	dstFake.set(t, "stdin-receive", "")
	src, dst := &zfs.Runner{ZFS: srcFake.Path}, &zfs.Runner{ZFS: dstFake.Path}

	res, err := zfs.Replicate(ctx, src, dst, zfs.ReplicateOptions{Source: "rpool/home", Target: "backup/home", NoSnapshot: true, NoMount: true, HoldTag: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Resumed || res.Full || res.Latest != "a" || res.Bytes != int64(len("RESUMED-STREAM")) {
		t.Fatalf("result %+v", res)
	}
	if got := dstFake.read(t, "stdin-receive"); got != "RESUMED-STREAM" {
		t.Fatalf("receive read %q", got)
	}
	srcCalls, dstCalls := srcFake.calls(t), dstFake.calls(t)
	if !slices.ContainsFunc(srcCalls, func(c []string) bool {
		return slices.Equal(c, []string{"send", "-t", "1-10ff0a3c8c-f0-789c636064000310a500c4ec50360710e72765a5"})
	}) {
		t.Fatalf("source calls %q: no send -t", srcCalls)
	}
	if !slices.ContainsFunc(dstCalls, func(c []string) bool { return slices.Equal(c, []string{"receive", "-u", "-s", "backup/home"}) }) {
		t.Fatalf("target calls %q: no resumable receive", dstCalls)
	}
	for _, calls := range [][][]string{srcCalls, dstCalls} {
		if !slices.ContainsFunc(calls, func(c []string) bool { return len(c) == 3 && c[0] == "hold" && c[1] == "t" }) {
			t.Fatalf("calls %q: the common snapshot was not held", calls)
		}
	}
}

// When the receiver fails, its message is the error, not the sender's
// broken pipe that follows from it.
func TestReplicateReportsReceiverError(t *testing.T) {
	srcFake := newFakeZFS(t, "usage-openzfs-2.2.txt")
	dstFake := newFakeZFS(t, "usage-openzfs-2.2.txt")
	srcFake.set(t, "out-get", "rpool/home\ttype\tfilesystem\nrpool/home\tname\trpool/home\n"+
		"rpool/home@a\ttype\tsnapshot\nrpool/home@a\tcreatetxg\t100\nrpool/home@a\tguid\t777\nrpool/home@a\tuserrefs\t0\n")
	srcFake.set(t, "out-send", strings.Repeat("x", 4<<20)) // more than a pipe holds
	dstFake.set(t, "err-get", "cannot open 'backup/home': dataset does not exist\n")
	dstFake.set(t, "exit-get", "1")
	dstFake.set(t, "err-receive", "cannot receive new filesystem stream: out of space\n")
	dstFake.set(t, "exit-receive", "1")
	src, dst := &zfs.Runner{ZFS: srcFake.Path}, &zfs.Runner{ZFS: dstFake.Path}
	_, err := zfs.Replicate(context.Background(), src, dst, zfs.ReplicateOptions{Source: "rpool/home", Target: "backup/home", NoSnapshot: true})
	var ce *zfs.CommandError
	if !errors.As(err, &ce) || !strings.Contains(ce.Stderr, "out of space") || ce.Args[1] != "receive" {
		t.Fatalf("got %v, want the receiver's error", err)
	}
	// No hold was placed after the failure.
	for _, calls := range [][][]string{srcFake.calls(t), dstFake.calls(t)} {
		if slices.ContainsFunc(calls, func(c []string) bool { return c[0] == "hold" }) {
			t.Fatalf("hold after a failed transfer: %q", calls)
		}
	}
}
