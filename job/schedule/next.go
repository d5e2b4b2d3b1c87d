package schedule

import "time"

// maxYear bounds the search, as systemd does.
const maxYear = 2199

// Next returns the first time strictly after after at which the event
// elapses, or the zero time if it never does again.
//
// Wall-clock times are resolved in the schedule's location. A time that
// does not exist because clocks jump forward (02:30 on the day summer time
// starts in Europe) runs at the instant the jump lands on (03:30), so a
// daily job is not skipped; a time that happens twice when clocks go back
// runs once, at its first occurrence.
func (s *Schedule) Next(after time.Time) time.Time {
	a := after.In(s.loc)
	ay, am, ad := a.Date()
	for y := ay; y <= maxYear; y++ {
		if s.years != nil && !s.years[y] {
			continue
		}
		for m := time.January; m <= time.December; m++ {
			if !s.months[m] || y == ay && m < am {
				continue
			}
			for d := 1; d <= daysIn(y, m); d++ {
				sameDay := y == ay && m == am && d == ad
				if y == ay && m == am && d < ad || !s.days[d] {
					continue
				}
				if !s.weekdays[time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Weekday()] {
					continue
				}
				if t, ok := s.onDay(y, m, d, a, sameDay); ok {
					return t
				}
			}
		}
	}
	return time.Time{}
}

// onDay finds the first matching time on one date after a.
func (s *Schedule) onDay(y int, m time.Month, d int, a time.Time, sameDay bool) (time.Time, bool) {
	var gap time.Time // earliest candidate moved by a forward jump
	for _, h := range s.hours {
		if sameDay && h < a.Hour() {
			continue
		}
		for _, mi := range s.minutes {
			if sameDay && h == a.Hour() && mi < a.Minute() {
				continue
			}
			for _, sec := range s.seconds {
				t, exists := s.resolve(y, m, d, h, mi, sec)
				if !t.After(a) {
					continue
				}
				if !exists {
					if gap.IsZero() || t.Before(gap) {
						gap = t
					}
					continue
				}
				if !gap.IsZero() && gap.Before(t) {
					return gap, true
				}
				return t, true
			}
		}
	}
	return gap, !gap.IsZero()
}

// resolve turns a wall-clock time into an instant. time.Date leaves the
// choice open around DST changes (and Go's choice differs east and west
// of Greenwich), so both offsets are tried: a time that happens twice
// resolves to its first occurrence, and one that does not exist (exists is
// false) to the instant it would have been under the offset before the
// jump, which is after the jump.
func (s *Schedule) resolve(y int, m time.Month, d, h, mi, sec int) (t time.Time, exists bool) {
	t = time.Date(y, m, d, h, mi, sec, 0, s.loc)
	_, before := t.Add(-12 * time.Hour).Zone()
	_, after := t.Add(12 * time.Hour).Zone()
	if before == after {
		return t, true // no offset change within 12 hours
	}
	wall := time.Date(y, m, d, h, mi, sec, 0, time.UTC)
	matches := func(c time.Time) bool {
		cy, cm, cd := c.Date()
		return cy == y && cm == m && cd == d && c.Hour() == h && c.Minute() == mi && c.Second() == sec
	}
	a := wall.Add(-time.Duration(before) * time.Second).In(s.loc)
	b := wall.Add(-time.Duration(after) * time.Second).In(s.loc)
	switch okA, okB := matches(a), matches(b); {
	case okA && okB:
		if b.Before(a) {
			return b, true
		}
		return a, true
	case okA:
		return a, true
	case okB:
		return b, true
	}
	if b.After(a) {
		return b, false
	}
	return a, false
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
