package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

var durationUnits = map[string]time.Duration{
	"ns": time.Nanosecond, "us": time.Microsecond, "µs": time.Microsecond, "ms": time.Millisecond,
	"s": time.Second, "m": time.Minute, "min": time.Minute, "h": time.Hour,
	"d": 24 * time.Hour, "w": 7 * 24 * time.Hour,
}

// ParseDuration parses Go's duration syntax extended with days ("d") and
// weeks ("w"), e.g. "90s", "1h30m", "7d". A day is 24 hours.
func ParseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("invalid duration %q: use numbers with units such as \"30s\", \"10m\", \"2h\", \"7d\"", s)
	rest := strings.TrimSpace(s)
	if rest == "0" {
		return 0, nil
	}
	if rest == "" || strings.HasPrefix(rest, "-") {
		return 0, bad
	}
	var total float64
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		num, err := strconv.ParseFloat(rest[:i], 64)
		if i == 0 || err != nil {
			return 0, bad
		}
		rest = rest[i:]
		j := 0
		for j < len(rest) && !(rest[j] >= '0' && rest[j] <= '9' || rest[j] == '.') {
			j++
		}
		unit, ok := durationUnits[strings.TrimSpace(rest[:j])]
		if !ok {
			return 0, bad
		}
		rest = rest[j:]
		total += num * float64(unit)
	}
	if total > math.MaxInt64 {
		return 0, fmt.Errorf("invalid duration %q: too long", s)
	}
	return time.Duration(total), nil
}

var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10, "kb": 1000,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1000 * 1000,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1000 * 1000 * 1000,
	"t": 1 << 40, "tib": 1 << 40, "tb": 1000 * 1000 * 1000 * 1000,
}

// ParseSize parses a byte count such as "500MiB", "10G" (binary, as in
// restic and systemd) or "2GB" (decimal).
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, err := strconv.ParseFloat(t[:i], 64)
	unit, ok := sizeUnits[strings.ToLower(strings.TrimSpace(t[i:]))]
	if i == 0 || err != nil || !ok {
		return 0, fmt.Errorf("invalid size %q: use a number and a unit such as \"500MiB\", \"10G\" or \"2GB\"", s)
	}
	v := num * float64(unit)
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return int64(v), nil
}
