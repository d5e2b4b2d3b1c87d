package snapshot

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hbackup/hbackup/repo"
)

func assertSnapshotsEqual(t testing.TB, a, b *Snapshot) {
	t.Helper()
	x, y := *a, *b
	normTime(t, &x.Time, &y.Time)
	if (x.Summary == nil) != (y.Summary == nil) {
		t.Fatalf("summary presence differs")
	}
	if x.Summary != nil {
		sx, sy := *x.Summary, *y.Summary
		normTime(t, &sx.BackupStart, &sy.BackupStart)
		normTime(t, &sx.BackupEnd, &sy.BackupEnd)
		x.Summary, y.Summary = &sx, &sy
	}
	if !reflect.DeepEqual(x, y) {
		t.Fatalf("snapshots differ:\n%#v\n%#v", x, y)
	}
}

func TestSnapshotFieldOrder(t *testing.T) {
	tm := time.Date(2026, 11, 22, 10, 23, 9, 887758756, time.FixedZone("", 3600))
	tree := repo.Hash([]byte("tree"))
	parent := repo.Hash([]byte("parent"))
	orig := repo.Hash([]byte("orig"))
	sn := &Snapshot{
		Time: tm, Parent: &parent, Tree: &tree, Paths: []string{"/srv/a", "/srv/<b>"},
		Hostname: "host", Username: "user", UID: 1000, GID: 100,
		Excludes: []string{"*.tmp"}, Tags: []string{"t1", "t2"}, Original: &orig,
		ProgramVersion: "hbackup 0.1",
		Summary: &Summary{
			BackupStart: tm, BackupEnd: tm.Add(time.Second),
			FilesNew: 1, FilesChanged: 2, FilesUnmodified: 3, DirsNew: 4, DirsChanged: 5, DirsUnmodified: 6,
			DataBlobs: 7, TreeBlobs: 8, DataAdded: 9, DataAddedPacked: 10, TotalFilesProcessed: 11, TotalBytesProcessed: 12,
		},
	}
	want := `{"time":"2026-11-22T10:23:09.887758756+01:00","parent":"` + parent.String() + `","tree":"` + tree.String() +
		`","paths":["/srv/a","/srv/\u003cb\u003e"],"hostname":"host","username":"user","uid":1000,"gid":100,` +
		`"excludes":["*.tmp"],"tags":["t1","t2"],"original":"` + orig.String() + `","program_version":"hbackup 0.1",` +
		`"summary":{"backup_start":"2026-11-22T10:23:09.887758756+01:00","backup_end":"2026-11-22T10:23:10.887758756+01:00",` +
		`"files_new":1,"files_changed":2,"files_unmodified":3,"dirs_new":4,"dirs_changed":5,"dirs_unmodified":6,` +
		`"data_blobs":7,"tree_blobs":8,"data_added":9,"data_added_packed":10,"total_files_processed":11,"total_bytes_processed":12}}`
	data, err := sn.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != want {
		t.Fatalf("got  %s\nwant %s", data, want)
	}
	back, err := DecodeSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	assertSnapshotsEqual(t, sn, back)
}

func TestSnapshotOmitsEmpty(t *testing.T) {
	tree := repo.Hash([]byte("tree"))
	sn := &Snapshot{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Tree: &tree, Paths: []string{"/x"}, Hostname: "h", Username: "root"}
	data, err := sn.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"time":"2026-01-02T03:04:05Z","tree":"` + tree.String() + `","paths":["/x"],"hostname":"h","username":"root"}`
	if string(data) != want {
		t.Fatalf("got  %s\nwant %s", data, want)
	}
	// Summary fields are never omitted, even when zero.
	sn.Summary = &Summary{}
	data, _ = sn.Encode()
	if !strings.Contains(string(data), `"files_new":0,`) || strings.HasSuffix(string(data), "\n") {
		t.Fatalf("got %s", data)
	}
	// An invalid year fails encoding rather than writing garbage.
	sn.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := sn.Encode(); err == nil {
		t.Fatal("year 10000 encoded")
	}
}

// Snapshots written by restic 0.14 and 0.19.1 re-encode to the same bytes.
func TestResticSnapshotsRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/restic-*/snapshot-*.json")
	if len(files) < 3 {
		t.Fatalf("found only %d fixture snapshots", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sn, err := DecodeSnapshot(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := sn.Check(); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out, err := sn.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != string(data) {
			t.Fatalf("%s:\n got %s\nwant %s", f, out, data)
		}
	}
	data, _ := os.ReadFile("testdata/restic-0.19.1/snapshot-87121dda.json")
	sn, _ := DecodeSnapshot(data)
	if sn.ProgramVersion != "restic 0.19.1" || sn.Summary == nil || sn.Summary.TotalBytesProcessed != 3000019 ||
		sn.Parent == nil || sn.Parent.Str() != "9eb1d602" || !sn.HasTags([]string{"fixture"}) {
		t.Fatalf("decoded %+v", sn)
	}
}

func TestSnapshotDecodeIgnoresUnknown(t *testing.T) {
	sn, err := DecodeSnapshot([]byte(`{"x":{"y":[1]},"time":"2026-01-02T03:04:05+01:00","tree":null,"paths":[],"tags":[],"id":"whatever"}`))
	if err != nil {
		t.Fatal(err)
	}
	if sn.Tree != nil || sn.Paths == nil || sn.Tags != nil {
		t.Fatalf("decoded %+v", sn)
	}
	if err := sn.Check(); err == nil {
		t.Fatal("Check accepted a snapshot without tree")
	}
	for _, bad := range []string{`[]`, `{"uid":-1}`, `{"time":"yesterday"}`, `{"tree":"abc"}`} {
		if _, err := DecodeSnapshot([]byte(bad)); err == nil {
			t.Errorf("%s decoded", bad)
		}
	}
}

func TestSnapshotMatchers(t *testing.T) {
	sn := &Snapshot{Hostname: "h1", Paths: []string{"/a", "/b"}, Tags: []string{"x", "y"}}
	untagged := &Snapshot{Hostname: "h1", Paths: []string{"/a"}}
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"tags both", sn.HasTags([]string{"x", "y"}), true},
		{"tags one missing", sn.HasTags([]string{"x", "z"}), false},
		{"tags none", sn.HasTags(nil), true},
		{"empty tag on tagged", sn.HasTags([]string{""}), false},
		{"empty tag on untagged", untagged.HasTags([]string{""}), true},
		{"taglist OR", sn.HasTagList([]TagList{{"z"}, {"y"}}), true},
		{"taglist AND", sn.HasTagList([]TagList{{"x", "z"}}), false},
		{"taglist empty", sn.HasTagList(nil), true},
		{"host", sn.HasHostname([]string{"h0", "h1"}), true},
		{"host other", sn.HasHostname([]string{"h2"}), false},
		{"host none", sn.HasHostname(nil), true},
		{"paths subset", sn.HasPaths([]string{"/b"}), true},
		{"paths all", sn.HasPaths([]string{"/b", "/a"}), true},
		{"paths extra", sn.HasPaths([]string{"/a", "/c"}), false},
		{"paths not prefix", sn.HasPaths([]string{"/a/"}), false},
		{"filter zero", Filter{}.Matches(sn), true},
		{"filter all", Filter{Hosts: []string{"h1"}, Tags: []TagList{{"y"}}, Paths: []string{"/a"}}.Matches(sn), true},
		{"filter host fails", Filter{Hosts: []string{"h2"}, Tags: []TagList{{"y"}}}.Matches(sn), false},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %v", tc.name, tc.got)
		}
	}
	if got := ParseTagList(" a, b ,"); !reflect.DeepEqual(got, TagList{"a", "b"}) {
		t.Errorf("ParseTagList: %q", got)
	}
	if got := ParseTagList(" , "); !reflect.DeepEqual(got, TagList{""}) {
		t.Errorf("ParseTagList(\"\"): %q", got)
	}
}
