package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"time"
)

// history is the repository forget-prune and copy start from: restic's
// backups of the data set, each after ~5% of it changed (issue 5). restic
// writes it once, untimed, so both tools work on the same bytes.
type history struct {
	repo      string
	snapshots []snapshotInfo // oldest first
	keep      int            // forget --keep-last
}

// historyLength is the number of backups in the history: issue 5's 20,
// fewer at small scales so that CI runs (0.01) and tests stay short.
func historyLength(scale float64) int {
	switch {
	case scale >= 0.05:
		return 20
	case scale >= 0.005:
		return 8
	}
	return 4
}

// history returns the prepared history, making it on first use.
func (b *bench) history(ctx context.Context) (*history, error) {
	if b.hist != nil {
		return b.hist, nil
	}
	n := historyLength(b.cfg.scale)
	repo, err := b.newRepo(ctx, b.restic)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(b.log, "restic: %d backups for the forget/copy history (untimed)\n", n)
	start := time.Now()
	mut := &mutation{b: b}
	for i := range n {
		if i > 0 {
			if err := mut.apply(ctx, i-1); err != nil {
				return nil, joinUndo(err, mut)
			}
		}
		if _, err := b.restic.exec(ctx, b.backupArgs(b.restic, repo, "auto", b.dataDir)...); err != nil {
			return nil, joinUndo(err, mut)
		}
	}
	if err := mut.undo(); err != nil {
		return nil, err
	}
	snaps, err := b.snapshots(ctx, repo)
	if err != nil {
		return nil, err
	}
	if len(snaps) != n {
		return nil, fmt.Errorf("the history holds %d snapshots, want %d", len(snaps), n)
	}
	fmt.Fprintf(b.log, "history ready in %.1fs\n", time.Since(start).Seconds())
	b.hist = &history{repo: repo, snapshots: snaps, keep: n / 4}
	return b.hist, nil
}

// joinUndo restores the data set after a failure and reports both errors.
func joinUndo(err error, mut *mutation) error {
	if uerr := mut.undo(); uerr != nil {
		return fmt.Errorf("%w (and restoring the data set: %w)", err, uerr)
	}
	return err
}

// copyRepo duplicates a repository directory (a reflink where the file
// system can), so every timed run starts from the same bytes.
func copyRepo(ctx context.Context, src, dst string) error {
	out, err := exec.CommandContext(ctx, "cp", "-a", "--reflink=auto", src, dst).CombinedOutput()
	if err != nil {
		return fmt.Errorf("copying %s: %w\n%s", src, err, out)
	}
	return nil
}

// snapshotInfo is the part of `restic snapshots --json` the guards use.
type snapshotInfo struct {
	ID       string    `json:"id"`
	Original string    `json:"original"` // the source snapshot of a copy
	Time     time.Time `json:"time"`
}

// snapshots asks restic for a repository's snapshots, oldest first.
func (b *bench) snapshots(ctx context.Context, repo string) ([]snapshotInfo, error) {
	res, err := b.restic.exec(ctx, "-r", repo, "--cache-dir", b.freshCache(b.restic), "--no-lock", "snapshots", "--json")
	if err != nil {
		return nil, err
	}
	var snaps []snapshotInfo
	if err := json.Unmarshal(res.stdout, &snaps); err != nil {
		return nil, fmt.Errorf("parsing restic snapshots --json: %w", err)
	}
	slices.SortStableFunc(snaps, func(x, y snapshotInfo) int { return x.Time.Compare(y.Time) })
	return snaps, nil
}
