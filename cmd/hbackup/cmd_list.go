package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/repo"
	"github.com/spf13/pflag"
)

func listCommand() *command {
	return &command{
		name:  "list",
		usage: "[blobs|packs|index|snapshots|keys|locks]",
		short: "List objects in the repository",
		long: `The "list" command prints the IDs of the repository's files of one
type, one per line. "blobs" prints every blob the index knows as
"type id".`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			return func(ctx context.Context, args []string) error {
				if len(args) != 1 {
					return errors.New("type not specified")
				}
				kinds := map[string]backend.FileType{"packs": backend.PackFile, "index": backend.IndexFile,
					"snapshots": backend.SnapshotFile, "keys": backend.KeyFile, "locks": backend.LockFile}
				t, ok := kinds[args[0]]
				if !ok && args[0] != "blobs" {
					return fmt.Errorf("invalid type %q", args[0])
				}
				// Listing locks must work while the repository is locked
				// exclusively, so it takes no lock itself (as restic).
				mode := sharedLock
				if args[0] == "locks" {
					mode = noLock
				}
				r, done, err := g.openRepository(ctx, mode)
				if err != nil {
					return err
				}
				defer done()
				// Buffered: a write per line made listing 10 million
				// blobs take 36 s.
				w := bufio.NewWriter(g.stdout)
				if args[0] == "blobs" {
					if err := r.LoadIndex(ctx); err != nil {
						return err
					}
					r.Index().Each(func(pb repo.PackedBlob) {
						fmt.Fprintf(w, "%s %s\n", pb.Type, pb.ID)
					})
					return w.Flush()
				}
				err = r.List(ctx, t, func(id repo.ID, _ int64) error {
					_, err := fmt.Fprintln(w, id)
					return err
				})
				if ferr := w.Flush(); err == nil {
					err = ferr
				}
				return err
			}
		},
	}
}
