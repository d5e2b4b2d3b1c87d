package archiver_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hbackup/hbackup/backend/local"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot/archiver"
	"github.com/hbackup/hbackup/snapshot/restorer"
)

// Back up a directory into a new local repository and restore it: the
// whole library round trip.
func Example() {
	ctx := context.Background()
	tmp, _ := os.MkdirTemp("", "hbackup-example-")
	defer os.RemoveAll(tmp)
	src := filepath.Join(tmp, "src")
	_ = os.MkdirAll(src, 0o755)
	_ = os.WriteFile(filepath.Join(src, "hello.txt"), []byte("hello\n"), 0o644)

	be, _ := local.New(filepath.Join(tmp, "repo"), local.Options{})
	r, err := repo.Init(ctx, be, "secret", repo.InitOptions{KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		panic(err)
	}
	res, err := archiver.Backup(ctx, r, archiver.Options{Paths: []string{src}})
	if err != nil {
		panic(err)
	}
	fmt.Println("new files:", res.Summary.FilesNew)

	target := filepath.Join(tmp, "restored")
	if _, err := restorer.Restore(ctx, r, *res.Snapshot.Tree, target, restorer.Options{}); err != nil {
		panic(err)
	}
	data, _ := os.ReadFile(filepath.Join(target, src, "hello.txt"))
	fmt.Print(string(data))
	// Output:
	// new files: 1
	// hello
}
