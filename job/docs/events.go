package docs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hbackup/hbackup/job/eventlog"
)

// lastEvent is the newest event of one kind for one job.
type lastEvent struct {
	job, kind, event string
	time             time.Time
	details          string
}

// readEvents keeps in last the newest event per job and kind ("backup",
// "verification", "restore_test") of the log at path. eventlog.Read skips
// lines cut short by a crash, so they do not hide the rest.
func readEvents(ctx context.Context, path string, last map[[2]string]lastEvent) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = eventlog.Read(ctx, f, func(e eventlog.Event) error {
		if e.Job == "" || e.Event == eventlog.ErrorAnalysis {
			return nil
		}
		le := lastEvent{job: e.Job, event: e.Event, kind: e.Event, time: e.Time, details: details(e)}
		for _, suffix := range []string{"_start", "_success", "_warning", "_failure"} {
			if k, ok := strings.CutSuffix(e.Event, suffix); ok {
				le.kind = k
				break
			}
		}
		k := [2]string{le.job, le.kind}
		// Equal times: the later line wins.
		if old, seen := last[k]; !seen || !le.time.Before(old.time) {
			last[k] = le
		}
		return nil
	})
	return err
}

// details prints an event's other fields as sorted key=value pairs,
// whatever fields later versions add.
func details(e eventlog.Event) string {
	b, err := json.Marshal(e)
	if err != nil {
		return ""
	}
	var obj map[string]any
	if json.Unmarshal(b, &obj) != nil {
		return ""
	}
	var keys []string
	for k, v := range obj {
		switch v.(type) {
		case string, float64, bool:
			switch k {
			case "event", "job", "time", "hostname", "run_id":
			default:
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		v := fmt.Sprint(obj[k])
		if f, ok := obj[k].(float64); ok {
			v = strconv.FormatFloat(f, 'f', -1, 64)
		}
		// Redact before cutting, which could hide the "@" that marks a password.
		v = redactAll(v)
		if len(v) > 120 {
			v = strings.ToValidUTF8(v[:117], "") + "..."
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, " ")
}

// lastRuns reads every event file in dir. A missing file is normal (no
// run yet) and an unreadable one must not stop the runbook: both become
// notes. Only cancellation is an error.
func lastRuns(ctx context.Context, dir string) (events []lastEvent, notes []string, err error) {
	last := map[[2]string]lastEvent{}
	for _, name := range []string{eventlog.JobsFile, eventlog.RestoreTestsFile} {
		path := filepath.Join(dir, name)
		err := readEvents(ctx, path, last)
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return nil, nil, fmt.Errorf("docs: %w", ctx.Err())
		case errors.Is(err, fs.ErrNotExist):
			notes = append(notes, "No log at "+code(path)+" yet.")
		default:
			notes = append(notes, "Could not read "+code(path)+": "+err.Error())
		}
	}
	for _, e := range last {
		events = append(events, e)
	}
	sort.Slice(events, func(i, j int) bool {
		if events[i].job != events[j].job {
			return events[i].job < events[j].job
		}
		return events[i].kind < events[j].kind
	})
	return events, notes, nil
}
