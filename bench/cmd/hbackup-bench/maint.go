package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
)

// forgetPrune times `forget --keep-last K --prune` on a copy of the
// history. hbackup's first result is checked: the snapshots left, and
// restic check --read-data.
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
		if err := b.guardSnapshots(ctx, dst, h.keep, "forget-prune"); err != nil {
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
		if err := b.guardSnapshots(ctx, dst, h.snapshots, "copy"); err != nil {
			return s, err
		}
		if err := b.guardRepo(ctx, dst, "copy"); err != nil {
			return s, err
		}
	}
	return s, os.RemoveAll(dst)
}

// guardSnapshots fails when hbackup's result does not hold the number of
// snapshots restic's does (by the policy, or all of the source's).
func (b *bench) guardSnapshots(ctx context.Context, repo string, want int, what string) error {
	got, err := b.snapshotCount(ctx, repo)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("CORRECTNESS: after %s by hbackup the repository holds %d snapshots, want %d", what, got, want)
	}
	return nil
}
