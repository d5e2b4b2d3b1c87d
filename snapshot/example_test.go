package snapshot_test

import (
	"fmt"
	"os"
	"time"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

// Build a directory of two entries and compute its tree ID, the SHA-256 of
// the exact bytes restic would write for it.
func ExampleTree() {
	mtime := time.Date(2026, 11, 22, 9, 15, 49, 0, time.UTC)
	var tree snapshot.Tree
	// Insert keeps the nodes sorted by raw name, whatever the call order.
	_ = tree.Insert(&snapshot.Node{
		Name: "readme.txt", Type: snapshot.NodeTypeFile, Mode: 0o644,
		ModTime: mtime, AccessTime: mtime, ChangeTime: mtime,
		Size: 12, Links: 1,
		Content: []repo.ID{repo.Hash([]byte("hello world\n"))},
	})
	empty := repo.Hash([]byte("{\"nodes\":[]}\n"))
	_ = tree.Insert(&snapshot.Node{
		Name: "docs", Type: snapshot.NodeTypeDir, Mode: os.ModeDir | 0o755,
		ModTime: mtime, AccessTime: mtime, ChangeTime: mtime,
		Subtree: &empty,
	})
	data, err := tree.Encode()
	if err != nil {
		panic(err)
	}
	fmt.Println(tree.Nodes[0].Name, tree.Nodes[1].Name)
	fmt.Println(repo.Hash(data))
	// Output:
	// docs readme.txt
	// 63173741ea1358eb2ebd7d6ff4d187f5ebdd276c0dca591406f12cd962f00420
}

// Encode a snapshot as restic writes it: uid and gid 0 are omitted.
func ExampleSnapshot_Encode() {
	tree := repo.Hash([]byte("{\"nodes\":[]}\n"))
	sn := &snapshot.Snapshot{
		Time:     time.Date(2026, 11, 22, 10, 23, 8, 992297939, time.UTC),
		Tree:     &tree,
		Paths:    []string{"/srv/data"},
		Hostname: "vm",
		Username: "root",
		Tags:     []string{"daily"},
	}
	data, err := sn.Encode()
	if err != nil {
		panic(err)
	}
	fmt.Println(string(data))
	// Output:
	// {"time":"2026-11-22T10:23:08.992297939Z","tree":"ac08ce34ba4f8123618661bef2425f7028ffb9ac740578a3ee88684d2523fee8","paths":["/srv/data"],"hostname":"vm","username":"root","tags":["daily"]}
}
