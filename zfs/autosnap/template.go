// Package autosnap keeps ZFS snapshots by policy, as sanoid does: a
// Template says how many snapshots of each period (frequently, hourly,
// daily, weekly, monthly, yearly) to keep; Decide works out, from the
// existing snapshots and the time, which snapshots to take and which to
// destroy; TakeSnapshots and Prune carry that out with a zfs.Runner.
//
// It is a package of its own because the policy is pure logic, tested
// over simulated months without ZFS, and the zfs package stays a driver of
// the commands. Snapshots are named like sanoid's
// (autosnap_2026-11-22_14:00:00_hourly), so sanoid and hbackup recognise
// each other's. A held snapshot (userrefs > 0, for example the last
// common snapshot of a replication, which zfs.Replicate holds) is never
// destroyed.
package autosnap

import (
	"fmt"
	"strings"
	"time"
)

// Period is a snapshot period.
type Period int

// The periods, shortest first.
const (
	Frequently Period = iota
	Hourly
	Daily
	Weekly
	Monthly
	Yearly
)

// Periods lists every period, shortest first.
func Periods() []Period {
	return []Period{Frequently, Hourly, Daily, Weekly, Monthly, Yearly}
}

var periodNames = [...]string{"frequently", "hourly", "daily", "weekly", "monthly", "yearly"}

func (p Period) String() string {
	if p < 0 || int(p) >= len(periodNames) {
		return fmt.Sprintf("Period(%d)", int(p))
	}
	return periodNames[p]
}

// DefaultFrequentPeriod is the period of "frequently" snapshots when the
// template leaves it 0 (sanoid's default).
const DefaultFrequentPeriod = 15 * time.Minute

// Prefix starts the name of every snapshot this package manages.
const Prefix = "autosnap"

// Template is a snapshot policy. The zero value keeps nothing and takes
// nothing; set the counts.
type Template struct {
	Frequently, Hourly, Daily, Weekly, Monthly, Yearly int           // how many to keep
	FrequentPeriod                                     time.Duration // of "frequently"; 0 is 15 minutes
	NoAutosnap                                         bool          // take no snapshots
	NoAutoprune                                        bool          // destroy no snapshots
	Recursive                                          bool          // snapshots of descendants too, in one atomic zfs snapshot -r
}

// DefaultTemplate is the policy of the hbackup zfs commands' flags:
// 24 hourly, 7 daily, 4 weekly and 3 monthly snapshots.
func DefaultTemplate() Template {
	return Template{Hourly: 24, Daily: 7, Weekly: 4, Monthly: 3}
}

// Count returns how many snapshots of p the template keeps.
func (t Template) Count(p Period) int {
	switch p {
	case Frequently:
		return t.Frequently
	case Hourly:
		return t.Hourly
	case Daily:
		return t.Daily
	case Weekly:
		return t.Weekly
	case Monthly:
		return t.Monthly
	case Yearly:
		return t.Yearly
	}
	return 0
}

func (t Template) frequentPeriod() time.Duration {
	if t.FrequentPeriod <= 0 {
		return DefaultFrequentPeriod
	}
	return t.FrequentPeriod
}

// nameLayout is the time part of a snapshot name.
const nameLayout = "2006-01-02_15:04:05"

// Name returns the snapshot name (the part after @) for period p taken at
// t, in t's location: autosnap_2026-11-22_14:00:00_hourly.
func Name(p Period, t time.Time) string {
	return Prefix + "_" + t.Format(nameLayout) + "_" + p.String()
}

// ParseName reads a name made by Name, with the time in loc. ok is false
// for names this package does not manage.
func ParseName(name string, loc *time.Location) (p Period, t time.Time, ok bool) {
	rest, found := strings.CutPrefix(name, Prefix+"_")
	if !found || len(rest) < len(nameLayout)+2 || rest[len(nameLayout)] != '_' {
		return 0, time.Time{}, false
	}
	t, err := time.ParseInLocation(nameLayout, rest[:len(nameLayout)], loc)
	if err != nil {
		return 0, time.Time{}, false
	}
	suffix := rest[len(nameLayout)+1:]
	for i, n := range periodNames {
		if n == suffix {
			return Period(i), t, true
		}
	}
	return 0, time.Time{}, false
}

// periodStart returns the start of the period p containing now, in now's
// location. time.Date normalises times a DST change skips.
func periodStart(p Period, now time.Time, frequent time.Duration) time.Time {
	y, m, d := now.Date()
	loc := now.Location()
	day := time.Date(y, m, d, 0, 0, 0, 0, loc)
	switch p {
	case Frequently:
		// Slots count from the hour, so 15-minute slots start at :00,
		// :15, :30, :45 whatever DST did to the day.
		hour := time.Date(y, m, d, now.Hour(), 0, 0, 0, loc)
		if frequent >= time.Hour {
			hour = day
		}
		return hour.Add(now.Sub(hour) / frequent * frequent)
	case Hourly:
		return time.Date(y, m, d, now.Hour(), 0, 0, 0, loc)
	case Daily:
		return day
	case Weekly:
		back := (int(now.Weekday()) + 6) % 7 // days since Monday
		return time.Date(y, m, d-back, 0, 0, 0, 0, loc)
	case Monthly:
		return time.Date(y, m, 1, 0, 0, 0, 0, loc)
	case Yearly:
		return time.Date(y, 1, 1, 0, 0, 0, 0, loc)
	}
	return now
}
