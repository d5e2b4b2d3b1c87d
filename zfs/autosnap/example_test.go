package autosnap_test

import (
	"fmt"
	"time"

	"github.com/hbackup/hbackup/zfs"
	"github.com/hbackup/hbackup/zfs/autosnap"
)

// Decide is pure: given a dataset's snapshots and the time, it says what
// to take and what to destroy.
func ExampleDecide() {
	now := time.Date(2026, 11, 22, 14, 0, 5, 0, time.UTC)
	snaps := []zfs.Snapshot{
		{Dataset: "rpool/home", Name: "autosnap_2026-11-22_12:00:00_hourly", CreateTXG: 1},
		{Dataset: "rpool/home", Name: "autosnap_2026-11-22_13:00:00_hourly", CreateTXG: 2},
	}
	plan := autosnap.Decide(snaps, autosnap.Template{Hourly: 2}, now)
	fmt.Println("create:", plan.Create)
	for _, s := range plan.Destroy {
		fmt.Println("destroy:", s.FullName())
	}
	// Output:
	// create: [autosnap_2026-11-22_14:00:05_hourly]
	// destroy: rpool/home@autosnap_2026-11-22_12:00:00_hourly
}
