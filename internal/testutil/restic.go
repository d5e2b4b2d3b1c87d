package testutil

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Restic runs the real restic binary against one repository.
type Restic struct {
	Bin      string   // absolute path of the restic executable
	Repo     string   // repository passed with -r
	Password string   // passed as RESTIC_PASSWORD
	CacheDir string   // passed with --cache-dir so tests never touch ~/.cache
	Env      []string // extra KEY=VALUE entries added to the environment
}

// NewRestic returns a Restic for repoDir with its own temporary cache
// directory. It skips (or fails, see RequireBinary) when restic is missing.
func NewRestic(t testing.TB, repoDir, password string) *Restic {
	t.Helper()
	return &Restic{
		Bin:      RequireBinary(t, "restic"),
		Repo:     repoDir,
		Password: password,
		CacheDir: t.TempDir(),
	}
}

// Run runs restic with the repository and cache options followed by args and
// returns its stdout. A non-zero exit fails the test with the full stderr.
func (r *Restic) Run(t testing.TB, args ...string) []byte {
	t.Helper()
	stdout, stderr, code := r.RunErr(args...)
	if code != 0 {
		t.Fatalf("%s: exit code %d\nstderr:\n%s", r.describe(args), code, stderr)
	}
	return stdout
}

// RunJSON runs restic with args plus --json and decodes stdout into v.
func (r *Restic) RunJSON(t testing.TB, v any, args ...string) {
	t.Helper()
	args = append(append([]string(nil), args...), "--json")
	out := r.Run(t, args...)
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("%s: decoding JSON output: %v\nstdout:\n%s", r.describe(args), err, out)
	}
}

// RunErr runs restic like Run but leaves judging the result to the caller,
// for commands that are expected to fail. A command that cannot be started at
// all yields exit code -1 and the reason in stderr.
func (r *Restic) RunErr(args ...string) (stdout, stderr []byte, exitCode int) {
	full := append([]string{"-r", r.Repo, "--cache-dir", r.CacheDir}, args...)
	return r.exec(full)
}

// Version returns restic's version number, such as "0.14.0".
func (r *Restic) Version(t testing.TB) string {
	t.Helper()
	stdout, stderr, code := r.exec([]string{"version"})
	if code != 0 {
		t.Fatalf("restic version: exit code %d\nstderr:\n%s", code, stderr)
	}
	v, err := parseResticVersion(string(stdout))
	if err != nil {
		t.Fatalf("restic version: %v", err)
	}
	return v
}

// exec runs the binary with exactly args, stdin closed, and an environment
// cleared of the caller's RESTIC_* settings so they cannot leak into tests.
func (r *Restic) exec(args []string) (stdout, stderr []byte, exitCode int) {
	cmd := exec.Command(r.Bin, args...)
	cmd.Env = r.environ()
	var outBuf, errBuf bytes.Buffer
	cmd.Stdout = &outBuf
	cmd.Stderr = &errBuf
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return outBuf.Bytes(), errBuf.Bytes(), 0
	case errors.As(err, &exitErr) && exitErr.ExitCode() >= 0:
		return outBuf.Bytes(), errBuf.Bytes(), exitErr.ExitCode()
	default:
		fmt.Fprintf(&errBuf, "running %s: %v\n", r.Bin, err)
		return outBuf.Bytes(), errBuf.Bytes(), -1
	}
}

func (r *Restic) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RESTIC_") {
			env = append(env, kv)
		}
	}
	env = append(env, "RESTIC_PASSWORD="+r.Password)
	return append(env, r.Env...)
}

func (r *Restic) describe(args []string) string {
	return fmt.Sprintf("restic -r %s %s", r.Repo, strings.Join(args, " "))
}

// parseResticVersion extracts "0.14.0" from "restic 0.14.0 compiled with ...".
func parseResticVersion(out string) (string, error) {
	fields := strings.Fields(out)
	if len(fields) < 2 || fields[0] != "restic" {
		return "", fmt.Errorf("unexpected output %q", out)
	}
	return fields[1], nil
}
