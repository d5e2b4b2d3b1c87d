package main

import (
	"context"

	"github.com/spf13/pflag"
)

func unlockCommand() *command {
	return &command{
		name:  "unlock",
		short: "Remove locks other processes created",
		long: `The "unlock" command removes stale locks: locks older than 30 minutes,
and locks of processes on this host that no longer exist. With
--remove-all it removes every lock; use that only when no other process
is using the repository.`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			all := fs.Bool("remove-all", false, "remove all locks, even non-stale ones")
			return func(ctx context.Context, args []string) error {
				r, done, err := g.openRepository(ctx, noLock)
				if err != nil {
					return err
				}
				defer done()
				n, err := r.RemoveLocks(ctx, *all)
				if err != nil {
					return err
				}
				g.printf("successfully removed %d locks\n", n)
				return nil
			}
		},
	}
}
