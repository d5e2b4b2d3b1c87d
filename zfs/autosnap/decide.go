package autosnap

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/hbackup/hbackup/zfs"
)

// Plan is what Decide wants done to one dataset.
type Plan struct {
	Create  []string       // names (after @) of snapshots to take now, one per due period
	Destroy []zfs.Snapshot // expired snapshots to destroy, oldest first
	Kept    []Kept         // expired snapshots that must stay, and why
}

// Kept is an expired snapshot that is not destroyed.
type Kept struct {
	Snapshot zfs.Snapshot
	Reason   string
}

// owned is one of our snapshots with its period and time.
type owned struct {
	snap   zfs.Snapshot
	period Period
	at     time.Time
}

// Decide plans one dataset's snapshots at now, in now's location (names
// use it). snaps are the dataset's snapshots; those not named by this
// package are ignored. A period is due when it has a count, autosnap is on
// and no snapshot of it was taken since the period started (the hour, the
// day, Monday, the 1st of the month, the 1st of January). Pruning keeps
// the newest Count(p) snapshots of each period, counting those about to
// be taken, and never destroys a held snapshot (UserRefs > 0) or one named
// in protect (full names "pool/ds@snap", for example the last common
// snapshot of a replication).
func Decide(snaps []zfs.Snapshot, t Template, now time.Time, protect ...string) Plan {
	now = now.Truncate(time.Second)
	var plan Plan
	exists := map[string]bool{}
	byPeriod := map[Period][]owned{}
	for _, s := range snaps {
		exists[s.Name] = true
		p, at, ok := ParseName(s.Name, now.Location())
		if !ok {
			continue
		}
		byPeriod[p] = append(byPeriod[p], owned{snap: s, period: p, at: at})
	}
	for _, p := range Periods() {
		list := byPeriod[p]
		// Newest first, by the time in the name, as sanoid does (the
		// creation property may differ: clocks, received snapshots).
		slices.SortStableFunc(list, func(a, b owned) int {
			if c := b.at.Compare(a.at); c != 0 {
				return c
			}
			return cmp.Compare(b.snap.CreateTXG, a.snap.CreateTXG)
		})
		byPeriod[p] = list
		if t.NoAutosnap || t.Count(p) <= 0 {
			continue
		}
		start := periodStart(p, now, t.frequentPeriod())
		if len(list) > 0 && !list[0].at.Before(start) {
			continue
		}
		name := Name(p, now)
		if exists[name] {
			continue // a repeated local hour (DST ends): that slot is taken
		}
		plan.Create = append(plan.Create, name)
		// The new snapshot is the newest of its period.
		byPeriod[p] = append([]owned{{snap: zfs.Snapshot{Name: name}, period: p, at: now}}, list...)
	}
	if t.NoAutoprune {
		return plan
	}
	for _, p := range Periods() {
		list := byPeriod[p]
		keep := max(t.Count(p), 0)
		if len(list) <= keep {
			continue
		}
		for _, o := range list[keep:] {
			switch {
			case o.snap.UserRefs > 0:
				plan.Kept = append(plan.Kept, Kept{o.snap, "held"})
			case slices.Contains(protect, o.snap.FullName()):
				plan.Kept = append(plan.Kept, Kept{o.snap, "protected"})
			default:
				plan.Destroy = append(plan.Destroy, o.snap)
			}
		}
	}
	slices.SortFunc(plan.Destroy, func(a, b zfs.Snapshot) int {
		if c := cmp.Compare(a.CreateTXG, b.CreateTXG); c != 0 {
			return c
		}
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return plan
}
