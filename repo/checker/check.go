package checker

import (
	"context"

	"github.com/hbackup/hbackup/repo"
)

// Options choose how much Check reads.
type Options struct {
	// ReadData reads every pack the index lists.
	ReadData bool
	// Subset, when ReadData is false, reads only the packs it selects.
	Subset *Subset
}

// Result lists what Check found.
type Result struct {
	Errors []error // damage: the repository needs repair
	Hints  []error // legal oddities (each is a Hint)
}

// OK reports whether no errors were found; hints do not count.
func (r *Result) OK() bool { return len(r.Errors) == 0 }

// Check runs every step on r and collects the findings, including unused
// blobs as hints. Like restic it stops after LoadIndex when an index file
// is unreadable, since everything after depends on the index. The error
// is for a check that could not run (listing failed, ctx cancelled).
func Check(ctx context.Context, r *repo.Repository, opts Options) (*Result, error) {
	res := &Result{}
	collect := func(err error) {
		if IsHint(err) {
			res.Hints = append(res.Hints, err)
		} else {
			res.Errors = append(res.Errors, err)
		}
	}
	c := New(r)
	if err := c.LoadIndex(ctx, collect); err != nil || !res.OK() {
		return res, err
	}
	if err := c.Packs(ctx, collect); err != nil {
		return res, err
	}
	structureErrs := len(res.Errors)
	if err := c.Structure(ctx, collect); err != nil {
		return res, err
	}
	if len(res.Errors) == structureErrs {
		for _, h := range c.UnusedBlobs() {
			collect(&UnusedBlobHint{Blob: h})
		}
	}
	packs := c.IndexedPacks()
	switch {
	case opts.ReadData:
	case opts.Subset != nil:
		var err error
		if packs, err = opts.Subset.Select(packs); err != nil {
			return res, err
		}
	default:
		return res, nil
	}
	return res, c.ReadPacks(ctx, packs, collect)
}
