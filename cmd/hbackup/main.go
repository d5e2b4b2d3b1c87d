// Command hbackup backs up and restores files with restic-compatible
// repositories. Its commands, flags, environment variables and exit codes
// follow restic's, so scripts written for restic work unchanged.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
)

// version is the program version, recorded in snapshots.
const version = "0.1.0"

// command is one subcommand: its flags, its help and what it runs.
type command struct {
	name  string
	usage string // arguments after the command name
	short string
	long  string
	// setup registers the command's flags and returns the function that
	// runs it.
	setup func(fs *pflag.FlagSet, g *globalOptions) func(ctx context.Context, args []string) error
}

func commands() []*command {
	return []*command{
		initCommand(), backupCommand(), restoreCommand(), snapshotsCommand(),
		lsCommand(), catCommand(), versionCommand(),
		checkCommand(),
		forgetCommand(),
		unlockCommand(),
		pruneCommand(),
		copyCommand(),
		keyCommand(),
		tagCommand(),
		listCommand(),
		dumpCommand(),
		findCommand(),
		statsCommand(),
		diffCommand(),
		runCommand(), verifyCommand(), restoreTestCommand(), statusCommand(), healthCommand(), exporterCommand(),
		zfsCommand(),
		docsCommand(), scheduleCommand(),
		repairCommand(), rebuildIndexCommand(), rewriteCommand(), migrateCommand(),
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// A Go program exits on SIGHUP by default; restic's `unlock` on this
	// host probes lock holders with SIGHUP, so ignore it as restic does.
	signal.Ignore(syscall.SIGHUP)
	if os.Getenv("GOGC") == "" {
		// Most memory is long-lived pooled buffers; collecting garbage
		// sooner keeps peak RSS low at little CPU cost.
		debug.SetGCPercent(25)
	}
	stopProfile := startProfile(os.Getenv("HBACKUP_CPUPROFILE"), os.Getenv("HBACKUP_TRACE"), os.Getenv("HBACKUP_HEAPPROFILE"))
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stopProfile()
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := newGlobalOptions(stdout, stderr)
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			for _, c := range cmds {
				if c.name == args[1] {
					return run(ctx, []string{c.name, "--help"}, stdout, stderr)
				}
			}
			fmt.Fprintf(stderr, "hbackup: unknown command %q; run `hbackup help` for a list\n", args[1])
			return exitFatal
		}
		printUsage(stdout, cmds, g)
		return exitOK
	}
	// Global flags may come before the command name, as with restic.
	gfs := pflag.NewFlagSet("hbackup", pflag.ContinueOnError)
	gfs.SetOutput(io.Discard)
	g.register(gfs)
	gfs.SetInterspersed(false)
	if err := gfs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "hbackup: %v\n", err)
		return exitFatal
	}
	rest := gfs.Args()
	if len(rest) == 0 {
		printUsage(stdout, cmds, g)
		return exitOK
	}
	var cmd *command
	for _, c := range cmds {
		if c.name == rest[0] {
			cmd = c
		}
	}
	if cmd == nil {
		fmt.Fprintf(stderr, "hbackup: unknown command %q; run `hbackup help` for a list\n", rest[0])
		return exitFatal
	}
	fs := pflag.NewFlagSet("hbackup "+cmd.name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	runFn := cmd.setup(fs, g)
	fs.AddFlagSet(gfs)
	help := fs.BoolP("help", "h", false, "help for "+cmd.name)
	fs.Usage = func() { printCommandHelp(stdout, cmd, fs) }
	if err := fs.Parse(rest[1:]); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintf(stderr, "hbackup %s: %v\n", cmd.name, err)
		return exitFatal
	}
	if *help {
		printCommandHelp(stdout, cmd, fs)
		return exitOK
	}
	if err := g.finish(); err != nil {
		g.printExit(exitFatal, fmt.Sprintf("Fatal: %v", err))
		return exitFatal
	}
	err := runFn(ctx, fs.Args())
	return g.report(ctx, err)
}

func printUsage(w io.Writer, cmds []*command, g *globalOptions) {
	fmt.Fprintf(w, "hbackup %s: fast backups into restic-compatible repositories\n\n", version)
	fmt.Fprintf(w, "Usage:\n  hbackup [global flags] COMMAND [flags] [arguments]\n\nCommands:\n")
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	width := 0
	for _, c := range cmds {
		width = max(width, len(c.name))
	}
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-*s %s\n", width, c.name, c.short)
	}
	fs := pflag.NewFlagSet("global", pflag.ContinueOnError)
	g.register(fs)
	fmt.Fprintf(w, "\nGlobal flags:\n%s", fs.FlagUsages())
	fmt.Fprintf(w, "\nExit codes: 0 success, 1 fatal error, 3 some source files could not be read,\n10 repository does not exist, 11 repository is locked, 12 wrong password, 130 interrupted.\n")
	fmt.Fprintf(w, "\nRun `hbackup help COMMAND` for a command's flags.\n")
}

func printCommandHelp(w io.Writer, c *command, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "%s\n\nUsage:\n  hbackup %s [flags] %s\n", c.short, c.name, c.usage)
	if c.long != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.long))
	}
	fmt.Fprintf(w, "\nFlags:\n%s", fs.FlagUsages())
}
