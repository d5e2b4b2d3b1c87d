package docs

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Event log files read for the last outcomes.
var eventFiles = []string{"backup-jobs.jsonl", "backup-restore-tests.jsonl"}

// lastEvent is the newest event of one kind for one job.
type lastEvent struct {
	job, kind, event string
	time             time.Time
	rawTime          string
	details          string
}

// readEvents returns the newest event per job and kind ("backup",
// "verification", "restore_test") from path. Lines that are not JSON
// objects with event, time and job are skipped: a log cut short by a crash
// must not hide the rest.
func readEvents(ctx context.Context, path string, last map[[2]string]lastEvent) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if e, ok := parseEvent(line); ok {
				k := [2]string{e.job, e.kind}
				// Equal or unparsable times: the later line wins.
				if old, seen := last[k]; !seen || !e.time.Before(old.time) {
					last[k] = e
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func parseEvent(line []byte) (lastEvent, bool) {
	var obj map[string]any
	if json.Unmarshal(line, &obj) != nil {
		return lastEvent{}, false
	}
	event, _ := obj["event"].(string)
	job, _ := obj["job"].(string)
	ts, _ := obj["time"].(string)
	if event == "" || job == "" || ts == "" || event == "error_analysis" {
		return lastEvent{}, false
	}
	e := lastEvent{job: job, event: event, rawTime: ts, kind: event}
	for _, suffix := range []string{"_start", "_success", "_failure", "_warning", "_skipped", "_error"} {
		if k, ok := strings.CutSuffix(event, suffix); ok {
			e.kind = k
			break
		}
	}
	e.time, _ = time.Parse(time.RFC3339Nano, ts)
	var keys []string
	for k, v := range obj {
		switch v.(type) {
		case string, float64, bool:
			if k != "event" && k != "job" && k != "time" {
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
	e.details = strings.Join(parts, " ")
	return e, true
}

// lastRuns reads every event file in dir. A missing file is normal (no
// run yet) and an unreadable one must not stop the runbook: both become
// notes. Only cancellation is an error.
func lastRuns(ctx context.Context, dir string) (events []lastEvent, notes []string, err error) {
	last := map[[2]string]lastEvent{}
	for _, name := range eventFiles {
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
