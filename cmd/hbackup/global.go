package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/cache"
	"github.com/hbackup/hbackup/repo"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// globalOptions are the flags every command accepts, with restic's names
// and environment variables.
type globalOptions struct {
	repository      string
	repositoryFile  string
	passwordFile    string
	passwordCommand string
	keyHint         string
	cacheDir        string
	noCache         bool
	cleanupCache    bool
	noLock          bool
	retryLock       time.Duration
	json            bool
	quiet           bool
	verbose         int
	compression     string
	packSize        uint
	options         []string

	password string // resolved by finish or read later
	stdout   io.Writer
	stderr   io.Writer
	logger   *slog.Logger
}

func newGlobalOptions(stdout, stderr io.Writer) *globalOptions {
	return &globalOptions{stdout: stdout, stderr: stderr}
}

func (g *globalOptions) register(fs *pflag.FlagSet) {
	fs.StringVarP(&g.repository, "repo", "r", "", "`repository` to back up to or restore from (default: $RESTIC_REPOSITORY)")
	fs.StringVar(&g.repositoryFile, "repository-file", "", "`file` to read the repository location from (default: $RESTIC_REPOSITORY_FILE)")
	fs.StringVarP(&g.passwordFile, "password-file", "p", "", "`file` to read the repository password from (default: $RESTIC_PASSWORD_FILE)")
	fs.StringVar(&g.passwordCommand, "password-command", "", "shell `command` to obtain the repository password from (default: $RESTIC_PASSWORD_COMMAND)")
	fs.StringVar(&g.keyHint, "key-hint", "", "`key` ID of key to try decrypting first (default: $RESTIC_KEY_HINT)")
	fs.StringVar(&g.cacheDir, "cache-dir", "", "set the cache `directory`. (default: use system default cache directory)")
	fs.BoolVar(&g.cleanupCache, "cleanup-cache", false, "auto remove old cache directories")
	fs.BoolVar(&g.noCache, "no-cache", false, "do not use a local cache")
	fs.BoolVar(&g.noLock, "no-lock", false, "do not lock the repository (read-only commands only)")
	fs.DurationVar(&g.retryLock, "retry-lock", 0, "retry to lock the repository if it is already locked, takes a value like 5m or 2h (default: no retries)")
	fs.BoolVar(&g.json, "json", false, "set output mode to JSON for commands that support it")
	fs.BoolVarP(&g.quiet, "quiet", "q", false, "do not output comprehensive progress report")
	fs.CountVarP(&g.verbose, "verbose", "v", "be verbose (specify multiple times or a level using --verbose=n, max level/times is 2)")
	fs.StringVar(&g.compression, "compression", "", "compression `mode` (only available for repository format version 2), one of (auto|off|max|fastest|better) (default: $RESTIC_COMPRESSION)")
	fs.UintVar(&g.packSize, "pack-size", 0, "set target pack `size` in MiB, created pack files may be larger (default: $RESTIC_PACK_SIZE)")
	fs.StringArrayVarP(&g.options, "option", "o", nil, "set extended option (`key=value`, can be specified multiple times)")
	g.registerLimits(fs)
}

// finish fills unset options from the environment, as restic does.
func (g *globalOptions) finish() error {
	envDefault(&g.repository, "RESTIC_REPOSITORY")
	envDefault(&g.repositoryFile, "RESTIC_REPOSITORY_FILE")
	envDefault(&g.passwordFile, "RESTIC_PASSWORD_FILE")
	envDefault(&g.passwordCommand, "RESTIC_PASSWORD_COMMAND")
	envDefault(&g.keyHint, "RESTIC_KEY_HINT")
	envDefault(&g.cacheDir, "RESTIC_CACHE_DIR")
	envDefault(&g.compression, "RESTIC_COMPRESSION")
	if g.packSize == 0 {
		if s := os.Getenv("RESTIC_PACK_SIZE"); s != "" {
			v, err := strconv.ParseUint(s, 10, 32)
			if err != nil {
				return fmt.Errorf("invalid RESTIC_PACK_SIZE %q", s)
			}
			g.packSize = uint(v)
		}
	}
	level := slog.LevelWarn
	if g.verbose >= 2 {
		level = slog.LevelDebug
	}
	g.logger = slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: level}))
	return nil
}

func envDefault(v *string, name string) {
	if *v == "" {
		*v = os.Getenv(name)
	}
}

// location returns the repository location from the flags.
func (g *globalOptions) location() (string, error) {
	if g.repository != "" && g.repositoryFile != "" {
		return "", errors.New("options -r and --repository-file are mutually exclusive, please specify only one")
	}
	if g.repositoryFile != "" {
		b, err := os.ReadFile(g.repositoryFile)
		if err != nil {
			return "", fmt.Errorf("read repository file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if g.repository == "" {
		return "", errors.New("Please specify repository location (-r or --repository-file)")
	}
	return g.repository, nil
}

// openBackend turns the repository location into a backend.
func (g *globalOptions) openBackend() (backend.Backend, error) {
	loc, err := g.location()
	if err != nil {
		return nil, err
	}
	return openLocation(loc, g)
}

// readPassword resolves the password: file, command, environment, then
// the terminal (or standard input when it is not a terminal), as restic.
func (g *globalOptions) readPassword(prompt string) (string, error) {
	if g.password != "" {
		return g.password, nil
	}
	if g.passwordFile != "" && g.passwordCommand != "" {
		return "", errors.New("Password file and command are mutually exclusive options")
	}
	switch {
	case g.passwordCommand != "":
		out, err := exec.Command("sh", "-c", g.passwordCommand).Output()
		if err != nil {
			return "", fmt.Errorf("password command failed: %w", err)
		}
		g.password = strings.TrimSpace(string(out))
	case g.passwordFile != "":
		b, err := os.ReadFile(g.passwordFile)
		if err != nil {
			return "", fmt.Errorf("%s does not exist or cannot be read: %w", g.passwordFile, err)
		}
		g.password = strings.TrimSpace(string(b))
	case os.Getenv("RESTIC_PASSWORD") != "":
		g.password = os.Getenv("RESTIC_PASSWORD")
	default:
		pw, err := promptPassword(g.stderr, prompt)
		if err != nil {
			return "", err
		}
		g.password = pw
	}
	if g.password == "" {
		return "", errors.New("an empty password is not a password")
	}
	return g.password, nil
}

func promptPassword(w io.Writer, prompt string) (string, error) {
	if term.IsTerminal(int(os.Stdin.Fd())) {
		fmt.Fprint(w, prompt)
		b, err := term.ReadPassword(int(os.Stdin.Fd()))
		fmt.Fprintln(w)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (g *globalOptions) repoOptions() (repo.Options, error) {
	comp, err := repo.ParseCompression(g.compression)
	if err != nil {
		return repo.Options{}, err
	}
	opts := repo.Options{Compression: comp, PackSize: int(g.packSize) << 20, KeyHint: g.keyHint, Logger: g.logger}
	if !g.noCache {
		opts.Cache = g.useCache
	}
	return opts, nil
}

// lockMode says which lock a command takes.
type lockMode int

const (
	noLock lockMode = iota
	sharedLock
	exclusiveLock
)

// openRepository opens the repository and takes the lock; the returned
// function unlocks and closes it.
func (g *globalOptions) openRepository(ctx context.Context, mode lockMode) (*repo.Repository, func(), error) {
	be, err := g.openBackend()
	if err != nil {
		return nil, nil, err
	}
	opts, err := g.repoOptions()
	if err != nil {
		return nil, nil, err
	}
	if _, err := be.Stat(ctx, backend.Handle{Type: backend.ConfigFile}); errors.Is(err, backend.ErrNotExist) {
		// Checked before asking for a password, as restic does.
		return nil, nil, fmt.Errorf("unable to open config file: %w: is there a repository at %s?", repo.ErrNoRepository, be.Location())
	}
	pw, err := g.readPassword("enter password for repository: ")
	if err != nil {
		return nil, nil, err
	}
	r, err := repo.Open(ctx, be, pw, opts)
	if err != nil {
		return nil, nil, err
	}
	if !g.quiet && !g.json && g.verbose > 0 {
		fmt.Fprintf(g.stderr, "repository %s opened (version %d)\n", r.Config().ID[:8], r.Config().Version)
	}
	var lock *repo.Lock
	if mode != noLock && !g.noLock {
		if lock, err = r.LockWithRetry(ctx, mode == exclusiveLock, g.retryLock); err != nil {
			r.Close()
			return nil, nil, err
		}
	}
	done := func() {
		if lock != nil {
			if err := lock.Unlock(context.WithoutCancel(ctx)); err != nil {
				fmt.Fprintf(g.stderr, "error removing lock: %v\n", err)
			}
		}
		r.Close()
	}
	return r, done, nil
}

// printf writes to stdout unless quiet or JSON output is on.
func (g *globalOptions) printf(format string, args ...any) {
	if g.quiet || g.json {
		return
	}
	fmt.Fprintf(g.stdout, format, args...)
}

// useCache puts the local metadata cache in front of be, for every kind
// of backend as restic does. A cache that cannot be opened is a warning,
// never a failure.
func (g *globalOptions) useCache(repoID string, be backend.Backend) backend.Backend {
	c, err := cache.New(be, repoID, cache.Options{Dir: g.cacheDir, Logger: g.logger})
	if err != nil {
		fmt.Fprintf(g.stderr, "unable to open cache: %v\n", err)
		return be
	}
	base := filepath.Dir(c.Dir())
	if g.cleanupCache {
		removed, err := cache.RemoveOld(base, 0)
		if len(removed) > 0 {
			g.printf("removed %d old cache dirs from %v\n", len(removed), base)
		}
		if err != nil {
			fmt.Fprintf(g.stderr, "unable to remove old cache dirs: %v\n", err)
		}
	} else if old, _ := cache.OldDirs(base, 0); len(old) > 0 && g.verbose > 0 && !g.quiet && !g.json {
		fmt.Fprintf(g.stderr, "found %d old cache directories in %v, run `hbackup --cleanup-cache ...` to remove them\n", len(old), base)
	}
	return c
}
