package main

import (
	"context"
	"fmt"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/repo/checker"
	"github.com/spf13/pflag"
)

// migration is one of restic's named repository migrations.
type migration struct {
	name, desc string
	// applicable reports whether the migration can run, and why not.
	applicable func(r *repo.Repository) (bool, string)
	// repoCheck: run a full check first and abort on errors.
	repoCheck bool
	apply     func(ctx context.Context, r *repo.Repository) error
}

// migrations lists what hbackup can apply. restic's s3_layout concerns
// only the S3 backend, which hbackup does not have.
func migrations() []migration {
	return []migration{{
		name: "upgrade_repo_v2",
		desc: "upgrade a repository to version 2",
		applicable: func(r *repo.Repository) (bool, string) {
			if v := r.Config().Version; v != 1 {
				return false, fmt.Sprintf("repository is already upgraded to version %v", v)
			}
			return true, ""
		},
		repoCheck: true,
		apply:     func(ctx context.Context, r *repo.Repository) error { return r.UpgradeToV2(ctx) },
	}}
}

func migrateCommand() *command {
	return &command{
		name:  "migrate",
		usage: "[name]",
		short: "Apply migrations",
		long: `The "migrate" command checks which migrations can be applied for a repository
and prints a list with available migration names. If one or more migration
names are specified, these migrations are applied.

upgrade_repo_v2 checks the repository first and aborts if it has errors.

Exit status is 0 if the command was successful, and non-zero if there was any error.`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			force := fs.BoolP("force", "f", false, "apply a migration a second time")
			return func(ctx context.Context, args []string) error {
				r, done, err := g.openRepository(ctx, exclusiveLock)
				if err != nil {
					return err
				}
				defer done()
				if len(args) == 0 {
					return listMigrations(g, r)
				}
				return applyMigrations(ctx, g, r, args, *force)
			}
		},
	}
}

func listMigrations(g *globalOptions, r *repo.Repository) error {
	g.printf("available migrations:\n")
	found := false
	for _, m := range migrations() {
		if ok, _ := m.applicable(r); ok {
			g.printf("  %v\t%v\n", m.name, m.desc)
			found = true
		}
	}
	if !found {
		g.printf("no migrations found\n")
	}
	return nil
}

func applyMigrations(ctx context.Context, g *globalOptions, r *repo.Repository, names []string, force bool) error {
	var firstErr error
	for _, name := range names {
		var m *migration
		for _, c := range migrations() {
			if c.name == name {
				m = &c
			}
		}
		if m == nil {
			return fmt.Errorf("unknown migration %q", name)
		}
		if ok, reason := m.applicable(r); !ok {
			if !force {
				fmt.Fprintf(g.stderr, "migration %v cannot be applied: %v\nIf you want to apply this migration anyway, re-run with option --force\n", m.name, reason)
				continue
			}
			fmt.Fprintf(g.stderr, "check for migration %v failed, continuing anyway\n", m.name)
		}
		if m.repoCheck {
			g.printf("checking repository integrity...\n")
			if err := runCheck(ctx, g, checker.New(r), false, nil); err != nil {
				return err
			}
		}
		g.printf("applying migration %v...\n", m.name)
		if err := m.apply(ctx, r); err != nil {
			fmt.Fprintf(g.stderr, "migration %v failed: %v\n", m.name, err)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		g.printf("migration %v: success\n", m.name)
	}
	return firstErr
}
