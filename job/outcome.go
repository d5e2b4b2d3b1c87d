package job

import (
	"errors"
	"fmt"
	"time"

	"github.com/hbackup/hbackup/job/errclass"
)

// Status is a job run's result.
type Status string

// Statuses, from best to worst.
const (
	StatusSuccess Status = "success"
	// StatusWarning: a snapshot was written, but some files could not be
	// read (restic's exit code 3).
	StatusWarning Status = "warning"
	StatusFailure Status = "failure"
)

// Stage names a step of a job.
type Stage string

// The steps of a job, in order.
const (
	StagePreflight  Stage = "preflight"
	StagePreBackup  Stage = "pre_backup"
	StageBackup     Stage = "backup"
	StagePostBackup Stage = "post_backup"
	StageCopy       Stage = "copy"
	StageRetention  Stage = "retention"
)

// StageError is a failed step.
type StageError struct {
	Stage      Stage
	Repository string // the repository involved, if any
	ExitCode   int    // of the hbackup command, when one ran; else 0
	Err        error
}

func (e *StageError) Error() string {
	if e.Repository != "" {
		return fmt.Sprintf("%s (%s): %v", e.Stage, e.Repository, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Stage, e.Err)
}

func (e *StageError) Unwrap() error { return e.Err }

// BackupStats are the numbers of the backup's summary.
type BackupStats struct {
	SnapshotID     string
	FilesNew       int64
	FilesChanged   int64
	FilesProcessed int64
	BytesAdded     int64
	BytesProcessed int64
}

// Outcome is the record of one job run.
type Outcome struct {
	Job, Repository, Hostname string
	Start, End                time.Time
	Status                    Status
	Attempts                  int
	Backup                    BackupStats
	// Errors are the failures of every attempt, classified; the last one
	// decided the status.
	Errors []Failure
	// Retried are the failures of attempts before a successful one.
	Retried []Failure
	// Log is the run's own log (hook output, warnings), for notifications.
	Log string
}

// Failure is one classified error.
type Failure struct {
	Err   error
	Class errclass.Result
}

// Err returns the error of the last failure, or nil.
func (o *Outcome) Err() error {
	if len(o.Errors) == 0 {
		return nil
	}
	return o.Errors[len(o.Errors)-1].Err
}

// Duration is how long the run took.
func (o *Outcome) Duration() time.Duration { return o.End.Sub(o.Start) }

// stageOf returns the stage of err, or "".
func stageOf(err error) Stage {
	var se *StageError
	if errors.As(err, &se) {
		return se.Stage
	}
	return ""
}

// StageOf returns the stage in which err happened, or "".
func StageOf(err error) Stage { return stageOf(err) }
