package eventlog_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/hbackup/hbackup/job/errclass"
	"github.com/hbackup/hbackup/job/eventlog"
)

func ExampleLog() {
	dir, err := os.MkdirTemp("", "log")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	log := eventlog.Log{Dir: dir}
	t0 := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)

	log.Write(ctx, eventlog.Event{Event: eventlog.BackupStart, Time: t0, Job: "home", Repository: "nas"})
	failure := eventlog.Event{Event: eventlog.BackupFailure, Time: t0.Add(time.Minute), Job: "home",
		Repository: "nas", DurationSeconds: 60}
	failure.Classify(errclass.Result{Category: errclass.Network, Severity: errclass.Warning, Retryable: true,
		Message: "dial tcp 10.0.0.9:22: connection refused"})
	log.Write(ctx, failure)

	data, _ := os.ReadFile(dir + "/" + eventlog.JobsFile)
	fmt.Print(string(data))

	last, _ := log.Last(ctx, eventlog.JobsFile, eventlog.Event.Finished)
	fmt.Println(last["home"].Event, last["home"].Category)
	// Output:
	// {"event":"backup_start","time":"2026-11-20T02:00:00Z","job":"home","repository":"nas"}
	// {"event":"backup_failure","time":"2026-11-20T02:01:00Z","job":"home","repository":"nas","duration_seconds":60,"error":"dial tcp 10.0.0.9:22: connection refused","category":"network","severity":"warning","actionable":false,"retryable":true}
	// backup_failure network
}
