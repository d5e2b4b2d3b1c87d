package main

import (
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

// The commands that move many blobs set a soft memory limit sized by
// their pipeline; the others leave the runtime's default alone.
func TestCommandsSetMemoryLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "") // restored after the test
	os.Unsetenv("GOMEMLIMIT")  // limitMemory leaves a set one alone
	env, _ := backedUpTestRepo(t)
	dst := filepath.Join(t.TempDir(), "dst")
	mustRun(t, map[string]string{"RESTIC_REPOSITORY": dst, "RESTIC_PASSWORD": "pw"}, "init")
	copyEnv := map[string]string{"RESTIC_REPOSITORY": dst, "RESTIC_PASSWORD": "pw",
		"RESTIC_FROM_REPOSITORY": env["RESTIC_REPOSITORY"], "RESTIC_FROM_PASSWORD": "pw"}

	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	for _, c := range []struct {
		name  string
		env   map[string]string
		args  []string
		limit bool
		least int64 // the pipeline's share of the limit, at least
	}{
		{"snapshots", env, []string{"snapshots", "-q"}, false, 0},
		{"copy", copyEnv, []string{"copy", "-q"}, true, packStreamPipeline(2) + runtimeSlack},
		{"prune", env, []string{"prune", "-q"}, true, packStreamPipeline(1) + runtimeSlack},
	} {
		t.Run(c.name, func(t *testing.T) {
			debug.SetMemoryLimit(math.MaxInt64)
			mustRun(t, c.env, c.args...)
			got := debug.SetMemoryLimit(-1)
			switch {
			case !c.limit && got != math.MaxInt64:
				t.Errorf("memory limit set to %d MiB", got>>20)
			case c.limit && got == math.MaxInt64:
				t.Error("no memory limit set")
			case c.limit && got < c.least:
				t.Errorf("memory limit %d MiB, below the pipeline's %d MiB", got>>20, c.least>>20)
			}
		})
	}
}
