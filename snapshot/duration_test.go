package snapshot

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Duration
		str  string
	}{
		{"", Duration{}, ""},
		{"1y2m3d4h", Duration{1, 2, 3, 4}, "1y2m3d4h"},
		{"4h3d2m1y", Duration{1, 2, 3, 4}, "1y2m3d4h"}, // any order
		{"36h", Duration{Hours: 36}, "36h"},
		{"2d3d", Duration{Days: 3}, "3d"}, // a repeated unit overrides
		{" 7d ", Duration{Days: 7}, "7d"},
		{"0d", Duration{}, ""},
		{"1y0m", Duration{Years: 1}, "1y"},
		{"010d", Duration{Days: 10}, "10d"},
	} {
		got, err := ParseDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		if got.String() != tc.str {
			t.Errorf("ParseDuration(%q).String() = %q, want %q", tc.in, got.String(), tc.str)
		}
	}
}

func TestParseDurationErrors(t *testing.T) {
	for _, tc := range []struct{ in, msg string }{
		{"1w", "invalid unit 'w' found after number 1"},
		{"1", "no unit found after number 1"},
		{"d", "no number found"},
		{"1d2", "no unit found after number 2"},
		{"-1d", "negative"},
		{"1d-2h", "negative"},
		{"+1d", "no number found"},
		{"1 d", "invalid unit ' '"},
		{"99999999999999999999d", "out of range"},
		{"１d", "no number found"}, // a full-width digit is not a number here
	} {
		_, err := ParseDuration(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("ParseDuration(%q) error %v, want one containing %q", tc.in, err, tc.msg)
		}
	}
}

func TestDurationBefore(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	for _, tc := range []struct {
		d    Duration
		from time.Time
		want time.Time
	}{
		// AddDate normalises: March 31 minus a month is "February 31",
		// which is March 3 in 2023.
		{Duration{Months: 1}, time.Date(2023, 3, 31, 12, 0, 0, 0, time.UTC), time.Date(2023, 3, 3, 12, 0, 0, 0, time.UTC)},
		{Duration{Years: 1}, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC)},
		// The calendar part is taken in the time's own zone: across the
		// DST change a day is 23 hours, then the hours are exact.
		{Duration{Days: 1, Hours: 1}, time.Date(2023, 3, 26, 12, 0, 0, 0, berlin), time.Date(2023, 3, 25, 11, 0, 0, 0, berlin)},
	} {
		if got := tc.d.Before(tc.from); !got.Equal(tc.want) {
			t.Errorf("%v before %v = %v, want %v", tc.d, tc.from, got, tc.want)
		}
	}
}

func TestDurationFlagValue(t *testing.T) {
	var d Duration
	if err := d.Set("1y5m7d2h"); err != nil || d != (Duration{1, 5, 7, 2}) {
		t.Fatalf("Set: %+v %v", d, err)
	}
	if err := d.Set("5x"); err == nil || d != (Duration{1, 5, 7, 2}) {
		t.Fatalf("Set of a bad value: %+v %v", d, err)
	}
	if d.Type() != "duration" || !(Duration{}).IsZero() || d.IsZero() {
		t.Fatal("Type or IsZero")
	}
}
