package rewriter_test

import (
	"context"
	"fmt"
	"time"

	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/filter"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
	"github.com/hbackup/hbackup/snapshot/rewriter"
)

// Rewrite a snapshot without its *.tmp files, as `hbackup rewrite
// --exclude '*.tmp'` does.
func Example() {
	ctx := context.Background()
	r, err := repo.Init(ctx, mem.New(), "secret", repo.InitOptions{KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		panic(err)
	}
	file := func(name string) *snapshot.Node {
		return &snapshot.Node{Name: name, Type: snapshot.NodeTypeFile, Mode: 0o644, Content: []repo.ID{}}
	}
	tree := &snapshot.Tree{Nodes: []*snapshot.Node{file("notes.txt"), file("scratch.tmp")}}
	treeID, err := snapshot.SaveTree(ctx, r, tree)
	if err != nil {
		panic(err)
	}
	if err := r.Flush(ctx); err != nil {
		panic(err)
	}
	sn := &snapshot.Snapshot{Time: time.Now(), Tree: &treeID, Paths: []string{"/"}, Hostname: "vm"}
	oldID, err := snapshot.Save(ctx, r, sn)
	if err != nil {
		panic(err)
	}

	ex, err := filter.NewExcluder(filter.ExcludeOptions{Excludes: []string{"*.tmp"}})
	if err != nil {
		panic(err)
	}
	tr := rewriter.Exclude(ex, func(p string) { fmt.Println("excluding", p) })
	res, err := rewriter.Snapshot(ctx, r, sn, tr, rewriter.Options{Tag: "rewrite"})
	if err != nil {
		panic(err)
	}
	newTree, err := snapshot.LoadTree(ctx, r, *sn.Tree)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Outcome == rewriter.Rewritten, *sn.Original == oldID, sn.Tags, len(newTree.Nodes), newTree.Nodes[0].Name)

	// Nothing is left to exclude: the rewritten snapshot stays as it is.
	res, err = rewriter.Snapshot(ctx, r, sn, tr, rewriter.Options{Tag: "rewrite"})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Outcome == rewriter.Unchanged)
	// Output:
	// excluding /scratch.tmp
	// true true [rewrite] 1 notes.txt
	// true
}
