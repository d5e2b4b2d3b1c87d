// Package docs writes the runbook of a host: a Markdown document, made
// from its hbackup.toml, that says what is backed up where and when, how
// long it is kept, how it is checked and monitored, where the keys live,
// and gives the exact hbackup and restic command lines to restore one file
// or the whole system, optionally with the current metrics and the last
// outcome of every job.
//
// The runbook never contains a secret: passwords in repository URLs are
// replaced by "***" and secret files are named, never read.
package docs

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hbackup/hbackup/job/config"
)

// Options adjust the runbook; the zero value is ready to use.
type Options struct {
	// Hostname heads the runbook; "" means the config's hostname, else
	// os.Hostname.
	Hostname string
	// Now is the clock for the generation time and the next runs; nil
	// means time.Now.
	Now func() time.Time
	// Command names hbackup in the command lines; "" means "hbackup".
	Command string
}

func (o Options) host(c *config.Config) string {
	switch {
	case o.Hostname != "":
		return o.Hostname
	case c.Hostname != "":
		return c.Hostname
	}
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}

// Render writes the runbook of c to w. With documentation.include_metrics
// it reads the metrics and logs named in c; missing ones are noted in the
// runbook, not reported as errors.
func Render(ctx context.Context, w io.Writer, c *config.Config, o Options) error {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	cmd := o.Command
	if cmd == "" {
		cmd = "hbackup"
	}
	r := &runbook{c: c, host: o.host(c), now: now(), cmd: cmd}
	r.header()
	r.overview()
	r.repositories()
	r.jobs()
	r.schedules()
	r.retention()
	r.checks()
	r.monitoring()
	r.restore()
	r.repositoryChecks()
	r.secrets()
	if c.Documentation.IncludeMetrics {
		if err := r.state(ctx); err != nil {
			return err
		}
	}
	if _, err := io.WriteString(w, r.m.String()); err != nil {
		return fmt.Errorf("docs: %w", err)
	}
	return nil
}

// FileName is the runbook's file name for host.
func FileName(host string) string { return host + ".md" }

// WriteFile renders the runbook into dir/FileName(host), replacing the
// previous one atomically, and returns its path.
func WriteFile(ctx context.Context, dir string, c *config.Config, o Options) (string, error) {
	o.Hostname = o.host(c)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("docs: %w", err)
	}
	path := filepath.Join(dir, FileName(o.Hostname))
	tmp, err := os.CreateTemp(dir, "."+FileName(o.Hostname)+".tmp*")
	if err != nil {
		return "", fmt.Errorf("docs: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if err := Render(ctx, tmp, c, o); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return "", fmt.Errorf("docs: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("docs: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("docs: %w", err)
	}
	return path, nil
}

// runbook is one rendering in progress.
type runbook struct {
	c    *config.Config
	host string
	now  time.Time
	cmd  string
	m    md
}
