// Package schedule parses systemd calendar events (the OnCalendar= syntax
// the NixOS restic module uses) and computes when they next elapse.
//
// Supported: the shorthands minutely, hourly, daily, weekly, monthly,
// quarterly, semiannually, yearly and annually; "[WEEKDAYS] [[YYYY-]MM-DD]
// [HH:MM[:SS]] [TIMEZONE]" where each numeric field is "*", a value, a
// list "1,15", a range "1..5" or a repetition "*/15" or "0/6", and weekdays
// are names ("Mon", "Monday"), lists and ranges ("Mon..Fri"). Not
// supported: the last-day "~" syntax and fractional seconds.
package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrSyntax is wrapped by every parse error.
var ErrSyntax = errors.New("invalid calendar event")

// Schedule is a parsed calendar event. It is immutable.
type Schedule struct {
	expr     string
	loc      *time.Location
	weekdays [7]bool // indexed by time.Weekday
	years    map[int]bool
	months   [13]bool
	days     [32]bool
	hours    []int
	minutes  []int
	seconds  []int
}

var shorthands = map[string]string{
	"minutely":     "*-*-* *:*:00",
	"hourly":       "*-*-* *:00:00",
	"daily":        "*-*-* 00:00:00",
	"weekly":       "Mon *-*-* 00:00:00",
	"monthly":      "*-*-01 00:00:00",
	"quarterly":    "*-01,04,07,10-01 00:00:00",
	"semiannually": "*-01,07-01 00:00:00",
	"yearly":       "*-01-01 00:00:00",
	"annually":     "*-01-01 00:00:00",
}

// Parse parses a calendar event. Times are wall-clock times in loc (nil
// means time.Local) unless the expression ends with a time zone name such
// as "UTC" or "Europe/Berlin".
func Parse(expr string, loc *time.Location) (*Schedule, error) {
	if loc == nil {
		loc = time.Local
	}
	s := &Schedule{expr: expr, loc: loc}
	fail := func(format string, args ...any) (*Schedule, error) {
		return nil, fmt.Errorf("%w %q: %s", ErrSyntax, expr, fmt.Sprintf(format, args...))
	}
	tokens := strings.Fields(expr)
	if len(tokens) == 0 {
		return fail("empty")
	}
	if last := tokens[len(tokens)-1]; len(tokens) > 1 && isZoneName(last) {
		l, err := time.LoadLocation(last)
		if err != nil {
			return fail("unknown time zone %q", last)
		}
		s.loc, tokens = l, tokens[:len(tokens)-1]
	}
	if len(tokens) == 1 {
		if full, ok := shorthands[strings.ToLower(tokens[0])]; ok {
			tokens = strings.Fields(full)
		}
	}
	for i := range s.weekdays {
		s.weekdays[i] = true
	}
	if c := tokens[0][0]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
		if err := s.parseWeekdays(tokens[0]); err != nil {
			if len(tokens) == 1 && !strings.ContainsAny(tokens[0], ",.") {
				return fail("unknown shorthand or weekday %q (shorthands: minutely, hourly, daily, weekly, monthly, quarterly, semiannually, yearly)", tokens[0])
			}
			return fail("%v", err)
		}
		tokens = tokens[1:]
	}
	date, clock := "*-*-*", "00:00:00"
	switch {
	case len(tokens) == 0:
	case len(tokens) == 1 && strings.Contains(tokens[0], ":"):
		clock = tokens[0]
	case len(tokens) == 1 && strings.Contains(tokens[0], "-"):
		date = tokens[0]
	case len(tokens) == 2 && strings.Contains(tokens[0], "-") && strings.Contains(tokens[1], ":"):
		date, clock = tokens[0], tokens[1]
	default:
		return fail("expected [WEEKDAYS] [DATE] [TIME], e.g. \"Mon..Fri 03:00\" or \"*-*-* 02:00:00\"")
	}
	if err := s.parseDate(date); err != nil {
		return fail("%v", err)
	}
	if err := s.parseTime(clock); err != nil {
		return fail("%v", err)
	}
	return s, nil
}

// isZoneName tells a trailing time zone ("UTC", "Europe/Berlin",
// "Etc/GMT+5") from calendar fields, which start with a digit or '*' and
// (weekdays aside) never with a letter.
func isZoneName(s string) bool {
	c := s[0]
	letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	return letter && (strings.Contains(s, "/") || s == "UTC")
}

// String returns the expression as given.
func (s *Schedule) String() string { return s.expr }

// Location returns the time zone the wall-clock times are in.
func (s *Schedule) Location() *time.Location { return s.loc }

func (s *Schedule) parseDate(date string) error {
	parts := strings.Split(date, "-")
	var year string
	switch len(parts) {
	case 2:
		year = "*"
	case 3:
		year, parts = parts[0], parts[1:]
	default:
		return fmt.Errorf("date %q: want [YYYY-]MM-DD", date)
	}
	if year != "*" {
		ys, err := field(year, "year", 1970, 2199)
		if err != nil {
			return err
		}
		s.years = map[int]bool{}
		for _, y := range ys {
			s.years[y] = true
		}
	}
	ms, err := field(parts[0], "month", 1, 12)
	if err != nil {
		return err
	}
	for _, m := range ms {
		s.months[m] = true
	}
	ds, err := field(parts[1], "day", 1, 31)
	if err != nil {
		return err
	}
	for _, d := range ds {
		s.days[d] = true
	}
	return nil
}

func (s *Schedule) parseTime(clock string) error {
	parts := strings.Split(clock, ":")
	if len(parts) == 2 {
		parts = append(parts, "00")
	}
	if len(parts) != 3 {
		return fmt.Errorf("time %q: want HH:MM[:SS]", clock)
	}
	var err error
	if s.hours, err = field(parts[0], "hour", 0, 23); err != nil {
		return err
	}
	if s.minutes, err = field(parts[1], "minute", 0, 59); err != nil {
		return err
	}
	s.seconds, err = field(parts[2], "second", 0, 59)
	return err
}
