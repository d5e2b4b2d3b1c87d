package filter

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
)

// ParseSize parses a size as restic's --exclude-larger-than does: a decimal
// integer of bytes, optionally followed by one suffix letter: b/B (bytes),
// k/K, m/M, g/G or t/T for 1024, 1024², 1024³ or 1024⁴ bytes. Negative sizes
// and sizes that overflow int64 are rejected, as in current restic.
func ParseSize(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("expected size, got empty string")
	}
	num, unit := s[:len(s)-1], uint64(1)
	switch s[len(s)-1] {
	case 'b', 'B':
	case 'k', 'K':
		unit = 1 << 10
	case 'm', 'M':
		unit = 1 << 20
	case 'g', 'G':
		unit = 1 << 30
	case 't', 'T':
		unit = 1 << 40
	default:
		num = s
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: %w", s, err)
	}
	if v < 0 {
		return 0, fmt.Errorf("invalid size %q: %w", s, strconv.ErrRange)
	}
	hi, lo := bits.Mul64(uint64(v), unit)
	if hi != 0 || lo > 1<<63-1 {
		return 0, fmt.Errorf("invalid size %q: %w", s, strconv.ErrRange)
	}
	return int64(lo), nil
}
