package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

// findObjectJSON is one hit of `find --blob/--tree --json`.
type findObjectJSON struct {
	ObjectType string    `json:"object_type"`
	ID         string    `json:"id"`
	Path       string    `json:"path"`
	ParentTree string    `json:"parent_tree,omitempty"`
	Snapshot   string    `json:"snapshot"`
	Time       time.Time `json:"time"`
}

// findIDs reports where the given blobs, trees, or the data blobs of the
// given packs are used, newest snapshot first: every use, as restic.
func findIDs(ctx context.Context, g *globalOptions, r *repo.Repository, list []*snapshot.Snapshot, args []string, o findOptions) error {
	patterns := args
	if o.pack {
		var err error
		if patterns, err = packBlobs(ctx, r, args); err != nil {
			return err
		}
	}
	m := snapshot.NewIDMatcher(patterns)
	out := []findObjectJSON{}
	reported := map[repo.ID]bool{}
	for _, sn := range list {
		err := snapshot.FindObjects(ctx, r, *sn.Tree, m, !o.tree, func(h snapshot.ObjectHit) error {
			reported[h.ID] = true
			hit := findObjectJSON{ObjectType: h.Type.String(), ID: h.ID.String(), Path: h.Path,
				Snapshot: sn.ID().String(), Time: sn.Time}
			if h.Type == repo.DataBlob {
				hit.ObjectType, hit.ParentTree = "blob", h.ParentTree.String()
			}
			if g.json {
				out = append(out, hit)
				return nil
			}
			when := sn.Time.Local().Format("2006-01-02 15:04:05")
			if h.Type == repo.DataBlob {
				fmt.Fprintf(g.stdout, "Found blob %s\n ... in file %s\n     (tree %s)\n ... in snapshot %s (%s)\n", h.ID, h.Path, h.ParentTree, sn.ID().Str(), when)
			} else {
				fmt.Fprintf(g.stdout, "Found tree %s\n ... path %s\n ... in snapshot %s (%s)\n", h.ID, h.Path, sn.ID().Str(), when)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if g.json {
		return writeJSON(g.stdout, out)
	}
	if o.showPackID {
		t := repo.DataBlob
		if o.tree {
			t = repo.TreeBlob
		}
		for id := range reported {
			for _, pb := range r.Index().Lookup(repo.BlobHandle{ID: id, Type: t}) {
				fmt.Fprintf(g.stdout, "Object belongs to pack %s\n ... Pack %s: <Blob (%s) %s, offset %d, length %d, uncompressed length %d>\n",
					pb.PackID, pb.PackID.Str(), pb.Type, pb.ID.Str(), pb.Offset, pb.Length, pb.PlaintextLength())
			}
		}
	}
	return nil
}

// packBlobs returns the IDs of the data blobs the index places in the
// packs named by args (full IDs or prefixes).
func packBlobs(ctx context.Context, r *repo.Repository, args []string) ([]string, error) {
	packs := map[repo.ID]bool{}
	for _, a := range args {
		id, err := r.FindID(ctx, backend.PackFile, a)
		if err != nil {
			return nil, err
		}
		packs[id] = true
	}
	var ids []string
	r.Index().Each(func(pb repo.PackedBlob) {
		if packs[pb.PackID] && pb.Type == repo.DataBlob {
			ids = append(ids, pb.ID.String())
		}
	})
	return ids, nil
}
