package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/hbackup/hbackup/chunk"
	"github.com/hbackup/hbackup/repo"
	"github.com/spf13/pflag"
)

func initCommand() *command {
	return &command{
		name:  "init",
		short: "Initialize a new repository",
		long: `The "init" command initializes a new repository. The repository is
restic-compatible: restic 0.14 and later can use it, and hbackup can use
repositories restic created.`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			version := fs.String("repository-version", "stable", "repository format `version` to use, allowed values are a format version, 'latest' and 'stable'")
			copyChunker := fs.Bool("copy-chunker-params", false, "copy chunker parameters from the secondary repository (useful with the copy command)")
			fromRepo := fs.String("from-repo", "", "source `repository` to copy chunker parameters from (default: $RESTIC_FROM_REPOSITORY)")
			fromPasswordFile := fs.String("from-password-file", "", "`file` to read the source repository password from (default: $RESTIC_FROM_PASSWORD_FILE)")
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return errors.New("the init command expects no arguments, only options - please see `hbackup help init` for usage and flags")
				}
				v, err := parseRepoVersion(*version)
				if err != nil {
					return err
				}
				var pol chunk.Polynomial
				if *copyChunker {
					if pol, err = g.chunkerFrom(ctx, *fromRepo, *fromPasswordFile); err != nil {
						return err
					}
				}
				be, err := g.openBackend()
				if err != nil {
					return err
				}
				pw, err := g.readPassword("enter password for new repository: ")
				if err != nil {
					return err
				}
				r, err := repo.Init(ctx, be, pw, repo.InitOptions{Version: v, Polynomial: pol})
				if err != nil {
					return fmt.Errorf("create repository at %s failed: %w", be.Location(), err)
				}
				defer r.Close()
				if g.json {
					return writeJSON(g.stdout, map[string]any{"message_type": "initialized", "id": r.Config().ID, "repository": be.Location()})
				}
				g.printf("created restic repository %s at %s\n\n", r.Config().ID[:10], be.Location())
				g.printf("Please note that knowledge of your password is required to access\nthe repository. Losing your password means that your data is\nirrecoverably lost.\n")
				return nil
			}
		},
	}
}

func parseRepoVersion(s string) (uint, error) {
	switch s {
	case "stable", "":
		return repo.StableVersion, nil
	case "latest":
		return repo.MaxVersion, nil
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil || v < repo.MinVersion || v > repo.MaxVersion {
		return 0, fmt.Errorf("invalid repository version %q: want 1, 2, latest or stable", s)
	}
	return uint(v), nil
}

// chunkerFrom opens the source repository to copy its polynomial.
func (g *globalOptions) chunkerFrom(ctx context.Context, location, passwordFile string) (chunk.Polynomial, error) {
	envDefault(&location, "RESTIC_FROM_REPOSITORY")
	envDefault(&passwordFile, "RESTIC_FROM_PASSWORD_FILE")
	if location == "" {
		return 0, errors.New("--copy-chunker-params needs --from-repo")
	}
	from := &globalOptions{repository: location, passwordFile: passwordFile, passwordCommand: os.Getenv("RESTIC_FROM_PASSWORD_COMMAND"),
		stdout: g.stdout, stderr: g.stderr, logger: g.logger}
	if from.passwordFile == "" && from.passwordCommand == "" {
		from.password = os.Getenv("RESTIC_FROM_PASSWORD")
	}
	be, err := openLocation(location, from)
	if err != nil {
		return 0, err
	}
	pw, err := from.readPassword("enter password for source repository: ")
	if err != nil {
		return 0, err
	}
	src, err := repo.Open(ctx, be, pw, repo.Options{})
	if err != nil {
		return 0, fmt.Errorf("open source repository %s: %w", location, err)
	}
	defer src.Close()
	return src.Config().ChunkerPolynomial, nil
}
