// Package pruner removes data no snapshot uses from a restic repository,
// as restic 0.14's prune does: it plans which packs to keep, repack and
// delete, then carries the plan out in an order that never loses a blob
// of a kept snapshot, whenever it is interrupted.
package pruner

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/hbackup/hbackup/filter"
	"github.com/hbackup/hbackup/repo"
)

// Options choose what prune may repack, as restic 0.14's flags.
type Options struct {
	// MaxUnused returns how many unused bytes may remain, given the bytes
	// used; nil means 5% of the repository (restic's default).
	MaxUnused func(used uint64) uint64
	// MaxRepackBytes bounds the bytes repacked; 0 means no bound.
	MaxRepackBytes uint64
	// RepackCacheableOnly repacks tree packs only.
	RepackCacheableOnly bool
	// RepackSmall also repacks fully used packs below 80% of the target
	// pack size, so they merge into fuller ones.
	RepackSmall bool
	// RepackUncompressed repacks packs holding uncompressed data blobs
	// (v2 repositories only; uncompressed tree packs are always repacked).
	RepackUncompressed bool
	// IgnoreSnapshots are treated as already forgotten (forget --prune
	// --dry-run plans with them gone without deleting them).
	IgnoreSnapshots []repo.ID
}

// ParseMaxUnused parses --max-unused: "unlimited", a percentage such as
// "5%", or an absolute size such as "100M".
func ParseMaxUnused(s string) (func(used uint64) uint64, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "unlimited":
		return func(uint64) uint64 { return math.MaxUint64 }, nil
	case strings.HasSuffix(s, "%"):
		p, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
		if err != nil {
			return nil, fmt.Errorf("invalid percentage %q passed for --max-unused: %w", s, err)
		}
		if p < 0 || p > 100 {
			return nil, fmt.Errorf("percentage %v is not a valid percentage for --max-unused", p)
		}
		if p == 100 {
			return func(uint64) uint64 { return math.MaxUint64 }, nil
		}
		// unused/(used+unused) <= p% is unused <= used * p/(100-p).
		return func(used uint64) uint64 { return uint64(p / (100 - p) * float64(used)) }, nil
	default:
		n, err := filter.ParseSize(s)
		if err != nil {
			return nil, fmt.Errorf("invalid number of bytes %q for --max-unused: %w", s, err)
		}
		return func(uint64) uint64 { return uint64(n) }, nil
	}
}

// ParseRepackSize parses --max-repack-size; "" means no bound (0).
func ParseRepackSize(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := filter.ParseSize(s)
	if err != nil {
		return 0, fmt.Errorf("invalid --max-repack-size %q: %w", s, err)
	}
	if n == 0 {
		// restic treats 0 as "repack nothing", not "unbounded".
		return 1, nil
	}
	return uint64(n), nil
}
