package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/hbackup/hbackup/repo"
)

// Exit codes, as restic documents them.
const (
	exitOK          = 0
	exitFatal       = 1
	exitPartial     = 3 // backup: some source files could not be read
	exitNoRepo      = 10
	exitLocked      = 11
	exitWrongPass   = 12
	exitInterrupted = 130
)

// errPartial reports a backup that completed but skipped unreadable files.
var errPartial = errors.New("at least one source file could not be read")

// exitCode maps an error to restic's exit codes.
func exitCode(ctx context.Context, err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errPartial):
		return exitPartial
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.Is(err, repo.ErrNoRepository):
		return exitNoRepo
	case errors.Is(err, repo.ErrLocked):
		return exitLocked
	case errors.Is(err, repo.ErrWrongPassword):
		return exitWrongPass
	}
	return exitFatal
}

// report prints a fatal error the way restic does and returns the code.
func (g *globalOptions) report(ctx context.Context, err error) int {
	if code, ok := healthExitCode(err); ok {
		fmt.Fprintln(g.stderr, err)
		return code
	}
	code := exitCode(ctx, err)
	switch code {
	case exitOK:
	case exitPartial:
		g.printExit(code, fmt.Sprintf("Warning: %v", err))
	case exitInterrupted:
		g.printExit(code, "interrupted")
	default:
		g.printExit(code, fmt.Sprintf("Fatal: %v", err))
	}
	return code
}

// printExit prints the message a command ends with on stderr: as is, or
// with --json as restic (0.17 and later) does, one JSON line
// {"message_type": "exit_error", "code": ..., "message": ...}.
func (g *globalOptions) printExit(code int, message string) {
	if g.json {
		_ = writeJSON(g.stderr, struct {
			MessageType string `json:"message_type"`
			Code        int    `json:"code"`
			Message     string `json:"message"`
		}{"exit_error", code, message})
		return
	}
	fmt.Fprintln(g.stderr, message)
}
