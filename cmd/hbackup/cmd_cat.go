package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
	"github.com/spf13/pflag"
)

func catCommand() *command {
	return &command{
		name:  "cat",
		usage: "[flags] [masterkey|config|pack ID|blob ID|snapshot ID|index ID|key ID|lock ID|tree snapshot:subfolder]",
		short: "Print internal objects to stdout",
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			return func(ctx context.Context, args []string) error {
				if len(args) < 1 {
					return errors.New("type not specified")
				}
				kind := args[0]
				if kind != "masterkey" && kind != "config" && len(args) < 2 {
					return errors.New("ID not specified")
				}
				r, done, err := g.openRepository(ctx, sharedLock)
				if err != nil {
					return err
				}
				defer done()
				return runCat(ctx, g, r, kind, args[1:])
			}
		},
	}
}

func printIndented(g *globalOptions, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(g.stdout, string(b))
	return err
}

func runCat(ctx context.Context, g *globalOptions, r *repo.Repository, kind string, args []string) error {
	switch kind {
	case "config":
		return printIndented(g, r.Config())
	case "masterkey":
		return printIndented(g, r.Key())
	case "key":
		id, err := r.FindID(ctx, backend.KeyFile, args[0])
		if err != nil {
			return err
		}
		data, err := r.LoadUnpacked(ctx, backend.KeyFile, id)
		if err != nil {
			return err
		}
		kf, err := crypto.ParseKeyFile(data)
		if err != nil {
			return err
		}
		return printIndented(g, kf)
	case "snapshot", "index", "lock":
		t := map[string]backend.FileType{"snapshot": backend.SnapshotFile, "index": backend.IndexFile, "lock": backend.LockFile}[kind]
		var id repo.ID
		var err error
		if kind == "snapshot" {
			var sn *snapshot.Snapshot
			if sn, err = snapshot.Find(ctx, r, args[0], snapshot.Filter{}); err != nil {
				return err
			}
			id = sn.ID()
		} else if id, err = r.FindID(ctx, t, args[0]); err != nil {
			return err
		}
		data, err := r.LoadUnpacked(ctx, t, id)
		if err != nil {
			return err
		}
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			return fmt.Errorf("%v/%v: %w", t, id, err)
		}
		return printIndented(g, v)
	case "pack":
		id, err := r.FindID(ctx, backend.PackFile, args[0])
		if err != nil {
			return err
		}
		data, err := backend.LoadAll(ctx, r.Backend(), backend.Handle{Type: backend.PackFile, Name: id.String()})
		if err != nil {
			return err
		}
		if repo.Hash(data) != id {
			fmt.Fprintf(g.stderr, "Warning: hash of data does not match ID, want %v, got %v\n", id, repo.Hash(data))
		}
		_, err = g.stdout.Write(data)
		return err
	case "blob", "tree":
		if err := r.LoadIndex(ctx); err != nil {
			return err
		}
		var id repo.ID
		t := repo.DataBlob
		if kind == "tree" {
			t = repo.TreeBlob
			snap, sub, _ := strings.Cut(args[0], ":")
			if parsed, err := repo.ParseID(args[0]); err == nil && !strings.Contains(args[0], ":") && r.Index().Has(repo.BlobHandle{ID: parsed, Type: repo.TreeBlob}) {
				id = parsed
			} else {
				sn, err := snapshot.Find(ctx, r, snap, snapshot.Filter{})
				if err != nil {
					return err
				}
				if id, err = snapshot.FindSubtree(ctx, r, *sn.Tree, sub); err != nil {
					return err
				}
			}
		} else {
			var err error
			if id, err = repo.ParseID(args[0]); err != nil {
				return err
			}
			if !r.Index().Has(repo.BlobHandle{ID: id, Type: repo.DataBlob}) && r.Index().Has(repo.BlobHandle{ID: id, Type: repo.TreeBlob}) {
				t = repo.TreeBlob
			}
		}
		data, err := r.LoadBlob(ctx, t, id, nil)
		if err != nil {
			return err
		}
		_, err = g.stdout.Write(data)
		return err
	}
	return fmt.Errorf("invalid type %q", kind)
}
