package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // DST tests must not depend on the machine's zoneinfo
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestNext(t *testing.T) {
	utc := time.UTC
	berlin := mustLoc(t, "Europe/Berlin")
	ny := mustLoc(t, "America/New_York")
	at := func(loc *time.Location, y int, m time.Month, d, h, mi, s int) time.Time {
		return time.Date(y, m, d, h, mi, s, 0, loc)
	}
	// 2026-11-20 is a Friday.
	cases := []struct {
		expr  string
		loc   *time.Location
		after time.Time
		want  time.Time
	}{
		{"daily", utc, at(utc, 2026, 11, 20, 10, 0, 0), at(utc, 2026, 11, 21, 0, 0, 0)},
		{"daily", utc, at(utc, 2026, 11, 20, 23, 59, 59), at(utc, 2026, 11, 21, 0, 0, 0)},
		{"daily", utc, at(utc, 2026, 11, 21, 0, 0, 0), at(utc, 2026, 11, 22, 0, 0, 0)}, // strictly after
		{"hourly", utc, at(utc, 2026, 11, 20, 10, 0, 0), at(utc, 2026, 11, 20, 11, 0, 0)},
		{"hourly", utc, at(utc, 2026, 12, 31, 23, 30, 0), at(utc, 2027, 1, 1, 0, 0, 0)},
		{"minutely", utc, at(utc, 2026, 11, 20, 10, 0, 1), at(utc, 2026, 11, 20, 10, 1, 0)},
		{"weekly", utc, at(utc, 2026, 11, 20, 10, 0, 0), at(utc, 2026, 11, 23, 0, 0, 0)},
		{"monthly", utc, at(utc, 2026, 11, 20, 10, 0, 0), at(utc, 2026, 12, 1, 0, 0, 0)},
		{"quarterly", utc, at(utc, 2026, 11, 20, 10, 0, 0), at(utc, 2027, 1, 1, 0, 0, 0)},
		{"semiannually", utc, at(utc, 2026, 3, 1, 0, 0, 0), at(utc, 2026, 7, 1, 0, 0, 0)},
		{"yearly", utc, at(utc, 2026, 11, 20, 10, 0, 0), at(utc, 2027, 1, 1, 0, 0, 0)},
		{"annually", utc, at(utc, 2026, 1, 1, 0, 0, 0), at(utc, 2027, 1, 1, 0, 0, 0)},
		{"*-*-* 02:00:00", utc, at(utc, 2026, 11, 20, 1, 59, 59), at(utc, 2026, 11, 20, 2, 0, 0)},
		{"*-*-* 02:00:00", utc, at(utc, 2026, 11, 20, 2, 0, 0), at(utc, 2026, 11, 21, 2, 0, 0)},
		{"02:30", utc, at(utc, 2026, 11, 20, 3, 0, 0), at(utc, 2026, 11, 21, 2, 30, 0)},
		{"Mon..Fri 03:00", utc, at(utc, 2026, 11, 20, 4, 0, 0), at(utc, 2026, 11, 23, 3, 0, 0)},
		{"Mon..Fri 03:00", utc, at(utc, 2026, 11, 20, 2, 0, 0), at(utc, 2026, 11, 20, 3, 0, 0)},
		{"Sat,Sun 10:00", utc, at(utc, 2026, 11, 20, 4, 0, 0), at(utc, 2026, 11, 21, 10, 0, 0)},
		{"Sat..Mon 10:00", utc, at(utc, 2026, 11, 22, 11, 0, 0), at(utc, 2026, 11, 23, 10, 0, 0)}, // wraps
		{"Sunday", utc, at(utc, 2026, 11, 20, 4, 0, 0), at(utc, 2026, 11, 22, 0, 0, 0)},
		{"*-*-01 04:15", utc, at(utc, 2026, 11, 20, 4, 0, 0), at(utc, 2026, 12, 1, 4, 15, 0)},
		{"*-02-29", utc, at(utc, 2026, 3, 1, 0, 0, 0), at(utc, 2028, 2, 29, 0, 0, 0)},
		{"*-*-31", utc, at(utc, 2026, 4, 1, 0, 0, 0), at(utc, 2026, 5, 31, 0, 0, 0)},
		{"2030-06-15 12:00", utc, at(utc, 2026, 1, 1, 0, 0, 0), at(utc, 2030, 6, 15, 12, 0, 0)},
		{"2020-01-01", utc, at(utc, 2026, 1, 1, 0, 0, 0), time.Time{}}, // in the past: never
		{"*-02-30", utc, at(utc, 2026, 1, 1, 0, 0, 0), time.Time{}},    // no such day
		{"*:0/15", utc, at(utc, 2026, 11, 20, 10, 16, 0), at(utc, 2026, 11, 20, 10, 30, 0)},
		{"*-*-* *:00/20:00", utc, at(utc, 2026, 11, 20, 10, 41, 0), at(utc, 2026, 11, 20, 11, 0, 0)},
		{"*-*-* 0/6:00", utc, at(utc, 2026, 11, 20, 13, 0, 0), at(utc, 2026, 11, 20, 18, 0, 0)},
		{"*-*-* 08..10:30", utc, at(utc, 2026, 11, 20, 9, 31, 0), at(utc, 2026, 11, 20, 10, 30, 0)},
		{"*-*-* 1,13:00", utc, at(utc, 2026, 11, 20, 2, 0, 0), at(utc, 2026, 11, 20, 13, 0, 0)},
		{"Sat *-*-1..7 18:00:00", utc, at(utc, 2026, 11, 20, 0, 0, 0), at(utc, 2026, 12, 5, 18, 0, 0)}, // first Saturday
		{"*-*-* 12:00:30", utc, at(utc, 2026, 11, 20, 12, 0, 30), at(utc, 2026, 11, 21, 12, 0, 30)},
		{"daily", berlin, at(utc, 2026, 11, 20, 22, 30, 0), at(berlin, 2026, 11, 21, 0, 0, 0)}, // 23:30 Berlin
		// A trailing zone overrides the given location.
		{"*-*-* 09:00 America/New_York", berlin, at(utc, 2026, 11, 20, 10, 0, 0), at(ny, 2026, 11, 20, 9, 0, 0)},
		{"*-*-* 09:00 America/Port-au-Prince", utc, at(utc, 2026, 11, 20, 20, 0, 0), at(mustLoc(t, "America/Port-au-Prince"), 2026, 11, 21, 9, 0, 0)},
		{"09:00 Etc/GMT+5", utc, at(utc, 2026, 11, 20, 20, 0, 0), at(utc, 2026, 11, 21, 14, 0, 0)},
		{"daily UTC", berlin, at(utc, 2026, 11, 20, 10, 0, 0), at(utc, 2026, 11, 21, 0, 0, 0)},

		// DST, Europe/Berlin 2026: clocks go 02:00 → 03:00 on 29 March and
		// 03:00 → 02:00 on 25 October.
		// A daily 02:30 does not exist on 29 March: it runs when the jump lands.
		{"02:30", berlin, at(berlin, 2026, 3, 28, 2, 30, 0), time.Date(2026, 3, 29, 1, 30, 0, 0, utc)},
		// and is back to normal the next day.
		{"02:30", berlin, time.Date(2026, 3, 29, 1, 30, 0, 0, utc), at(berlin, 2026, 3, 30, 2, 30, 0)},
		// The nonexistent time comes after the earlier ones of the day.
		{"*-*-* 01,02:30,45", berlin, at(berlin, 2026, 3, 29, 1, 45, 0), time.Date(2026, 3, 29, 1, 30, 0, 0, utc)},
		// 03:00 on the spring day is one real hour after 01:00.
		{"hourly", berlin, at(berlin, 2026, 3, 29, 1, 0, 0), at(berlin, 2026, 3, 29, 3, 0, 0)},
		// A daily 03:15 is unaffected by the jump, 23 real hours after the day before.
		{"03:15", berlin, at(berlin, 2026, 3, 28, 3, 15, 0), time.Date(2026, 3, 29, 1, 15, 0, 0, utc)},
		// In October, 02:30 happens twice; it runs once, the first time,
		{"02:30", berlin, at(berlin, 2026, 10, 24, 2, 30, 0), time.Date(2026, 10, 25, 0, 30, 0, 0, utc)},
		{"02:30", berlin, time.Date(2026, 10, 25, 0, 30, 0, 0, utc), at(berlin, 2026, 10, 26, 2, 30, 0)},
		// also when asked between the two occurrences.
		{"02:30", berlin, time.Date(2026, 10, 25, 1, 0, 0, 0, utc), at(berlin, 2026, 10, 26, 2, 30, 0)},
		// New York falls back at 02:00 on 1 November 2026: 01:30 runs at EDT.
		{"01:30", ny, at(ny, 2026, 10, 31, 1, 30, 0), time.Date(2026, 11, 1, 5, 30, 0, 0, utc)},
		// A daily midnight on the long day: 25 real hours apart.
		{"daily", berlin, at(berlin, 2026, 10, 25, 0, 0, 0), time.Date(2026, 10, 25, 23, 0, 0, 0, utc)},
		// New York springs forward at 02:00 on 8 March 2026.
		{"02:00", ny, at(ny, 2026, 3, 7, 2, 0, 0), time.Date(2026, 3, 8, 7, 0, 0, 0, utc)},
	}
	for _, tc := range cases {
		s, err := Parse(tc.expr, tc.loc)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.expr, err)
			continue
		}
		got := s.Next(tc.after)
		if !got.Equal(tc.want) || got.IsZero() != tc.want.IsZero() {
			t.Errorf("%q in %v: Next(%v) = %v, want %v", tc.expr, tc.loc, tc.after, got, tc.want.In(tc.loc))
		}
	}
}

// TestNextIsStrictlyIncreasing walks a year of an every-20-minutes
// schedule across both DST changes: each run is later than the one before
// and no real hour has more than three runs.
func TestNextIsStrictlyIncreasing(t *testing.T) {
	s, err := Parse("*:0/20", mustLoc(t, "Europe/Berlin"))
	if err != nil {
		t.Fatal(err)
	}
	prev := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	perHour := map[int64]int{}
	for range 3 * 24 * 366 {
		next := s.Next(prev)
		if !next.After(prev) {
			t.Fatalf("Next(%v) = %v", prev, next)
		}
		perHour[next.Unix()/3600]++
		if perHour[next.Unix()/3600] > 3 {
			t.Fatalf("more than 3 runs in the hour of %v", next)
		}
		prev = next
	}
}

func TestParseErrors(t *testing.T) {
	for expr, want := range map[string]string{
		"":                 "empty",
		"dayly":            `unknown shorthand or weekday "dayly"`,
		"Mon..Fry":         `unknown weekday "Fry"`,
		"*-*-* 24:00":      "hour 24 is out of range 0..23",
		"*-*-* 10:60":      "minute 60 is out of range 0..59",
		"*-13-01":          "month 13 is out of range 1..12",
		"*-*-32":           "day 32 is out of range 1..31",
		"1969-01-01":       "year 1969 is out of range 1970..2199",
		"*-*-* 5..3:00":    `hour range "5..3" is reversed`,
		"*:0/0":            `minute "0/0": repetition must be a positive number`,
		"*-*-* x:00":       `hour "x" is not a number`,
		"*-*-*-* 10:00":    `date "*-*-*-*": want [YYYY-]MM-DD`,
		"10:00:00:00":      `time "10:00:00:00": want HH:MM[:SS]`,
		"daily Mars/Olymp": `unknown time zone "Mars/Olymp"`,
		"10:00 12:00":      "expected [WEEKDAYS] [DATE] [TIME]",
	} {
		_, err := Parse(expr, time.UTC)
		if err == nil || !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want ErrSyntax containing %q", expr, err, want)
		}
	}
}
