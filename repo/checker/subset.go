package checker

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/hbackup/hbackup/filter"
	"github.com/hbackup/hbackup/repo"
)

// MaxBuckets bounds t in an "n/t" subset: packs are bucketed by the first
// byte of their ID, so more than 256 buckets would leave some empty.
const MaxBuckets = 256

// Subset chooses the packs that `--read-data-subset` reads, with restic's
// three forms: "n/t" (group n of t), "x%" (a random x percent of the
// packs) and a size such as "500M" (random packs, as many as that size is
// of the whole).
type Subset struct {
	spec          string
	bucket, total uint    // n/t
	percent       float64 // x%
	bytes         int64   // size
}

// ParseSubset parses a --read-data-subset value, rejecting what restic
// rejects.
func ParseSubset(s string) (Subset, error) {
	invalid := errors.New("check flag --read-data-subset has invalid value, please see documentation")
	sub := Subset{spec: s}
	if n, t, ok := strings.Cut(s, "/"); ok {
		bucket, err1 := strconv.ParseUint(n, 10, 0)
		total, err2 := strconv.ParseUint(t, 10, 0)
		if err1 != nil || err2 != nil {
			return Subset{}, invalid
		}
		if bucket == 0 || total == 0 || bucket > total {
			return Subset{}, errors.New("check flag --read-data-subset=n/t values must be positive integers, and n <= t, e.g. --read-data-subset=1/2")
		}
		if total > MaxBuckets {
			return Subset{}, fmt.Errorf("check flag --read-data-subset=n/t t must be at most %d", MaxBuckets)
		}
		sub.bucket, sub.total = uint(bucket), uint(total)
		return sub, nil
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return Subset{}, invalid
		}
		if !(v > 0 && v <= 100) {
			return Subset{}, errors.New("check flag --read-data-subset=x% x must be above 0.0% and at most 100.0%")
		}
		sub.percent = v
		return sub, nil
	}
	n, err := filter.ParseSize(s)
	if err != nil && !strings.HasPrefix(s, "-") {
		return Subset{}, invalid
	}
	if n <= 0 { // restic's message for zero and negative sizes
		return Subset{}, errors.New("check flag --read-data-subset=n n must be above 0")
	}
	sub.bytes = n
	return sub, nil
}

// String returns the subset as given.
func (s Subset) String() string { return s.spec }

// Describe says what Select reads, in restic's words; total is the number
// of packs to choose from.
func (s Subset) Describe(selected, total int) string {
	switch {
	case s.total != 0:
		return fmt.Sprintf("read group #%d of %d data packs (out of total %d packs in %d groups)", s.bucket, selected, total, s.total)
	case s.percent != 0:
		return fmt.Sprintf("read %.1f%% of data packs", s.percent)
	}
	return fmt.Sprintf("read %d bytes of data packs", s.bytes)
}

// Select returns the chosen packs out of packs (ID to size). Group n of
// t holds the packs whose ID's first byte modulo t is n-1, so the t groups
// together cover every pack once. A percentage picks that share of the
// packs at random, at least one; a size picks the share it is of the
// total size (all packs when it exceeds it).
func (s Subset) Select(packs map[repo.ID]int64) (map[repo.ID]int64, error) {
	out := make(map[repo.ID]int64)
	if s.total != 0 {
		for id, size := range packs {
			if uint(id[0])%s.total == s.bucket-1 {
				out[id] = size
			}
		}
		return out, nil
	}
	percent := s.percent
	if s.bytes != 0 {
		var total int64
		for _, size := range packs {
			total += size
		}
		if total == 0 {
			return nil, errors.New("cannot read from a repository having size 0")
		}
		percent = float64(min(s.bytes, total)) / float64(total) * 100
	}
	if percent == 0 {
		return nil, fmt.Errorf("invalid subset %q", s.spec)
	}
	ids := make([]repo.ID, 0, len(packs))
	for id := range packs {
		ids = append(ids, id)
	}
	sortIDs(ids) // so that only the random choice varies
	n := int(float64(len(ids)) * percent / 100)
	if n < 1 && len(ids) > 0 {
		n = 1
	}
	for _, i := range rand.Perm(len(ids))[:n] {
		out[ids[i]] = packs[ids[i]]
	}
	return out, nil
}
