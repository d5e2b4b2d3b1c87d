package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
)

// forgetPrune times `forget --keep-last K --prune` on a copy of the
// history. hbackup's first result is checked: the snapshots left must be
// the newest K, and restic check --read-data must pass.
func (b *bench) forgetPrune(ctx context.Context, t *tool, r int) (sample, error) {
	h := b.hist
	dst := b.fresh("prune-" + t.name)
	if err := copyRepo(ctx, h.repo, dst); err != nil {
		return sample{}, err
	}
	res, err := b.timed(ctx, t, "-r", dst, "--cache-dir", b.freshCache(t), "forget", "--keep-last", strconv.Itoa(h.keep), "--prune")
	if err != nil {
		return sample{}, err
	}
	s := sample{Seconds: res.wall.Seconds(), CPU: res.cpu.Seconds(), MaxRSS: res.maxRSS}
	if s.RepoSize, err = dirSize(dst); err != nil {
		return s, err
	}
	if r == 0 && t == b.hbackup {
		var want []string
		for _, sn := range h.snapshots[len(h.snapshots)-h.keep:] {
			want = append(want, sn.ID)
		}
		if err := b.guardSnapshots(ctx, dst, want, false, "forget-prune"); err != nil {
			return s, err
		}
		if err := b.guardRepo(ctx, dst, "forget-prune"); err != nil {
			return s, err
		}
	}
	return s, os.RemoveAll(dst)
}

// copySnapshots times `copy` of every snapshot of the history into an
// empty repository (a copy of one restic initialised, so both tools get
// the same destination).
func (b *bench) copySnapshots(ctx context.Context, t *tool, r int) (sample, error) {
	h := b.hist
	dst := b.fresh("copy-" + t.name)
	if err := copyRepo(ctx, b.copyDst, dst); err != nil {
		return sample{}, err
	}
	res, err := b.timed(ctx, t, "-r", dst, "--cache-dir", b.freshCache(t), "copy",
		"--from-repo", h.repo, "--from-password-file", b.password)
	if err != nil {
		return sample{}, err
	}
	s := sample{Seconds: res.wall.Seconds(), CPU: res.cpu.Seconds(), MaxRSS: res.maxRSS}
	if s.RepoSize, err = dirSize(dst); err != nil {
		return s, err
	}
	if r == 0 && t == b.hbackup {
		var want []string
		for _, sn := range h.snapshots {
			want = append(want, sn.ID)
		}
		if err := b.guardSnapshots(ctx, dst, want, true, "copy"); err != nil {
			return s, err
		}
		if err := b.guardRepo(ctx, dst, "copy"); err != nil {
			return s, err
		}
	}
	return s, os.RemoveAll(dst)
}

// guardSnapshots fails unless hbackup's result holds exactly the snapshots
// want: by ID, or for a copy by the ID of the original each was copied from.
func (b *bench) guardSnapshots(ctx context.Context, repo string, want []string, copied bool, what string) error {
	snaps, err := b.snapshots(ctx, repo)
	if err != nil {
		return err
	}
	var got []string
	for _, sn := range snaps {
		id := sn.ID
		if copied {
			id = sn.Original
		}
		got = append(got, id)
	}
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		return fmt.Errorf("CORRECTNESS: after %s by hbackup the repository holds the snapshots %v, want %v", what, got, want)
	}
	return nil
}
