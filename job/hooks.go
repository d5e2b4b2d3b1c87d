package job

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/hbackup/hbackup/job/config"
)

// HookError is a pre/post/failure command that failed or timed out.
type HookError struct {
	Hook     string // "pre_backup", "post_backup" or "on_failure"
	Command  string
	ExitCode int // -1 when killed
	TimedOut bool
	Output   string // its combined output, last lines
}

func (e *HookError) Error() string {
	what := fmt.Sprintf("exit status %d", e.ExitCode)
	if e.TimedOut {
		what = "timed out"
	}
	msg := fmt.Sprintf("hook %s failed (%s): %s", e.Hook, what, e.Command)
	if e.Output != "" {
		msg += ": " + lastLines(e.Output, 5)
	}
	return msg
}

// runHook runs h with /bin/sh -c in its own process group, so a timeout
// stops everything it started. env describes the job and its outcome.
func runHook(ctx context.Context, name string, h *config.Hook, env []string, log io.Writer) error {
	if h == nil || h.Command == "" {
		return nil
	}
	hctx := ctx
	if h.Timeout > 0 {
		var cancel context.CancelFunc
		hctx, cancel = context.WithTimeout(ctx, h.Timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(hctx, "/bin/sh", "-c", h.Command)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	w := io.Writer(&out)
	if log != nil {
		w = io.MultiWriter(&out, log)
	}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	if err == nil {
		return nil
	}
	he := &HookError{Hook: name, Command: h.Command, ExitCode: -1, Output: strings.TrimSpace(out.String())}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		he.ExitCode = exitErr.ExitCode()
	}
	if errors.Is(hctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		he.TimedOut = true
	} else if ctx.Err() != nil {
		return fmt.Errorf("hook %s: %w", name, ctx.Err())
	}
	return he
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
