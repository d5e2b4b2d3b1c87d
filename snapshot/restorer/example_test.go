package restorer_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
	"github.com/hbackup/hbackup/snapshot/restorer"
)

func Example() {
	ctx := context.Background()
	// A repository in memory, holding one tree with one file.
	r, err := repo.Init(ctx, mem.New(), "secret", repo.InitOptions{KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		log.Fatal(err)
	}
	data := []byte("hello from the repository\n")
	blob, _, err := r.SaveBlob(ctx, repo.DataBlob, data)
	if err != nil {
		log.Fatal(err)
	}
	mtime := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	var tree snapshot.Tree
	err = tree.Insert(&snapshot.Node{Name: "hello.txt", Type: snapshot.NodeTypeFile, Mode: 0o644,
		ModTime: mtime, AccessTime: mtime, ChangeTime: mtime, Size: uint64(len(data)), Content: []repo.ID{blob}})
	if err != nil {
		log.Fatal(err)
	}
	treeID, err := snapshot.SaveTree(ctx, r, &tree)
	if err != nil {
		log.Fatal(err)
	}
	if err := r.Flush(ctx); err != nil {
		log.Fatal(err)
	}

	dir, err := os.MkdirTemp("", "restorer-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	stats, err := restorer.Restore(ctx, r, treeID, dir, restorer.Options{Verify: true})
	if err != nil {
		log.Fatal(err)
	}
	content, err := os.ReadFile(filepath.Join(dir, "hello.txt"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(content))
	fmt.Printf("%d file, %d bytes, %d verified\n", stats.Files, stats.Bytes, stats.Verified)
	// Output:
	// hello from the repository
	// 1 file, 26 bytes, 1 verified
}
