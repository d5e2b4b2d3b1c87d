package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"

	"github.com/hbackup/hbackup/snapshot"
	"github.com/spf13/pflag"
)

func dumpCommand() *command {
	return &command{
		name:  "dump",
		usage: "[flags] snapshotID file",
		short: "Print a backed-up file to stdout",
		long: `The "dump" command writes a file from a snapshot to standard output.
A directory is written as a tar (or, with --archive zip, zip) archive of
its contents. The special snapshot ID "latest" takes the newest snapshot
passing the --host/--path/--tag filters.`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			archive := fs.StringP("archive", "a", "tar", "set archive `format` as \"tar\" or \"zip\"")
			var f filterFlags
			f.register(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) != 2 {
					return errors.New("no file and no snapshot ID specified")
				}
				if *archive != "tar" && *archive != "zip" {
					return fmt.Errorf("unknown archive format %q", *archive)
				}
				r, done, err := g.openRepository(ctx, sharedLock)
				if err != nil {
					return err
				}
				defer done()
				sn, err := snapshot.Find(ctx, r, args[0], f.filter())
				if err != nil {
					return err
				}
				if err := r.LoadIndex(ctx); err != nil {
					return err
				}
				n, err := snapshot.FindNode(ctx, r, *sn.Tree, args[1])
				if err != nil {
					return fmt.Errorf("cannot dump file: %w", err)
				}
				w := bufio.NewWriterSize(g.stdout, 1<<20)
				switch {
				case n.Type == snapshot.NodeTypeFile:
					err = snapshot.WriteContent(ctx, r, w, n)
				case n.Type == snapshot.NodeTypeDir && n.Subtree != nil:
					err = snapshot.DumpArchive(ctx, r, w, args[1], *n.Subtree, *archive)
				default:
					return fmt.Errorf("cannot dump %s: it is a %s", args[1], n.Type)
				}
				if err != nil {
					return err
				}
				return w.Flush()
			}
		},
	}
}
