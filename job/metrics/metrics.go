// Package metrics publishes what hbackup's jobs do as Prometheus metrics.
//
// Job metrics (durations, outcomes, sizes, errors by category and
// severity, verification and restore-test results) go to the node_exporter
// textfile collector: one file per job, <dir>/hbackup_<job>.prom, replaced
// atomically. Each update reads the previous file back, so counters keep
// accumulating across runs and the last success survives a failure.
//
// Repository metrics with restic-exporter's names and labels come from a
// RepositoryCollector, served by Handler.
package metrics

import (
	"time"

	"github.com/hbackup/hbackup/job/errclass"
)

// Labels identify the series of one job in one repository.
type Labels struct {
	Job, Repository, Hostname string
}

func (l Labels) values() []string { return []string{l.Job, l.Repository, l.Hostname} }

var labelNames = []string{"job", "repository", "hostname"}

// Status is the value of the *_status gauges.
type Status int

// Status values. Warning is a backup that was written but skipped files it
// could not read.
const (
	Failure Status = 0
	Success Status = 1
	Warning Status = 2
)

// Backup is the outcome of one backup run.
type Backup struct {
	Labels
	Start, End     time.Time
	Status         Status
	BytesAdded     int64 // new data stored in the repository, before compression
	BytesProcessed int64
	FilesAdded     int64 // new files
	FilesProcessed int64
	Errors         []errclass.Result // counted by category and severity
}

// Check is the outcome of a verification or a restore test.
type Check struct {
	Labels
	Time    time.Time
	Success bool
	Errors  []errclass.Result
}
