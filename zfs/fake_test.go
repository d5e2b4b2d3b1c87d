package zfs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/zfs"
)

// fakeZFS is a shell script standing in for a zfs command that this
// machine's zfs-fuse cannot be: it records each argv and replays recorded
// OpenZFS output per subcommand.
type fakeZFS struct {
	Path string
	dir  string
}

const fakeScript = `#!/bin/sh
d=%q
for a in "$@"; do printf '%%s\037' "$a"; done >> "$d/argv"
echo >> "$d/argv"
sub="$1"
[ "$sub" = "-?" ] && sub=usage
[ "$sub" = "get" ] && case "$*" in *receive_resume_token*) sub=get-token;; esac
[ -f "$d/stdin-$sub" ] && cat > "$d/stdin-$sub"
[ -f "$d/out-$sub" ] && cat "$d/out-$sub"
[ -f "$d/err-$sub" ] && cat "$d/err-$sub" >&2
[ -f "$d/exit-$sub" ] && exit "$(cat "$d/exit-$sub")"
exit 0
`

func newFakeZFS(t *testing.T, usageFile string) *fakeZFS {
	t.Helper()
	dir := t.TempDir()
	f := &fakeZFS{Path: filepath.Join(dir, "zfs"), dir: dir}
	if err := os.WriteFile(f.Path, []byte(fmt.Sprintf(fakeScript, dir)), 0o755); err != nil {
		t.Fatal(err)
	}
	usage, err := os.ReadFile(filepath.Join("testdata", usageFile))
	if err != nil {
		t.Fatal(err)
	}
	f.set(t, "out-usage", string(usage))
	return f
}

func (f *fakeZFS) set(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *fakeZFS) setFile(t *testing.T, name, testdata string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", testdata))
	if err != nil {
		t.Fatal(err)
	}
	f.set(t, name, string(b))
}

func (f *fakeZFS) read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// calls returns every argv the fake received, without the usage probe.
func (f *fakeZFS) calls(t *testing.T) [][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, "argv"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out [][]string
	for _, line := range strings.Split(string(b), "\n") {
		args := strings.Split(strings.TrimSuffix(line, "\x1f"), "\x1f")
		if line == "" || args[0] == "-?" {
			continue
		}
		out = append(out, args)
	}
	return out
}

func TestOpenZFSJSONQuery(t *testing.T) {
	ctx := context.Background()
	f := newFakeZFS(t, "usage-openzfs-2.3.txt")
	f.setFile(t, "out-get", "get-openzfs-2.3-json-int.json")
	r := &zfs.Runner{ZFS: f.Path}
	ds, err := r.Datasets(ctx, "rpool", true)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range ds {
		names = append(names, d.Name)
	}
	want := []string{"rpool", "rpool/clone", "rpool/home", "rpool/swap", "rpool/var", "rpool/var/lib"}
	if !slices.Equal(names, want) {
		t.Fatalf("datasets %v, want %v", names, want)
	}
	snaps, err := r.Snapshots(ctx, "rpool/home", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 2 || snaps[0].Name != "autosnap_2026-11-22_13:00:00_hourly" || snaps[0].UserRefs != 2 || snaps[1].CreateTXG != 913001 {
		t.Fatalf("snapshots %+v", snaps)
	}
	calls := f.calls(t)
	wantCalls := [][]string{
		{"get", "-j", "-p", "-r", "-t", "filesystem,volume", "name,type,mountpoint,mounted,used,available,referenced,creation,origin", "rpool"},
		{"get", "-j", "-p", "-d", "1", "-t", "snapshot", "type,name,creation,createtxg,guid,userrefs,used", "rpool/home"},
	}
	if !slices.EqualFunc(calls, wantCalls, slices.Equal) {
		t.Fatalf("calls\n got %q\nwant %q", calls, wantCalls)
	}
}

func TestOpenZFSTextQueryAndHolds(t *testing.T) {
	ctx := context.Background()
	f := newFakeZFS(t, "usage-openzfs-2.2.txt")
	f.setFile(t, "out-get", "get-openzfs-2.2.txt")
	f.setFile(t, "out-holds", "holds-openzfs-2.2.txt")
	r := &zfs.Runner{ZFS: f.Path}
	d, err := r.Dataset(ctx, "rpool/var/lib")
	if err != nil {
		t.Fatal(err)
	}
	// The fake answers every query with the whole sample: the first
	// filesystem wins, which shows the type filter ran.
	if d.Name != "rpool" {
		t.Fatalf("dataset %+v", d)
	}
	tags, err := r.Holds(ctx, "rpool/home@autosnap_2026-11-22_13:00:00_hourly")
	if err != nil || !slices.Equal(tags, []string{"hbackup-replication", "keep"}) {
		t.Fatalf("holds %v, %v", tags, err)
	}
	if err := r.Snapshot(ctx, []string{"rpool/home@x", "rpool/var/lib@x"}, false, map[string]string{"hbackup:job": "j1"}); err != nil {
		t.Fatal(err)
	}
	if err := r.Bookmark(ctx, "rpool/home@x", "rpool/home#x"); err != nil {
		t.Fatal(err)
	}
	calls := f.calls(t)
	want := [][]string{
		{"get", "-H", "-p", "-o", "name,property,value", "-t", "filesystem,volume", "name,type,mountpoint,mounted,used,available,referenced,creation,origin", "rpool/var/lib"},
		{"holds", "-H", "-p", "rpool/home@autosnap_2026-11-22_13:00:00_hourly"},
		{"snapshot", "-o", "hbackup:job=j1", "rpool/home@x", "rpool/var/lib@x"},
		{"bookmark", "rpool/home@x", "rpool/home#x"},
	}
	if !slices.EqualFunc(calls, want, slices.Equal) {
		t.Fatalf("calls\n got %q\nwant %q", calls, want)
	}
}

func TestOpenZFSSendReceiveArgs(t *testing.T) {
	ctx := context.Background()
	f := newFakeZFS(t, "usage-openzfs-2.2.txt")
	f.set(t, "out-send", "STREAM")
	f.set(t, "stdin-receive", "")
	f.set(t, "out-get-token", "backup/home\treceive_resume_token\t1-e604ea4bf-e0-789c63a2\n")
	r := &zfs.Runner{ZFS: f.Path}
	var buf bytes.Buffer
	if err := r.Send(ctx, zfs.SendOptions{Snapshot: "rpool/home@b", From: "@a", Intermediates: true, Raw: true, Properties: true}, &buf); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "STREAM" {
		t.Fatalf("stream %q", buf.String())
	}
	if err := r.Receive(ctx, zfs.ReceiveOptions{Target: "backup/home", Force: true, NoMount: true, Resumable: true}, strings.NewReader("DATA")); err != nil {
		t.Fatal(err)
	}
	if got := f.read(t, "stdin-receive"); got != "DATA" {
		t.Fatalf("receive got %q", got)
	}
	tok, err := r.ResumeToken(ctx, "backup/home")
	if err != nil || tok != "1-e604ea4bf-e0-789c63a2" {
		t.Fatalf("token %q, %v", tok, err)
	}
	if err := r.Send(ctx, zfs.SendOptions{ResumeToken: tok}, &buf); err != nil {
		t.Fatal(err)
	}
	if err := r.AbortResume(ctx, "backup/home"); err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"send", "-w", "-p", "-I", "@a", "rpool/home@b"},
		{"receive", "-F", "-u", "-s", "backup/home"},
		{"get", "-H", "-p", "-o", "name,property,value", "receive_resume_token", "backup/home"},
		{"send", "-t", "1-e604ea4bf-e0-789c63a2"},
		{"receive", "-A", "backup/home"},
	}
	if calls := f.calls(t); !slices.EqualFunc(calls, want, slices.Equal) {
		t.Fatalf("calls\n got %q\nwant %q", calls, want)
	}
	// A token of "-" means no partial receive.
	f.set(t, "out-get-token", "backup/home\treceive_resume_token\t-\n")
	if tok, err := r.ResumeToken(ctx, "backup/home"); err != nil || tok != "" {
		t.Fatalf("empty token %q, %v", tok, err)
	}
}

func TestZFSFuseFeatureErrors(t *testing.T) {
	ctx := context.Background()
	f := newFakeZFS(t, "usage-zfs-fuse-0.7.txt")
	r := &zfs.Runner{ZFS: f.Path}
	checks := map[string]error{
		"raw":     r.Send(ctx, zfs.SendOptions{Snapshot: "p/a@s", Raw: true}, &bytes.Buffer{}),
		"token":   r.Send(ctx, zfs.SendOptions{ResumeToken: "1-x"}, &bytes.Buffer{}),
		"nomount": r.Receive(ctx, zfs.ReceiveOptions{Target: "p/b", NoMount: true}, strings.NewReader("")),
		"resume":  r.Receive(ctx, zfs.ReceiveOptions{Target: "p/b", Resumable: true}, strings.NewReader("")),
		"abort":   r.AbortResume(ctx, "p/b"),
		"multi":   r.Snapshot(ctx, []string{"p/a@x", "p/b@x"}, false, nil),
		"mark":    r.Bookmark(ctx, "p/a@x", "p/a#x"),
	}
	for name, err := range checks {
		if !errors.Is(err, zfs.ErrUnsupported) {
			t.Errorf("%s: %v, want ErrUnsupported", name, err)
		}
	}
	if calls := f.calls(t); len(calls) != 0 {
		t.Fatalf("unsupported features still ran commands: %q", calls)
	}
	// A failing command's stderr becomes a typed error.
	f.set(t, "err-destroy", "cannot destroy 'p/a@s': dataset is busy\n")
	f.set(t, "exit-destroy", "1")
	err := r.Destroy(ctx, "p/a@s", zfs.DestroyOptions{Defer: true})
	var ce *zfs.CommandError
	if !errors.Is(err, zfs.ErrBusy) || !errors.As(err, &ce) || ce.ExitCode != 1 || !slices.Equal(ce.Args, []string{f.Path, "destroy", "-d", "p/a@s"}) {
		t.Fatalf("destroy: %#v", err)
	}
}
