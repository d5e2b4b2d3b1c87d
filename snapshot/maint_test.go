package snapshot

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/repo"
)

func TestTagChangeApply(t *testing.T) {
	for _, tc := range []struct {
		tags    []string
		c       TagChange
		want    []string
		changed bool
	}{
		{[]string{"a"}, TagChange{Add: []string{"b", "a", "b"}}, []string{"a", "b"}, true},
		{[]string{"a", "b"}, TagChange{Remove: []string{"a", "x"}}, []string{"b"}, true},
		{[]string{"a"}, TagChange{Add: []string{"a"}}, []string{"a"}, false},
		{[]string{"a"}, TagChange{SetTags: true, Set: []string{""}}, nil, true},
		{nil, TagChange{SetTags: true, Set: []string{"z", "y"}}, []string{"z", "y"}, true},
		{[]string{"a"}, TagChange{Add: []string{"b"}, Remove: []string{"b"}}, []string{"a"}, false},
	} {
		sn := &Snapshot{Tags: tc.tags}
		if got := tc.c.Apply(sn); got != tc.changed || !slices.Equal(sn.Tags, tc.want) {
			t.Errorf("%v %+v: %v changed=%v, want %v %v", tc.tags, tc.c, sn.Tags, got, tc.want, tc.changed)
		}
	}
}

func TestIDMatcher(t *testing.T) {
	id := repo.Hash([]byte("x"))
	if !NewIDMatcher([]string{strings.ToUpper(id.String())}).Match(id) || !NewIDMatcher([]string{id.String()[:5]}).Match(id) {
		t.Fatal("full or prefix ID not matched")
	}
	if NewIDMatcher([]string{"ffff"}).Match(repo.Hash([]byte("y"))) || NewIDMatcher(nil).Match(id) {
		t.Fatal("unexpected match")
	}
}

// memIndex sizes every blob as its plaintext in the memRepo.
type memIndex struct{ m *memRepo }

func (x memIndex) Lookup(h repo.BlobHandle) []repo.PackedBlob {
	data, ok := x.m.blobs[h]
	if !ok {
		return nil
	}
	return []repo.PackedBlob{{BlobHandle: h, Length: uint32(len(data)) + 32}}
}

// saveTestTree stores a tree of files (name -> content) and directories
// (name ending in "/" -> subtree ID) and returns its ID.
func saveTestTree(t *testing.T, m *memRepo, entries map[string]any) repo.ID {
	t.Helper()
	ctx := context.Background()
	tree := &Tree{}
	for name, v := range entries {
		var n *Node
		switch v := v.(type) {
		case string:
			id, _, _ := m.SaveBlob(ctx, repo.DataBlob, []byte(v))
			n = &Node{Name: name, Type: NodeTypeFile, Mode: 0o644, Size: uint64(len(v)), Links: 1, Content: []repo.ID{id}}
		case repo.ID:
			n = &Node{Name: strings.TrimSuffix(name, "/"), Type: NodeTypeDir, Mode: 0o755 | 1<<31, Subtree: &v}
		}
		if err := tree.Insert(n); err != nil {
			t.Fatal(err)
		}
	}
	id, err := SaveTree(ctx, m, tree)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestWalkFindNodeDiffStats(t *testing.T) {
	ctx := context.Background()
	m := newMemRepo()
	sub1 := saveTestTree(t, m, map[string]any{"b": "bbb"})
	root1 := saveTestTree(t, m, map[string]any{"a": "aaa", "d/": sub1, "gone": "x"})
	sub2 := saveTestTree(t, m, map[string]any{"b": "bbb", "c": "cc"})
	root2 := saveTestTree(t, m, map[string]any{"a": "AAAA", "d/": sub2})

	var paths []string
	if err := Walk(ctx, m, root2, "/", func(p string, _ *Node) (bool, error) {
		paths = append(paths, p)
		return true, nil
	}); err != nil || strings.Join(paths, " ") != "/a /d /d/b /d/c" {
		t.Fatalf("walk: %v %v", paths, err)
	}
	if n, err := FindNode(ctx, m, root2, "d/c"); err != nil || n.Size != 2 {
		t.Fatalf("FindNode: %v %v", n, err)
	}
	if _, err := FindNode(ctx, m, root2, "/nope"); err == nil {
		t.Fatal("FindNode of a missing path succeeded")
	}

	var changes []string
	res, err := Diff(ctx, m, memIndex{m}, root1, root2, false, func(c DiffChange) error {
		changes = append(changes, c.Modifier+" "+c.Path)
		return nil
	})
	if err != nil || strings.Join(changes, ",") != "M /a,+ /d/c,- /gone" {
		t.Fatalf("diff: %q %v", changes, err)
	}
	// New: AAAA, cc, root2, sub2. Removed: aaa, x, root1, sub1.
	if res.ChangedFiles != 1 || res.Added.Files != 1 || res.Removed.Files != 1 || res.Added.DataBlobs != 2 || res.Added.TreeBlobs != 2 || res.Removed.DataBlobs != 2 {
		t.Fatalf("diff result: %+v", res)
	}

	c, err := NewStatsCollector(StatsRestoreSize, m, memIndex{m})
	if err != nil {
		t.Fatal(err)
	}
	for _, root := range []repo.ID{root1, root2} {
		id := root
		if err := c.Add(ctx, &Snapshot{Tree: &id}); err != nil {
			t.Fatal(err)
		}
	}
	// 4 nodes of 7 bytes, then 4 nodes of 9 bytes.
	if c.Stats.TotalFileCount != 8 || c.Stats.TotalSize != 16 {
		t.Fatalf("restore-size: %+v", c.Stats)
	}
	if _, err := NewStatsCollector("bogus", m, memIndex{m}); err == nil {
		t.Fatal("bogus mode accepted")
	}
}
