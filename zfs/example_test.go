package zfs_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/hbackup/hbackup/zfs"
)

// Take a snapshot, keep it from being destroyed while it is used, and
// list the snapshots.
func Example() {
	ctx := context.Background()
	var r zfs.Runner // "zfs" and "zpool" from PATH
	if err := r.Snapshot(ctx, []string{"rpool/home@backup"}, true, nil); err != nil {
		if errors.Is(err, zfs.ErrNotExist) {
			log.Fatal("no such dataset")
		}
		log.Fatal(err)
	}
	if err := r.Hold(ctx, "hbackup", "rpool/home@backup"); err != nil {
		log.Fatal(err)
	}
	defer r.Release(ctx, "hbackup", "rpool/home@backup")
	snaps, err := r.Snapshots(ctx, "rpool/home", false)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range snaps {
		fmt.Println(s.FullName(), s.Created, s.UserRefs)
	}
}

// Replicate a dataset to a NAS over ssh: a full send the first time,
// incremental sends afterwards.
func ExampleReplicate() {
	ctx := context.Background()
	src := &zfs.Runner{}
	dst := &zfs.Runner{Wrapper: []string{"ssh", "backup@nas"}}
	res, err := zfs.Replicate(ctx, src, dst, zfs.ReplicateOptions{
		Source:         "rpool/home",
		Target:         "tank/backup/home",
		NoMount:        true,
		BytesPerSecond: 10 << 20,
	})
	if errors.Is(err, zfs.ErrNoCommonSnapshot) {
		log.Fatal("target has unrelated snapshots; use Force to overwrite")
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("sent up to", res.Latest)
}
