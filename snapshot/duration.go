package snapshot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a calendar span as restic's --keep-within takes it: years,
// months, days and hours. Years, months and days are calendar units (a
// month back from March 31 is March 3 or 2, as time.AddDate), hours are
// exact.
type Duration struct {
	Years, Months, Days, Hours int
}

// ParseDuration parses restic's "NyNmNdNh" form, such as "1y2m3d4h" or
// "36h". Units may come in any order and may be left out; a repeated unit
// overrides the earlier one ("2d3d" is 3 days), as in restic. Surrounding
// spaces are ignored and the empty string is the zero Duration. Negative
// numbers are rejected: restic 0.14 accepted them and then removed every
// snapshot of a group, newer restic refuses them.
func ParseDuration(s string) (Duration, error) {
	var d Duration
	rest := strings.TrimSpace(s)
	for rest != "" {
		if rest[0] == '-' {
			return Duration{}, fmt.Errorf("invalid duration %q: negative values are not allowed", s)
		}
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return Duration{}, fmt.Errorf("invalid duration %q: no number found", s)
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil {
			return Duration{}, fmt.Errorf("invalid duration %q: %w", s, err)
		}
		if i == len(rest) {
			return Duration{}, fmt.Errorf("invalid duration %q: no unit found after number %d", s, n)
		}
		switch rest[i] {
		case 'y':
			d.Years = n
		case 'm':
			d.Months = n
		case 'd':
			d.Days = n
		case 'h':
			d.Hours = n
		default:
			return Duration{}, fmt.Errorf("invalid duration %q: invalid unit %q found after number %d (want y, m, d or h)", s, rest[i], n)
		}
		rest = rest[i+1:]
	}
	return d, nil
}

// String formats d as restic does: "1y2m3d4h", leaving out zero units; the
// zero Duration is "".
func (d Duration) String() string {
	var b strings.Builder
	for _, p := range []struct {
		n    int
		unit string
	}{{d.Years, "y"}, {d.Months, "m"}, {d.Days, "d"}, {d.Hours, "h"}} {
		if p.n != 0 {
			b.WriteString(strconv.Itoa(p.n) + p.unit)
		}
	}
	return b.String()
}

// IsZero reports whether all units are zero, meaning "not set".
func (d Duration) IsZero() bool {
	return d == Duration{}
}

// Before returns t moved back by d: first the calendar part with AddDate,
// in t's own location, then the hours.
func (d Duration) Before(t time.Time) time.Time {
	return t.AddDate(-d.Years, -d.Months, -d.Days).Add(-time.Duration(d.Hours) * time.Hour)
}

// Set parses s into d; with Type it makes *Duration a command-line flag
// value (pflag.Value).
func (d *Duration) Set(s string) error {
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Type names the flag value type in help texts.
func (d *Duration) Type() string { return "duration" }
