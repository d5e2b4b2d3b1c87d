package snapsource_test

import (
	"context"
	"log"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot/archiver"
	"github.com/hbackup/hbackup/zfs"
	"github.com/hbackup/hbackup/zfs/snapsource"
)

// Back up two datasets from one atomic snapshot. The restic snapshot
// records their mount points, as if they had been read live.
func Example() {
	ctx := context.Background()
	var r *repo.Repository // opened with repo.Open
	f, err := snapsource.Freeze(ctx, &zfs.Runner{}, snapsource.Options{Datasets: []string{"rpool/home", "rpool/var/lib"}})
	if err != nil {
		log.Fatal(err)
	}
	defer f.Release(ctx) // clones, holds and snapshots go, also on failure
	res, err := archiver.Backup(ctx, r, archiver.Options{Paths: f.Paths(), Redirects: f.Redirects(), Tags: f.Tags()})
	if err != nil {
		log.Print(err)
		return
	}
	log.Println("snapshot", res.SnapshotID.Str())
}
