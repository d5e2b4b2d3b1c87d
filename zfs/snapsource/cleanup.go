package snapsource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/hbackup/hbackup/zfs"
)

// Cleanup removes what a crashed or killed run left on the datasets: its
// clones, holds and snapshots. Only snapshots that still carry hbackup's
// hold and whose owning process on this host is gone are touched, so a
// backup running in parallel and snapshots kept on purpose (released
// after a successful run) stay.
func Cleanup(ctx context.Context, z *zfs.Runner, datasets []string, prefix string, log *slog.Logger) error {
	if prefix == "" {
		prefix = "hbackup"
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var errs []error
	for _, ds := range datasets {
		snaps, err := z.Snapshots(ctx, ds, false)
		if err != nil {
			errs = append(errs, fmt.Errorf("list snapshots of %s: %w", ds, err))
			continue
		}
		for _, s := range snaps {
			if !strings.HasPrefix(s.Name, prefix+"-") || s.UserRefs == 0 {
				continue
			}
			props, err := z.Get(ctx, s.FullName(), ownerProperty)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if !ownerGone(props[ownerProperty]) {
				continue
			}
			log.Info("zfs: removing leftover of an interrupted backup", "snapshot", s.FullName())
			if err := removeLeftover(ctx, z, s.FullName()); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// removeLeftover destroys the clones of snap, releases its hold and
// destroys it.
func removeLeftover(ctx context.Context, z *zfs.Runner, snap string) error {
	pool, _, _ := strings.Cut(snap, "/")
	pool, _, _ = strings.Cut(pool, "@")
	all, err := z.Datasets(ctx, pool, true)
	if err != nil {
		return fmt.Errorf("list datasets of %s: %w", pool, err)
	}
	for _, d := range all {
		if d.Origin == snap {
			if err := z.Destroy(ctx, d.Name, zfs.DestroyOptions{}); err != nil && !errors.Is(err, zfs.ErrNotExist) {
				return fmt.Errorf("destroy leftover clone %s: %w", d.Name, err)
			}
		}
	}
	if err := z.Release(ctx, HoldTag, snap); err != nil && !errors.Is(err, zfs.ErrNotExist) && !isNoSuchHold(err) {
		return fmt.Errorf("release leftover %s: %w", snap, err)
	}
	if err := z.Destroy(ctx, snap, zfs.DestroyOptions{}); err != nil && !errors.Is(err, zfs.ErrNotExist) {
		return fmt.Errorf("destroy leftover %s: %w", snap, err)
	}
	return nil
}

// ownerGone reports whether the "host:pid" owner is a process of this host
// that no longer runs. Unknown owners are left alone.
func ownerGone(owner string) bool {
	host, pidText, ok := strings.Cut(owner, ":")
	if !ok {
		return false
	}
	me, _ := os.Hostname()
	pid, err := strconv.Atoi(pidText)
	if host != me || err != nil || pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
