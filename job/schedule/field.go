package schedule

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// field parses one numeric component ("*", "5", "1,15", "1..5", "*/15",
// "0/6") into its sorted, distinct values within [lo, hi].
func field(spec, name string, lo, hi int) ([]int, error) {
	var out []int
	for _, item := range strings.Split(spec, ",") {
		start, end, step := lo, hi, 1
		base, rep, hasRep := strings.Cut(item, "/")
		if hasRep {
			n, err := strconv.Atoi(rep)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("%s %q: repetition must be a positive number", name, item)
			}
			step = n
		}
		switch {
		case base == "*":
		case strings.Contains(base, ".."):
			a, b, _ := strings.Cut(base, "..")
			var err error
			if start, err = value(a, name, lo, hi); err != nil {
				return nil, err
			}
			if end, err = value(b, name, lo, hi); err != nil {
				return nil, err
			}
			if end < start {
				return nil, fmt.Errorf("%s range %q is reversed", name, base)
			}
		default:
			v, err := value(base, name, lo, hi)
			if err != nil {
				return nil, err
			}
			start = v
			if !hasRep {
				end = v
			}
		}
		for v := start; v <= end; v += step {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func value(s, name string, lo, hi int) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a number", name, s)
	}
	if v < lo || v > hi {
		return 0, fmt.Errorf("%s %d is out of range %d..%d", name, v, lo, hi)
	}
	return v, nil
}

var weekdayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

func weekday(s string) (time.Weekday, error) {
	d, ok := weekdayNames[strings.ToLower(s)]
	if !ok {
		return 0, fmt.Errorf("unknown weekday %q", s)
	}
	return d, nil
}

// parseWeekdays parses "Mon", "Mon,Wed", "Mon..Fri", "Sat..Mon" (wrapping).
func (s *Schedule) parseWeekdays(spec string) error {
	s.weekdays = [7]bool{}
	for _, item := range strings.Split(spec, ",") {
		if item == "" {
			continue
		}
		a, b, isRange := strings.Cut(item, "..")
		first, err := weekday(a)
		if err != nil {
			return err
		}
		last := first
		if isRange {
			if last, err = weekday(b); err != nil {
				return err
			}
		}
		for d := first; ; d = (d + 1) % 7 {
			s.weekdays[d] = true
			if d == last {
				break
			}
		}
	}
	return nil
}
