package job_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// hbackupBin is the hbackup command built for these tests: the runner
// runs jobs through it, as `hbackup run` does with itself.
var hbackupBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hbackup-job-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hbackupBin = filepath.Join(dir, "hbackup")
	build := exec.Command("go", "build", "-o", hbackupBin, "github.com/hbackup/hbackup/cmd/hbackup")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build hbackup:", err)
		os.Exit(1)
	}
	// The tools' caches (hbackup's and restic's) go to the test's
	// directory, not the user's. Set after the build: Go's own build
	// cache lives below XDG_CACHE_HOME too.
	os.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
