package schedule

import (
	"testing"
	"time"
)

// FuzzNext checks that any accepted expression yields a next time that is
// strictly later, or none at all.
func FuzzNext(f *testing.F) {
	for _, s := range []string{"daily", "Mon..Fri 03:00", "*-*-* 02:00:00", "*:0/15", "Sat *-*-1..7 18:00:00",
		"*-02-29", "2030-06-15 12:00 Europe/Berlin", "Sun,Wed 1,13:30:05"} {
		f.Add(s, int64(1_790_000_000))
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, expr string, unix int64) {
		s, err := Parse(expr, berlin)
		if err != nil {
			return
		}
		after := time.Unix(unix%(4_000_000_000), 0)
		next := s.Next(after)
		if !next.IsZero() && !next.After(after) {
			t.Fatalf("%q: Next(%v) = %v", expr, after, next)
		}
	})
}
