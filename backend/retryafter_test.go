package backend_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 2 * time.Minute, true},
		{" 0 ", 0, true},
		{"Sun, 22 Nov 2026 12:00:30 GMT", 30 * time.Second, true},
		{"Sun, 22 Nov 2026 11:00:00 GMT", 0, true}, // in the past: no wait
		{"", 0, false},
		{"-5", 0, false},
		{"soon", 0, false},
	} {
		got, ok := backend.ParseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzParseRetryAfter: any header value gives a non-negative wait of at
// most a day, or none.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "86401", "Sun, 22 Nov 2026 12:00:30 GMT", "-1", "9999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := backend.ParseRetryAfter(s, now)
		if d < 0 || (!ok && d != 0) {
			t.Fatalf("ParseRetryAfter(%q) = %v, %v", s, d, ok)
		}
		if _, err := time.Parse(http.TimeFormat, strings.TrimSpace(s)); err != nil && d > 24*time.Hour {
			t.Fatalf("ParseRetryAfter(%q) = %v: seconds are capped at a day", s, d)
		}
	})
}
