package zfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Runner runs the zfs and zpool commands. The zero value is usable: it runs
// "zfs" and "zpool" from PATH. A Runner must not be copied after first use;
// it is safe for concurrent use.
type Runner struct {
	ZFS, ZPool string // binary paths; "" means "zfs"/"zpool"
	// Wrapper is an optional prefix of every command line, such as
	// {"sudo", "-n"} or {"ssh", "-F", "cfg", "host"}. When its first element
	// is ssh, the remaining arguments are shell-quoted, because ssh hands a
	// single command string to the remote shell.
	Wrapper []string
	Logger  *slog.Logger // optional

	mu   sync.Mutex
	caps *Capabilities // probed once, lazily
}

func (r *Runner) zfsBin() string {
	if r.ZFS == "" {
		return "zfs"
	}
	return r.ZFS
}

func (r *Runner) zpoolBin() string {
	if r.ZPool == "" {
		return "zpool"
	}
	return r.ZPool
}

// remote reports whether commands go through ssh.
func (r *Runner) remote() bool {
	return len(r.Wrapper) > 0 && filepath.Base(r.Wrapper[0]) == "ssh"
}

// argv builds the full command line for bin and args.
func (r *Runner) argv(bin string, args []string) []string {
	if len(r.Wrapper) == 0 {
		return append([]string{bin}, args...)
	}
	out := append([]string(nil), r.Wrapper...)
	if !r.remote() {
		return append(append(out, bin), args...)
	}
	q := make([]string, 0, len(args)+1)
	for _, a := range append([]string{bin}, args...) {
		q = append(q, shellQuote(a))
	}
	return append(out, strings.Join(q, " "))
}

// shellQuote quotes s for a POSIX shell unless it is plainly safe.
func shellQuote(s string) string {
	safe := s != ""
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./:@=,%+#", c)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// command prepares bin with args; stdin and stdout are the caller's.
func (r *Runner) command(ctx context.Context, bin string, args []string) *exec.Cmd {
	argv := r.argv(bin, args)
	if r.Logger != nil {
		r.Logger.DebugContext(ctx, "zfs command", "argv", argv)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	return cmd
}

// zfs runs the zfs command and returns its standard output.
func (r *Runner) zfs(ctx context.Context, args ...string) ([]byte, error) {
	return r.output(ctx, r.zfsBin(), args)
}

// zpool runs the zpool command and returns its standard output.
func (r *Runner) zpool(ctx context.Context, args ...string) ([]byte, error) {
	return r.output(ctx, r.zpoolBin(), args)
}

func (r *Runner) output(ctx context.Context, bin string, args []string) ([]byte, error) {
	var stdout bytes.Buffer
	err := r.stream(ctx, bin, args, nil, &stdout)
	return stdout.Bytes(), err
}

// stream runs bin with stdin and stdout connected to in and out and turns
// a failure into a *CommandError.
func (r *Runner) stream(ctx context.Context, bin string, args []string, in io.Reader, out io.Writer) error {
	cmd := r.command(ctx, bin, args)
	var stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, out, &stderr
	err := cmd.Run()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", strings.Join(cmd.Args, " "), ctx.Err())
	}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		return fmt.Errorf("%s: %w", strings.Join(cmd.Args, " "), err)
	}
	ce := &CommandError{Args: cmd.Args, Stderr: stderr.String(), ExitCode: exitErr.ExitCode()}
	ce.Kind = classify(ce.Stderr)
	if r.Logger != nil {
		r.Logger.DebugContext(ctx, "zfs command failed", "argv", cmd.Args, "stderr", ce.Stderr, "exit", ce.ExitCode)
	}
	return ce
}
