package metrics

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/sys/unix"
)

// Textfile writes job metrics for node_exporter's textfile collector.
type Textfile struct {
	Dir string // the collector's directory (--collector.textfile.directory)
}

// Path returns the file that holds job's metrics.
func (t Textfile) Path(job string) string {
	return filepath.Join(t.Dir, "hbackup_"+job+".prom")
}

// Update reads job's previous metrics, lets fn add to them, and replaces
// the file atomically. Concurrent updates of one job, from any process,
// are serialized by a lock file, so no count is lost.
func (t Textfile) Update(ctx context.Context, job string, fn func(*JobSet)) error {
	if job == "" {
		return errors.New("metrics: empty job name")
	}
	unlock, err := lockFile(ctx, filepath.Join(t.Dir, ".hbackup_"+job+".prom.lock"))
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	defer unlock()

	set := newJobSet()
	path := t.Path(job)
	if f, err := os.Open(path); err == nil {
		parser := expfmt.NewTextParser(model.UTF8Validation)
		families, perr := parser.TextToMetricFamilies(f)
		f.Close()
		if perr != nil {
			// A damaged file must not block new metrics; counters restart.
			families = nil
		}
		set.restore(families)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("metrics: %w", err)
	}
	fn(set)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return writeAtomic(path, set)
}

// RecordBackup adds a backup run to job's file.
func (t Textfile) RecordBackup(ctx context.Context, b Backup) error {
	return t.Update(ctx, b.Job, func(s *JobSet) { s.Backup(b) })
}

// RecordVerification adds a verification to job's file.
func (t Textfile) RecordVerification(ctx context.Context, c Check) error {
	return t.Update(ctx, c.Job, func(s *JobSet) { s.Verification(c) })
}

// RecordRestoreTest adds a restore test to job's file.
func (t Textfile) RecordRestoreTest(ctx context.Context, c Check) error {
	return t.Update(ctx, c.Job, func(s *JobSet) { s.RestoreTest(c) })
}

// writeAtomic writes to a temporary file that the collector ignores (it
// reads only *.prom) and renames it over the old one.
func writeAtomic(path string, set *JobSet) error {
	families, err := set.reg.Gather()
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
	for _, mf := range families {
		if _, err := expfmt.MetricFamilyToText(tmp, mf); err != nil {
			tmp.Close()
			return fmt.Errorf("metrics: %w", err)
		}
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("metrics: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("metrics: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// lockFile takes an exclusive flock on path, polling so that ctx can
// cancel the wait.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
