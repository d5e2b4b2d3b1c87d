package job

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"time"

	"github.com/hbackup/hbackup/job/config"
	"golang.org/x/sys/unix"
)

// Invocation is one hbackup command line to run.
type Invocation struct {
	Args      []string         // e.g. {"backup", "--json", "/home"}
	Env       []string         // added to the runner's environment
	Resources config.Resources // limits for the child process
	// Log receives the command's standard error as it runs (progress and
	// warnings), in addition to CommandResult.Stderr; nil discards it.
	Log io.Writer
}

// CommandResult is what a command did.
type CommandResult struct {
	Stdout, Stderr []byte
	ExitCode       int   // -1 when it did not run or was killed
	Err            error // nil when the command exited with code 0
}

// Executor runs hbackup commands.
type Executor interface {
	Run(ctx context.Context, inv Invocation) CommandResult
}

// Binary runs the hbackup executable at Path as a child process.
type Binary struct {
	Path string
}

// Run starts the command, applies the resource limits to it and waits.
// CPU and memory limits become GOMAXPROCS and GOMEMLIMIT (the Go runtime's
// own knobs, honoured without cgroups); nice and the IO class are set on
// the child with setpriority and ioprio_set. Under systemd the same limits
// are also set as unit properties by `hbackup schedule install`.
func (b Binary) Run(ctx context.Context, inv Invocation) CommandResult {
	cmd := exec.CommandContext(ctx, b.Path, inv.Args...)
	cmd.Env = append(append(os.Environ(), inv.Env...), resourceEnv(inv.Resources)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if inv.Log != nil {
		cmd.Stderr = io.MultiWriter(&stderr, inv.Log)
	}
	// SIGINT first, so the child releases its lock and ZFS snapshots.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = waitDelay
	if err := startWithPriorities(cmd, inv.Resources); err != nil {
		return CommandResult{ExitCode: -1, Err: fmt.Errorf("start %s: %w", b.Path, err)}
	}
	err := cmd.Wait()
	res := CommandResult{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: cmd.ProcessState.ExitCode(), Err: err}
	if err != nil && ctx.Err() != nil {
		res.Err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && res.ExitCode >= 0 {
		res.Err = fmt.Errorf("hbackup %s: exit status %d", inv.Args[0], res.ExitCode)
	}
	return res
}

func resourceEnv(r config.Resources) []string {
	var env []string
	if r.CPUs > 0 {
		n := int(r.CPUs + 0.999)
		env = append(env, "GOMAXPROCS="+strconv.Itoa(n))
	}
	if r.Memory > 0 {
		env = append(env, "GOMEMLIMIT="+strconv.FormatInt(r.Memory, 10))
	}
	return env
}

// ioprio_set's "who" and class constants (linux/ioprio.h).
const (
	ioprioWhoProcess = 1
	ioprioClassShift = 13
)

var ioClasses = map[string]int{"realtime": 1, "best-effort": 2, "idle": 3}

// startWithPriorities starts cmd with the nice value and IO class of r.
// Both are per thread on Linux and inherited by a child, so the child is
// forked from a thread that has them: the child runs niced from its first
// instruction. The thread is never unlocked, so it ends with its
// goroutine and the lowered priority goes with it. Failures to lower the
// priority are ignored: it is a courtesy, not a requirement.
func startWithPriorities(cmd *exec.Cmd, r config.Resources) error {
	class := ioClasses[r.IOClass]
	if r.Nice == 0 && class == 0 {
		return cmd.Start()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		tid := unix.Gettid()
		if r.Nice != 0 {
			_ = unix.Setpriority(unix.PRIO_PROCESS, tid, r.Nice)
		}
		if class != 0 {
			prio := r.IOPriority
			if class == 3 {
				prio = 0 // idle has no levels
			}
			_, _, _ = unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, uintptr(tid), uintptr(class<<ioprioClassShift|prio))
		}
		errc <- cmd.Start()
	}()
	return <-errc
}

// waitDelay is how long a cancelled child gets after SIGINT to clean up
// (release its lock and ZFS snapshots) before it is killed.
const waitDelay = 30 * time.Second
