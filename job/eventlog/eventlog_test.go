package eventlog

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hbackup/hbackup/job/errclass"
)

func lines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func TestStableFieldNames(t *testing.T) {
	l := Log{Dir: filepath.Join(t.TempDir(), "log")} // created on first write
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 2, 0, 0, 123456789, time.UTC)
	code := 1
	e := Event{Event: BackupFailure, Time: at, Job: "home", Repository: "nas", Hostname: "host1",
		RunID: "r1", Attempt: 2, DurationSeconds: 12.5, ExitCode: &code}
	e.Classify(errclass.Result{Category: errclass.Storage, Severity: errclass.Critical, Actionable: true,
		Message: "no space left on device", Advice: "free space", Matched: "no space"})
	if err := l.Write(ctx, e); err != nil {
		t.Fatal(err)
	}
	got := lines(t, filepath.Join(l.Dir, JobsFile))
	want := `{"event":"backup_failure","time":"2026-11-20T02:00:00.123456789Z","job":"home","repository":"nas",` +
		`"hostname":"host1","run_id":"r1","attempt":2,"duration_seconds":12.5,"exit_code":1,` +
		`"error":"no space left on device","category":"storage","severity":"critical","actionable":true,` +
		`"retryable":false,"advice":"free space","rule":"no space"}`
	if len(got) != 1 || got[0] != want {
		t.Errorf("line:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
	if st, err := os.Stat(filepath.Join(l.Dir, JobsFile)); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v %v", st.Mode(), err)
	}
}

func TestRouting(t *testing.T) {
	l := Log{Dir: t.TempDir()}
	ctx := context.Background()
	for _, ev := range []string{BackupStart, BackupSuccess, VerificationStart, VerificationFailure,
		RestoreTestStart, RestoreTestSuccess, ErrorAnalysis} {
		if err := l.Write(ctx, Event{Event: ev, Job: "j"}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string][]string{
		JobsFile:         {BackupStart, BackupSuccess, VerificationStart, VerificationFailure},
		RestoreTestsFile: {RestoreTestStart, RestoreTestSuccess},
		ErrorsFile:       {ErrorAnalysis},
	}
	for file, events := range want {
		var got []string
		for _, line := range lines(t, filepath.Join(l.Dir, file)) {
			var e Event
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatal(err)
			}
			if e.Time.IsZero() {
				t.Errorf("%s: time not stamped", line)
			}
			if _, err := time.Parse(time.RFC3339Nano, e.Time.Format(time.RFC3339Nano)); err != nil {
				t.Error(err)
			}
			got = append(got, e.Event)
		}
		if !reflect.DeepEqual(got, events) {
			t.Errorf("%s: %v, want %v", file, got, events)
		}
	}
}

// TestConcurrentWriters has many writers append at once; every line must
// come out whole.
func TestConcurrentWriters(t *testing.T) {
	l := Log{Dir: t.TempDir()}
	const writers, each = 16, 40
	big := strings.Repeat("x", 3000) // lines larger than a pipe buffer's atomic size
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				errs <- l.Write(context.Background(), Event{Event: BackupSuccess, Job: fmt.Sprintf("job%d", w),
					Attempt: i + 1, Error: big})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(filepath.Join(l.Dir, JobsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	count := map[string]int{}
	bad, err := Read(context.Background(), f, func(e Event) error {
		if e.Error != big || e.Attempt != count[e.Job]+1 {
			return fmt.Errorf("event %+v out of order or damaged", e.Attempt)
		}
		count[e.Job]++
		return nil
	})
	if err != nil || bad != 0 {
		t.Fatalf("Read: %d bad lines, %v", bad, err)
	}
	for w := range writers {
		if c := count[fmt.Sprintf("job%d", w)]; c != each {
			t.Errorf("job%d: %d events, want %d", w, c, each)
		}
	}
}

func TestLast(t *testing.T) {
	l := Log{Dir: t.TempDir()}
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	for i, e := range []Event{
		{Event: BackupStart, Job: "home"},
		{Event: BackupSuccess, Job: "home", DurationSeconds: 10},
		{Event: BackupStart, Job: "tank"},
		{Event: BackupFailure, Job: "tank", Error: "connection refused"},
		{Event: BackupStart, Job: "home"}, // running now
	} {
		e.Time = t0.Add(time.Duration(i) * time.Minute)
		if err := l.Write(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	// A line cut short by a crash, and a blank line, are skipped.
	f, _ := os.OpenFile(filepath.Join(l.Dir, JobsFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("\n{\"event\":\"backup_succ")
	f.Close()

	last, err := l.Last(ctx, JobsFile, Event.Finished)
	if err != nil {
		t.Fatal(err)
	}
	if len(last) != 2 || last["home"].Event != BackupSuccess || last["home"].DurationSeconds != 10 ||
		last["tank"].Event != BackupFailure || last["tank"].Error != "connection refused" {
		t.Errorf("finished: %+v", last)
	}
	all, err := l.Last(ctx, JobsFile, nil)
	if err != nil || all["home"].Event != BackupStart || !all["home"].Time.Equal(t0.Add(4*time.Minute)) {
		t.Errorf("all: %+v %v", all["home"], err)
	}
	none, err := l.Last(ctx, RestoreTestsFile, nil)
	if err != nil || len(none) != 0 {
		t.Errorf("missing file: %v %v", none, err)
	}
}

func TestReadCountsBadLines(t *testing.T) {
	in := `{"event":"backup_start","time":"2026-11-20T02:00:00Z","job":"a"}
not json
{"job":"no event name"}
{"event":"backup_success","time":"2026-11-20T02:01:00Z","job":"a"}`
	var got []string
	bad, err := Read(context.Background(), bufio.NewReader(strings.NewReader(in)), func(e Event) error {
		got = append(got, e.Event)
		return nil
	})
	if err != nil || bad != 2 || !reflect.DeepEqual(got, []string{BackupStart, BackupSuccess}) {
		t.Errorf("bad=%d err=%v got=%v", bad, err, got)
	}
	stop := errors.New("stop")
	if _, err := Read(context.Background(), strings.NewReader(in), func(Event) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("fn's error not returned: %v", err)
	}
}

func TestWriteRefuses(t *testing.T) {
	l := Log{Dir: t.TempDir()}
	if err := l.Write(context.Background(), Event{}); err == nil {
		t.Error("wrote an event without a name")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Write(ctx, Event{Event: BackupStart}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	long := Event{Event: ErrorAnalysis, Error: strings.Repeat("a", maxError) + "the end"}
	if err := l.Write(context.Background(), long); err != nil {
		t.Fatal(err)
	}
	got := lines(t, filepath.Join(l.Dir, ErrorsFile))
	var e Event
	if err := json.Unmarshal([]byte(got[0]), &e); err != nil || len(e.Error) != maxError+len("[...]") || !strings.HasSuffix(e.Error, "the end") {
		t.Errorf("long error kept %d bytes, %v", len(e.Error), err)
	}
}
