package filter_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/hbackup/hbackup/filter"
)

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"2048", 2048},
		{"100b", 100},
		{"100B", 100},
		{"1k", 1024},
		{"10K", 10 * 1024},
		{"1M", 1 << 20},
		{"20m", 20 << 20},
		{"30g", 30 << 30},
		{"30G", 30 << 30},
		{"2t", 2 << 40},
		{"2T", 2 << 40},
		{"+5k", 5 * 1024},
		{"8388607T", 8388607 << 40}, // largest T value that fits
		{"9223372036854775807", 1<<63 - 1},
	} {
		got, err := filter.ParseSize(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

func TestParseSizeErrors(t *testing.T) {
	for _, in := range []string{"", "k", "1.5M", "1 M", "10KB", "10KiB", "abc", "1x", " 1", "M1"} {
		if got, err := filter.ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
	for _, in := range []string{"-1", "-1k", "8388608T", "9223372036854775808"} {
		if _, err := filter.ParseSize(in); !errors.Is(err, strconv.ErrRange) {
			t.Errorf("ParseSize(%q) error = %v, want strconv.ErrRange", in, err)
		}
	}
}
