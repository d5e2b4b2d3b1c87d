package snapshot

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// ExpirePolicy says which snapshots of one group forget keeps, with the
// meaning of restic 0.14's --keep-* options. A snapshot is kept when any
// rule keeps it.
type ExpirePolicy struct {
	// Keep the newest snapshot of each of the N most recent periods that
	// contain a snapshot ("last": the N newest snapshots). Periods are
	// taken in each snapshot's own stored time zone; weeks are ISO weeks.
	Last, Hourly, Daily, Weekly, Monthly, Yearly int

	// Within keeps every snapshot newer than the newest snapshot that is
	// not in the future, minus Within.
	Within Duration
	// WithinHourly and the others keep the newest snapshot of every
	// period inside that window, without a count limit.
	WithinHourly, WithinDaily, WithinWeekly, WithinMonthly, WithinYearly Duration

	// Tags keeps snapshots that have all tags of any of the lists
	// (--keep-tag); see TagList.Match.
	Tags []TagList

	// Restic016 switches to the rules of restic 0.16 and newer: a count
	// of -1 means unlimited, and the oldest snapshot of the group is kept
	// too for every period rule that has not used up its count (reason
	// "oldest …"). Off, counts below 1 keep nothing, as in 0.14.
	Restic016 bool
}

// Empty reports whether no rule is set. An empty policy keeps everything.
func (p ExpirePolicy) Empty() bool {
	return len(p.Tags) == 0 && p.counts() == [6]int{} && p.durations() == [6]Duration{}
}

func (p ExpirePolicy) counts() [6]int {
	return [6]int{p.Last, p.Hourly, p.Daily, p.Weekly, p.Monthly, p.Yearly}
}

func (p ExpirePolicy) durations() [6]Duration {
	return [6]Duration{p.Within, p.WithinHourly, p.WithinDaily, p.WithinWeekly, p.WithinMonthly, p.WithinYearly}
}

// period functions give the value that is equal for snapshots in the same
// period; nr is the snapshot's position, newest first.
type period func(t time.Time, nr int) int

func byNumber(_ time.Time, nr int) int { return nr } // every snapshot is its own period
func byHour(t time.Time, _ int) int    { return byDay(t, 0)*100 + t.Hour() }
func byDay(t time.Time, _ int) int     { return byMonth(t, 0)*100 + t.Day() }
func byMonth(t time.Time, _ int) int   { return t.Year()*100 + int(t.Month()) }
func byYear(t time.Time, _ int) int    { return t.Year() }

// byWeek uses the ISO week, which runs Monday to Sunday and may belong to
// the previous or next year around New Year (2020-W53 ends 2021-01-03).
func byWeek(t time.Time, _ int) int {
	y, w := t.ISOWeek()
	return y*100 + w
}

// rule is one period rule with its state while walking a group.
type rule struct {
	count  int      // remaining count (count rules); -1 unlimited
	within Duration // window (within rules)
	period period
	last   int // period value of the last kept snapshot; -1 before the first
	reason string
}

// String describes the policy as restic's "Applying Policy: …" line.
func (p ExpirePolicy) String() string {
	names := []string{"latest", "hourly", "daily", "weekly", "monthly", "yearly"}
	var keeps, withins []string
	for i, n := range p.counts() {
		switch {
		case n > 0:
			keeps = append(keeps, fmt.Sprintf("%d %s", n, names[i]))
		case n == -1 && p.Restic016:
			keeps = append(keeps, "all "+names[i])
		}
	}
	for i, d := range p.durations() {
		if i > 0 && !d.IsZero() { // 0 is Within, described last
			withins = append(withins, fmt.Sprintf("%s snapshots within %s", names[i], d))
		}
	}
	var s string
	if len(keeps) > 0 {
		s = strings.Join(keeps, ", ") + " snapshots"
	}
	if len(withins) > 0 {
		s = joinNonEmpty(s, ", ", strings.Join(withins, ", "))
	}
	if len(p.Tags) > 0 {
		s = joinNonEmpty(s, " and ", "all snapshots with tags "+tagListsString(p.Tags))
	}
	if !p.Within.IsZero() {
		s = joinNonEmpty(s, " and ", fmt.Sprintf("all snapshots within %s of the newest", p.Within))
	}
	return "keep " + s
}

func joinNonEmpty(a, sep, b string) string {
	if a == "" {
		return b
	}
	return a + sep + b
}

// Counters are the remaining counts of the count rules after a snapshot
// was evaluated, as restic reports them.
type Counters struct {
	Last    int `json:"last,omitempty"`
	Hourly  int `json:"hourly,omitempty"`
	Daily   int `json:"daily,omitempty"`
	Weekly  int `json:"weekly,omitempty"`
	Monthly int `json:"monthly,omitempty"`
	Yearly  int `json:"yearly,omitempty"`
}

// KeepReason says why a snapshot is kept. Its JSON is restic's.
type KeepReason struct {
	Snapshot *Snapshot `json:"snapshot"`
	// Matches are the rules that keep it, in restic's words, such as
	// "daily snapshot", "within 2d" or "has tags [a, b]".
	Matches  []string `json:"matches"`
	Counters Counters `json:"counters"`
}

// ApplyPolicy decides which snapshots of one group to keep and which to
// remove, exactly as restic 0.14 (or 0.16+ with p.Restic016). now is the
// current time: snapshots after it do not count as the newest for the
// within rules. keep and remove are ordered newest first (a stable sort by
// time, so equal times keep the input order); reasons are parallel to
// keep. sns is not modified.
func ApplyPolicy(sns []*Snapshot, p ExpirePolicy, now time.Time) (keep, remove []*Snapshot, reasons []KeepReason) {
	list := slices.Clone(sns)
	slices.SortStableFunc(list, func(a, b *Snapshot) int { return b.Time.Compare(a.Time) })
	if p.Empty() {
		for _, sn := range list {
			reasons = append(reasons, KeepReason{Snapshot: sn, Matches: []string{"policy is empty"}})
		}
		return list, nil, reasons
	}
	if len(list) == 0 {
		return nil, nil, nil
	}
	counted := []rule{
		{count: p.Last, period: byNumber, reason: "last snapshot"},
		{count: p.Hourly, period: byHour, reason: "hourly snapshot"},
		{count: p.Daily, period: byDay, reason: "daily snapshot"},
		{count: p.Weekly, period: byWeek, reason: "weekly snapshot"},
		{count: p.Monthly, period: byMonth, reason: "monthly snapshot"},
		{count: p.Yearly, period: byYear, reason: "yearly snapshot"},
	}
	windows := []rule{
		{within: p.WithinHourly, period: byHour, reason: "hourly within"},
		{within: p.WithinDaily, period: byDay, reason: "daily within"},
		{within: p.WithinWeekly, period: byWeek, reason: "weekly within"},
		{within: p.WithinMonthly, period: byMonth, reason: "monthly within"},
		{within: p.WithinYearly, period: byYear, reason: "yearly within"},
	}
	for i := range counted {
		counted[i].last = -1
	}
	for i := range windows {
		windows[i].last = -1
	}
	latest := newestBefore(list, now)

	for nr, sn := range list {
		var matches []string
		oldest := p.Restic016 && nr == len(list)-1
		// Tag rules are not counted.
		for _, l := range p.Tags {
			if l.Match(sn) {
				matches = append(matches, "has tags "+tagListString(l))
			}
		}
		if !p.Within.IsZero() && sn.Time.After(p.Within.Before(latest)) {
			matches = append(matches, "within "+p.Within.String())
		}
		for i := range counted {
			r := &counted[i]
			if r.count > 0 || (r.count == -1 && p.Restic016) {
				if m, ok := r.take(sn, nr, oldest); ok {
					matches = append(matches, m)
					if r.count > 0 {
						r.count--
					}
				}
			}
		}
		for i := range windows {
			r := &windows[i]
			if !r.within.IsZero() && sn.Time.After(r.within.Before(latest)) {
				if m, ok := r.take(sn, nr, oldest); ok {
					matches = append(matches, m+" "+r.within.String())
				}
			}
		}
		if len(matches) == 0 {
			remove = append(remove, sn)
			continue
		}
		keep = append(keep, sn)
		reasons = append(reasons, KeepReason{Snapshot: sn, Matches: matches, Counters: Counters{
			Last: counted[0].count, Hourly: counted[1].count, Daily: counted[2].count,
			Weekly: counted[3].count, Monthly: counted[4].count, Yearly: counted[5].count,
		}})
	}
	return keep, remove, reasons
}

// take reports whether the rule keeps sn because it starts a new period
// (or, with the 0.16 rules, because it is the group's oldest snapshot),
// and records the period.
func (r *rule) take(sn *Snapshot, nr int, oldest bool) (string, bool) {
	v := r.period(sn.Time, nr)
	if v != r.last {
		r.last = v
		return r.reason, true
	}
	if oldest {
		return "oldest " + r.reason, true
	}
	return "", false
}

// newestBefore returns the newest snapshot time before now, or the zero
// time when every snapshot is in the future; restic measures the within
// windows from it so that a clock gone wrong does not expire everything.
func newestBefore(list []*Snapshot, now time.Time) time.Time {
	var latest time.Time
	for _, sn := range list {
		if sn.Time.After(latest) && sn.Time.Before(now) {
			latest = sn.Time
		}
	}
	return latest
}

// SplitTagList parses a --keep-tag or forget --tag value as restic does:
// split at commas and trim spaces, keeping empty items, so "" gives [""]
// (snapshots without tags) and "a," gives ["a", ""] (which matches no
// snapshot). ParseTagList, which drops empty items, differs for "a,".
func SplitTagList(s string) TagList {
	var l TagList
	for _, t := range strings.Split(s, ",") {
		l = append(l, strings.TrimSpace(t))
	}
	return l
}

// Match reports whether sn has every tag of l, with restic's rule for the
// empty tag: reaching "" in l matches a snapshot without tags at once. An
// empty l matches every snapshot.
func (l TagList) Match(sn *Snapshot) bool {
	for _, t := range l {
		if t == "" && len(sn.Tags) == 0 {
			return true
		}
		if !slices.Contains(sn.Tags, t) {
			return false
		}
	}
	return true
}

// tagListString formats l as restic's messages do: "[a, b]".
func tagListString(l TagList) string {
	return "[" + strings.Join(l, ", ") + "]"
}

// tagListsString formats several lists as restic does: "[[a, b] [c]]".
func tagListsString(ls []TagList) string {
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = tagListString(l)
	}
	return "[" + strings.Join(s, " ") + "]"
}
