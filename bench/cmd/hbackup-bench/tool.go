package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// tool is one of the two programs under test.
type tool struct {
	name    string // "restic" or "hbackup"
	bin     string
	env     []string        // complete environment for every run
	opts    []string        // global options before every command line (a remote's transport)
	version string          // first line of `BIN version`
	has     map[string]bool // probed commands
}

func newTool(name, bin, passwordFile string) *tool {
	// Inherited RESTIC_* settings (compression, pack size, ...) would skew
	// one tool or both, so only the password file is passed.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RESTIC_") {
			env = append(env, kv)
		}
	}
	env = append(env, "RESTIC_PASSWORD_FILE="+passwordFile)
	return &tool{name: name, bin: bin, env: env, has: map[string]bool{}}
}

// proc is the outcome of one process.
type proc struct {
	wall   time.Duration
	cpu    time.Duration // user + system, from wait4's rusage
	maxRSS int64         // bytes, from wait4's rusage
	stdout []byte
}

// exec runs the tool with args and fails on a non-zero exit, quoting the
// end of its stderr.
func (t *tool) exec(ctx context.Context, args ...string) (proc, error) {
	args = append(slices.Clone(t.opts), args...)
	cmd := exec.CommandContext(ctx, t.bin, args...)
	cmd.Env = t.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := proc{wall: time.Since(start), stdout: stdout.Bytes()}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.maxRSS = ru.Maxrss * 1024 // Linux reports KiB
			r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	if err != nil {
		return r, fmt.Errorf("%s %s: %w\n%s", t.name, strings.Join(args, " "), err, tail(stderr.Bytes(), 2000))
	}
	return r, nil
}

// via returns a copy of t for a remote repository: env entries (KEY=VALUE)
// replace the inherited ones of the same key, and opts go before every
// command line. It shares the version and probed commands with t.
func (t *tool) via(env []string, opts ...string) *tool {
	c := *t
	c.env = nil
	for _, kv := range t.env {
		key, _, _ := strings.Cut(kv, "=")
		if !slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, key+"=") }) {
			c.env = append(c.env, kv)
		}
	}
	c.env = append(c.env, env...)
	c.opts = append(slices.Clone(t.opts), opts...)
	return &c
}

// hasCommand reports whether the tool implements command. `hbackup help X`
// prints the general usage and exits 0 for an unknown X, so the probe is
// `BIN X --help`, which fails for an unknown command in both tools.
func (t *tool) hasCommand(ctx context.Context, command string) bool {
	if ok, probed := t.has[command]; probed {
		return ok
	}
	cmd := exec.CommandContext(ctx, t.bin, command, "--help")
	cmd.Env = t.env
	ok := cmd.Run() == nil
	t.has[command] = ok
	return ok
}

// probeVersion records the first line of `BIN version`.
func (t *tool) probeVersion(ctx context.Context) error {
	r, err := t.exec(ctx, "version")
	if err != nil {
		return err
	}
	t.version, _, _ = strings.Cut(strings.TrimSpace(string(r.stdout)), "\n")
	return nil
}

// backupSummary is the part of the --json backup summary the harness reports.
type backupSummary struct {
	FilesNew     int `json:"files_new"`
	FilesChanged int `json:"files_changed"`
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = append([]byte("..."), b[len(b)-n:]...)
	}
	return string(b)
}
