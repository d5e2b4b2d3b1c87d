package testutil

import (
	"fmt"
	"runtime"
	"testing"
)

// recordingTB stands in for a testing.TB so tests can observe the helpers
// skipping or failing. Skip and Fatal end the goroutine like the real ones.
type recordingTB struct {
	testing.TB
	skipped, failed bool
	msgs            []string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) record(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Skipf(format string, args ...any) {
	r.skipped = true
	r.record(format, args...)
	runtime.Goexit()
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.failed = true
	r.record(format, args...)
	runtime.Goexit()
}

func (r *recordingTB) Fatal(args ...any) {
	r.Fatalf("%s", fmt.Sprint(args...))
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.failed = true
	r.record(format, args...)
}

// runRecorded runs fn in its own goroutine, as runtime.Goexit requires, with
// a recordingTB wrapping t.
func runRecorded(t *testing.T, fn func(tb testing.TB)) *recordingTB {
	t.Helper()
	rec := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(rec)
	}()
	<-done
	return rec
}
