package job_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/job"
	"github.com/hbackup/hbackup/job/config"
)

// The child gets the job's resource limits: GOMAXPROCS and GOMEMLIMIT for
// the Go runtime, and its nice value set by the runner.
func TestBinaryAppliesResources(t *testing.T) {
	script := filepath.Join(t.TempDir(), "fake-hbackup")
	// Field 19 of /proc/PID/stat is the nice value.
	body := "#!/bin/sh\necho \"$GOMAXPROCS $GOMEMLIMIT $(cut -d' ' -f19 /proc/$$/stat) $(ionice -p $$) $1\"\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	res := job.Binary{Path: script}.Run(context.Background(), job.Invocation{
		Args:      []string{"backup"},
		Resources: config.Resources{CPUs: 1.5, Memory: 512 << 20, Nice: 10, IOClass: "idle"},
	})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if got, want := strings.TrimSpace(string(res.Stdout)), "2 536870912 10 idle backup"; got != want {
		t.Errorf("child saw %q, want %q (GOMAXPROCS, GOMEMLIMIT, nice, IO class, argument)", got, want)
	}
}
