package snapshot_test

import (
	"fmt"
	"time"

	"github.com/hbackup/hbackup/snapshot"
)

// Apply restic's "--keep-daily 2 --keep-weekly 2" to one host's snapshots.
// Each day counts in the snapshot's own time zone, and weeks are ISO weeks,
// so 2021-01-03 still belongs to week 53 of 2020.
func ExampleApplyPolicy() {
	var sns []*snapshot.Snapshot
	for _, ts := range []string{
		"2020-12-24T22:00:00+01:00",
		"2020-12-31T23:30:00-05:00", // January 1 in UTC, December 31 here
		"2021-01-01T09:00:00+01:00",
		"2021-01-03T09:00:00+01:00",
		"2021-01-03T20:00:00+01:00",
	} {
		t, _ := time.Parse(time.RFC3339, ts)
		sns = append(sns, &snapshot.Snapshot{Time: t, Hostname: "vm", Paths: []string{"/srv"}})
	}
	policy := snapshot.ExpirePolicy{Daily: 2, Weekly: 2}
	fmt.Println(policy)

	keep, remove, reasons := snapshot.ApplyPolicy(sns, policy, time.Now())
	for i, sn := range keep {
		fmt.Println("keep  ", sn.Time.Format(time.RFC3339), reasons[i].Matches)
	}
	for _, sn := range remove {
		fmt.Println("remove", sn.Time.Format(time.RFC3339))
	}
	// Output:
	// keep 2 daily, 2 weekly snapshots
	// keep   2021-01-03T20:00:00+01:00 [daily snapshot weekly snapshot]
	// keep   2021-01-01T09:00:00+01:00 [daily snapshot]
	// keep   2020-12-24T22:00:00+01:00 [weekly snapshot]
	// remove 2021-01-03T09:00:00+01:00
	// remove 2020-12-31T23:30:00-05:00
}
