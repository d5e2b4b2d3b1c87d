package main

import (
	"context"
	"errors"

	"github.com/hbackup/hbackup/repo"
)

// repoFlags name a repository other than -r and where its password comes
// from (restic's --from-repo group, or the deprecated --repo2 group).
type repoFlags struct {
	repo, repoFile, passwordFile, passwordCommand, keyHint string
	password                                               string // from the environment only
}

// set reports whether a location was given.
func (f repoFlags) set() bool { return f.repo != "" || f.repoFile != "" }

// fromEnv fills unset fields from the environment variables named
// prefix+"REPOSITORY"+suffix and so on (RESTIC_FROM_REPOSITORY, or
// RESTIC_REPOSITORY2).
func (f *repoFlags) fromEnv(prefix, suffix string) {
	envDefault(&f.repo, prefix+"REPOSITORY"+suffix)
	envDefault(&f.repoFile, prefix+"REPOSITORY_FILE"+suffix)
	envDefault(&f.passwordFile, prefix+"PASSWORD_FILE"+suffix)
	envDefault(&f.passwordCommand, prefix+"PASSWORD_COMMAND"+suffix)
	envDefault(&f.keyHint, prefix+"KEY_HINT"+suffix)
	envDefault(&f.password, prefix+"PASSWORD"+suffix)
}

// secondaryRepo is how to open a repository other than -r.
type secondaryRepo struct {
	opts *globalOptions
	// prompt: no password source was given, so ask on the terminal; the
	// password must not come from RESTIC_PASSWORD, which belongs to -r.
	prompt bool
	label  string // "source", "destination", for the prompt
}

// secondary returns how to open another repository: with g's backend
// options, limits, compression, pack size and lock settings, and f's
// location, key hint and password source.
func (g *globalOptions) secondary(f repoFlags, label string) *secondaryRepo {
	o := *g
	o.repository, o.repositoryFile = f.repo, f.repoFile
	o.passwordFile, o.passwordCommand, o.keyHint = f.passwordFile, f.passwordCommand, f.keyHint
	o.password = ""
	prompt := false
	if f.passwordFile == "" && f.passwordCommand == "" {
		o.password = f.password
		prompt = f.password == ""
	}
	return &secondaryRepo{opts: &o, prompt: prompt, label: label}
}

// open opens the repository and takes the lock, as openRepository.
func (s *secondaryRepo) open(ctx context.Context, mode lockMode) (*repo.Repository, func(), error) {
	if s.prompt && s.opts.password == "" {
		pw, err := promptPassword(s.opts.stderr, "enter password for "+s.label+" repository: ")
		if err != nil {
			return nil, nil, err
		}
		if pw == "" {
			return nil, nil, errors.New("an empty password is not a password")
		}
		s.opts.password = pw
	}
	return s.opts.openRepository(ctx, mode)
}
