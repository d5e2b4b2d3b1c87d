package repo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/hbackup/hbackup/backend"
)

// staleLockAge is restic's rule: a lock not refreshed for 30 minutes is
// stale.
const staleLockAge = 30 * time.Minute

// Stale reports whether a lock is stale by restic's rules: older than 30
// minutes, or created on this host by a process that no longer exists.
// Unlike restic, which probes with SIGHUP (and can end a process that does
// not handle it), the probe here is signal 0, which only checks.
func (li LockInfo) Stale(now time.Time) bool {
	if now.Sub(li.Time) > staleLockAge {
		return true
	}
	host, err := os.Hostname()
	if err != nil || host != li.Hostname {
		return false
	}
	err = syscall.Kill(li.PID, 0)
	return errors.Is(err, syscall.ESRCH)
}

// RemoveLocks removes lock files: all of them, or only the stale ones. It
// returns the number removed. Unreadable lock files count as stale, since
// no live restic or hbackup can be holding them.
func (r *Repository) RemoveLocks(ctx context.Context, all bool) (int, error) {
	var ids []ID
	if err := r.List(ctx, backend.LockFile, func(id ID, _ int64) error {
		ids = append(ids, id)
		return nil
	}); err != nil {
		return 0, fmt.Errorf("list locks: %w", err)
	}
	removed := 0
	now := time.Now()
	for _, id := range ids {
		if !all {
			info, err := r.LoadLock(ctx, id)
			if err == nil && !info.Stale(now) {
				continue
			}
		}
		err := r.be.Remove(ctx, backend.Handle{Type: backend.LockFile, Name: id.String()})
		if err != nil && !errors.Is(err, backend.ErrNotExist) {
			return removed, fmt.Errorf("remove lock %v: %w", id.Str(), err)
		}
		removed++
	}
	return removed, nil
}

// LockWithRetry is Lock, retrying for up to wait while another process
// holds a conflicting lock (restic's --retry-lock): the delay starts at 5
// seconds and doubles up to a minute.
func (r *Repository) LockWithRetry(ctx context.Context, exclusive bool, wait time.Duration) (*Lock, error) {
	deadline := time.Now().Add(wait)
	delay := 5 * time.Second
	for {
		l, err := r.Lock(ctx, exclusive)
		if err == nil || !errors.Is(err, ErrLocked) || time.Now().Add(delay).After(deadline) {
			return l, err
		}
		r.logger.Info("repository locked, retrying", "in", delay, "err", err)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		delay = min(2*delay, time.Minute)
	}
}
