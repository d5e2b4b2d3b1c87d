package copier

import (
	"testing"
	"time"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

// TestSimilar pins restic 0.14's notion of "the same snapshot": parent and
// original are ignored, paths and tags compare as sets, excludes in order.
func TestSimilar(t *testing.T) {
	tree, other := repo.Hash([]byte("t")), repo.Hash([]byte("u"))
	tm := time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)
	base := func() *snapshot.Snapshot {
		return &snapshot.Snapshot{Time: tm, Tree: &tree, Paths: []string{"/a", "/b"}, Hostname: "h", Username: "u",
			UID: 1, GID: 2, Excludes: []string{"x", "y"}, Tags: []string{"t1", "t2"}}
	}
	cases := []struct {
		name string
		edit func(*snapshot.Snapshot)
		want bool
	}{
		{"identical", func(*snapshot.Snapshot) {}, true},
		{"parent and original ignored", func(s *snapshot.Snapshot) { s.Parent, s.Original = &other, &other }, true},
		{"same time in another zone", func(s *snapshot.Snapshot) { s.Time = tm.In(time.FixedZone("x", 3600)) }, true},
		{"paths reordered", func(s *snapshot.Snapshot) { s.Paths = []string{"/b", "/a"} }, true},
		{"tags reordered", func(s *snapshot.Snapshot) { s.Tags = []string{"t2", "t1"} }, true},
		{"excludes reordered", func(s *snapshot.Snapshot) { s.Excludes = []string{"y", "x"} }, false},
		{"tag added", func(s *snapshot.Snapshot) { s.Tags = append(s.Tags, "t3") }, false},
		{"other tree", func(s *snapshot.Snapshot) { s.Tree = &other }, false},
		{"other time", func(s *snapshot.Snapshot) { s.Time = tm.Add(time.Nanosecond) }, false},
		{"other host", func(s *snapshot.Snapshot) { s.Hostname = "g" }, false},
		{"other uid", func(s *snapshot.Snapshot) { s.UID = 7 }, false},
		{"path missing", func(s *snapshot.Snapshot) { s.Paths = []string{"/a"} }, false},
	}
	for _, c := range cases {
		b := base()
		c.edit(b)
		if got := similar(base(), b); got != c.want {
			t.Errorf("%s: similar = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestCopyOf: the copy drops the parent and keeps an existing original.
func TestCopyOf(t *testing.T) {
	tree, orig := repo.Hash([]byte("t")), repo.Hash([]byte("o"))
	sn := &snapshot.Snapshot{Tree: &tree, Parent: &tree, Paths: []string{"/"}}
	if c := copyOf(sn); c.Parent != nil || c.Original == nil || *c.Original != sn.ID() {
		t.Errorf("copy of a first version: parent %v original %v", c.Parent, c.Original)
	}
	sn.Original = &orig
	if c := copyOf(sn); *c.Original != orig || sn.Parent == nil {
		t.Errorf("copy of a rewritten snapshot: original %v, source parent %v", c.Original, sn.Parent)
	}
}
