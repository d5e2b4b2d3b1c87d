package main

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/hbackup/hbackup/snapshot"
	"github.com/spf13/pflag"
)

func lsCommand() *command {
	return &command{
		name:  "ls",
		usage: "snapshotID [dir...]",
		short: "List files in a snapshot",
		long: `The "ls" command lists files and directories in a snapshot. The special
snapshot ID "latest" can be used to list files and directories of the
latest snapshot in the repository. If directories are given, only their
contents are listed (recursively with --recursive).`,
		setup: func(fs *pflag.FlagSet, g *globalOptions) func(context.Context, []string) error {
			var f filterFlags
			f.register(fs)
			long := fs.BoolP("long", "l", false, "use a long listing format showing size and mode")
			recursive := fs.Bool("recursive", false, "include files in subfolders of the listed directories")
			return func(ctx context.Context, args []string) error {
				if len(args) == 0 {
					return fmt.Errorf("no snapshot ID specified, specify snapshot ID or use special ID 'latest'")
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
				dirs := args[1:]
				for i, d := range dirs {
					dirs[i] = path.Clean("/" + strings.TrimSuffix(d, "/"))
				}
				if g.json {
					out := snapshotJSON{Snapshot: sn, ID: sn.ID(), ShortID: sn.ID().Str()}
					if err := writeJSON(g.stdout, struct {
						snapshotJSON
						StructType string `json:"struct_type"`
					}{out, "snapshot"}); err != nil {
						return err
					}
				} else {
					fmt.Fprintf(g.stdout, "snapshot %s of %v at %s:\n", sn.ID().Str(), sn.Paths, sn.Time)
				}
				return snapshot.Walk(ctx, r, *sn.Tree, "/", func(p string, n *snapshot.Node) (bool, error) {
					show, descend := lsSelect(p, n, dirs, *recursive)
					if show {
						if g.json {
							if err := writeJSON(g.stdout, lsNodeJSON(p, n)); err != nil {
								return false, err
							}
						} else if *long {
							fmt.Fprintln(g.stdout, formatLongNode(p, n))
						} else {
							fmt.Fprintln(g.stdout, p)
						}
					}
					return descend, nil
				})
			}
		},
	}
}

// lsSelect decides, for ls with directory arguments, whether to print a
// path and whether to descend into it.
func lsSelect(p string, n *snapshot.Node, dirs []string, recursive bool) (show, descend bool) {
	if len(dirs) == 0 {
		return true, true
	}
	for _, d := range dirs {
		switch {
		case p == d:
			return false, true
		case strings.HasPrefix(p, d+"/") || d == "/":
			direct := path.Dir(p) == d
			return direct || recursive, recursive || (direct && false)
		case strings.HasPrefix(d, p+"/"):
			return false, true // an ancestor of a listed directory
		}
	}
	return false, false
}

type lsNode struct {
	Name        string    `json:"name"`
	Type        string    `json:"type"`
	Path        string    `json:"path"`
	UID         uint32    `json:"uid"`
	GID         uint32    `json:"gid"`
	Size        *uint64   `json:"size,omitempty"`
	Mode        uint32    `json:"mode,omitempty"`
	Permissions string    `json:"permissions,omitempty"`
	ModTime     time.Time `json:"mtime,omitempty"`
	AccessTime  time.Time `json:"atime,omitempty"`
	ChangeTime  time.Time `json:"ctime,omitempty"`
	StructType  string    `json:"struct_type"`
}

func lsNodeJSON(p string, n *snapshot.Node) lsNode {
	out := lsNode{Name: n.Name, Type: string(n.Type), Path: p, UID: n.UID, GID: n.GID,
		Mode: uint32(n.Mode), Permissions: n.Mode.String(),
		ModTime: n.ModTime, AccessTime: n.AccessTime, ChangeTime: n.ChangeTime, StructType: "node"}
	if n.Type == snapshot.NodeTypeFile {
		s := n.Size
		out.Size = &s
	}
	return out
}

func formatLongNode(p string, n *snapshot.Node) string {
	user, group := n.User, n.Group
	if user == "" {
		user = fmt.Sprint(n.UID)
	}
	if group == "" {
		group = fmt.Sprint(n.GID)
	}
	target := ""
	if n.Type == snapshot.NodeTypeSymlink {
		target = " -> " + n.LinkTarget
	}
	return fmt.Sprintf("%s %5s %5s %6d %s %s%s", n.Mode, user, group, n.Size, n.ModTime.Local().Format("2006-01-02 15:04:05"), p, target)
}
