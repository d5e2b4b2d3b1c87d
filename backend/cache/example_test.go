package cache_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/cache"
	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/repo"
)

// Open a repository with a local metadata cache, as the hbackup command
// does: the cache is per repository, so it is created once the
// repository's ID is known. A cache that cannot be used is only a warning.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "hbackup-cache-")
	defer os.RemoveAll(dir)

	be := mem.New() // a remote backend in real use
	r, err := repo.Init(ctx, be, "secret", repo.InitOptions{KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		log.Fatal(err)
	}
	r.Close()

	r, err = repo.Open(ctx, be, "secret", repo.Options{
		Cache: func(repoID string, be backend.Backend) backend.Backend {
			c, err := cache.New(be, repoID, cache.Options{Dir: dir})
			if err != nil {
				log.Printf("unable to open cache: %v", err)
				return be
			}
			return c
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	id, err := r.SaveUnpacked(ctx, backend.SnapshotFile, []byte(`{"example":true}`))
	if err != nil {
		log.Fatal(err)
	}
	// The snapshot file was written to the repository and the cache.
	_, err = os.Stat(fmt.Sprintf("%s/%s/snapshots/%s", dir, r.Config().ID, id))
	fmt.Println("cached:", err == nil)
	// Output:
	// cached: true
}
