// Package eventlog writes and reads hbackup's JSON-lines logs: one JSON
// object per line, with stable field names, in three files of the log
// directory. Each event is one write(2) to a file opened with O_APPEND, so
// concurrent writers (jobs, timers, a person running `hbackup run`) never
// interleave their lines.
package eventlog

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hbackup/hbackup/job/errclass"
)

// The files in the log directory.
const (
	JobsFile         = "backup-jobs.jsonl"
	ErrorsFile       = "error-analysis.jsonl"
	RestoreTestsFile = "backup-restore-tests.jsonl"
)

// Event names.
const (
	BackupStart         = "backup_start"
	BackupSuccess       = "backup_success"
	BackupWarning       = "backup_warning" // written, but some files could not be read
	BackupFailure       = "backup_failure"
	VerificationStart   = "verification_start"
	VerificationSuccess = "verification_success"
	VerificationFailure = "verification_failure"
	RestoreTestStart    = "restore_test_start"
	RestoreTestSuccess  = "restore_test_success"
	RestoreTestFailure  = "restore_test_failure"
	ErrorAnalysis       = "error_analysis"
)

// Event is one line of a log. Field names are a stable interface: tools
// parse them, so they are only ever added to.
type Event struct {
	Event      string    `json:"event"`
	Time       time.Time `json:"time"` // RFC 3339 with nanoseconds
	Job        string    `json:"job,omitempty"`
	Repository string    `json:"repository,omitempty"`
	Hostname   string    `json:"hostname,omitempty"`
	RunID      string    `json:"run_id,omitempty"` // ties the events of one run together
	Attempt    int       `json:"attempt,omitempty"`

	DurationSeconds float64 `json:"duration_seconds,omitempty"`
	SnapshotID      string  `json:"snapshot_id,omitempty"`
	ExitCode        *int    `json:"exit_code,omitempty"`

	BytesAdded     int64 `json:"bytes_added,omitempty"`
	BytesProcessed int64 `json:"bytes_processed,omitempty"`
	FilesNew       int64 `json:"files_new,omitempty"`
	FilesChanged   int64 `json:"files_changed,omitempty"`
	FilesProcessed int64 `json:"files_processed,omitempty"`

	ReadDataSubset string `json:"read_data_subset,omitempty"` // verification
	SampleFiles    int    `json:"sample_files,omitempty"`     // restore tests
	FilesVerified  int    `json:"files_verified,omitempty"`
	Mismatches     int    `json:"mismatches,omitempty"`

	Error      string `json:"error,omitempty"`
	Category   string `json:"category,omitempty"`
	Severity   string `json:"severity,omitempty"`
	Actionable *bool  `json:"actionable,omitempty"`
	Retryable  *bool  `json:"retryable,omitempty"`
	Advice     string `json:"advice,omitempty"`
	Rule       string `json:"rule,omitempty"` // the pattern that classified the error

	Fields map[string]any `json:"fields,omitempty"` // anything else
}

// Classify fills the error fields from a classification.
func (e *Event) Classify(r errclass.Result) {
	e.Error = r.Message
	e.Category, e.Severity = string(r.Category), string(r.Severity)
	e.Actionable, e.Retryable = &r.Actionable, &r.Retryable
	e.Advice, e.Rule = r.Advice, r.Matched
}

// Finished reports whether the event ends a run (success, warning or failure).
func (e Event) Finished() bool {
	return strings.HasSuffix(e.Event, "_success") || strings.HasSuffix(e.Event, "_failure") || strings.HasSuffix(e.Event, "_warning")
}

// FileFor returns the file an event belongs in.
func FileFor(event string) string {
	switch {
	case event == ErrorAnalysis:
		return ErrorsFile
	case strings.HasPrefix(event, "restore_test_"):
		return RestoreTestsFile
	}
	return JobsFile
}

// maxError bounds the error field, so that one event stays one small,
// atomic write; the end of a message is kept, as it usually says why.
const maxError = 32 << 10

// Log appends events to the files in Dir. It holds no open files and is
// safe for concurrent use.
type Log struct {
	Dir string
}

// Write appends e to the file FileFor(e.Event), stamping the time if unset.
func (l Log) Write(ctx context.Context, e Event) error {
	return l.WriteTo(ctx, FileFor(e.Event), e)
}

// WriteTo appends e to file, a name inside Dir.
func (l Log) WriteTo(ctx context.Context, file string, e Event) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	if e.Event == "" {
		return fmt.Errorf("eventlog: event without a name")
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if len(e.Error) > maxError {
		e.Error = "[...]" + e.Error[len(e.Error)-maxError:]
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	line = append(line, '\n')
	if err := os.MkdirAll(l.Dir, 0o750); err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(l.Dir, file), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	_, werr := f.Write(line)
	cerr := f.Close()
	if werr != nil {
		return fmt.Errorf("eventlog: %w", werr)
	}
	if cerr != nil {
		return fmt.Errorf("eventlog: %w", cerr)
	}
	return nil
}
