// Package interop_test proves format compatibility with the real restic
// binary: hbackup writes and restic reads, restic writes and hbackup
// reads, and both share one repository.
package interop_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/backend/local"
	"github.com/hbackup/hbackup/repo"
)

// hbackupBin is built once by TestMain.
var hbackupBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hbackup-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	hbackupBin = filepath.Join(dir, "hbackup")
	cmd := exec.Command("go", "build", "-o", hbackupBin, "github.com/hbackup/hbackup/cmd/hbackup")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building hbackup:", err)
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

// hbackup runs the built CLI against one repository.
type hbackup struct {
	repo     string
	password string
	env      []string
}

func newHbackup(repo string) *hbackup { return &hbackup{repo: repo, password: "geheim"} }

func (h *hbackup) runErr(args ...string) (stdout, stderr []byte, code int) {
	full := append([]string{"-r", h.repo}, args...)
	cmd := exec.Command(hbackupBin, full...)
	cmd.Env = append(cleanEnv(), "RESTIC_PASSWORD="+h.password)
	cmd.Env = append(cmd.Env, h.env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code = 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		return nil, []byte(err.Error()), -1
	}
	return out.Bytes(), errb.Bytes(), code
}

func (h *hbackup) run(t testing.TB, args ...string) []byte {
	t.Helper()
	out, errb, code := h.runErr(args...)
	if code != 0 {
		t.Fatalf("hbackup %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errb)
	}
	if len(args) > 0 && args[0] == "init" && filepath.IsAbs(h.repo) {
		cheapenKey(t, h.repo, h.password) // a local repository
	}
	return out
}

// backupJSON runs a backup with --json and returns its summary line.
func (h *hbackup) backupJSON(t testing.TB, args ...string) map[string]any {
	t.Helper()
	out := h.run(t, append([]string{"backup", "--json"}, args...)...)
	return lastJSONLine(t, out, "summary")
}

func lastJSONLine(t testing.TB, out []byte, messageType string) map[string]any {
	t.Helper()
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		var m map[string]any
		if json.Unmarshal(lines[i], &m) == nil && m["message_type"] == messageType {
			return m
		}
	}
	t.Fatalf("no %q line in output:\n%s", messageType, out)
	return nil
}

// cleanEnv drops RESTIC_* variables of the caller so tests are hermetic.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RESTIC_") {
			env = append(env, kv)
		}
	}
	return env
}

// openRepo opens a local repository with the library (password
// "geheim"), closed when the test ends.
func openRepo(t testing.TB, repoDir string) *repo.Repository {
	t.Helper()
	be, err := local.New(repoDir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(context.Background(), be, "geheim", repo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}
