package snapshot

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path"

	"github.com/hbackup/hbackup/repo"
)

// Stats counting modes, restic's names.
const (
	StatsRestoreSize     = "restore-size"
	StatsFilesByContents = "files-by-contents"
	StatsRawData         = "raw-data"
	StatsBlobsPerFile    = "blobs-per-file"
)

// Stats is the result of `stats`, with restic 0.14's JSON names.
type Stats struct {
	TotalSize      uint64 `json:"total_size"`
	TotalFileCount uint64 `json:"total_file_count"`
	TotalBlobCount uint64 `json:"total_blob_count,omitempty"`
	SnapshotsCount int    `json:"snapshots_count"`
}

// BlobIndex finds where blobs are stored.
type BlobIndex interface {
	Lookup(h repo.BlobHandle) []repo.PackedBlob
}

// StatsCollector accumulates Stats over snapshots in one mode. Like
// restic, "files" in the counting modes are all nodes (directories and
// symlinks included); files-by-contents and blobs-per-file count a node
// only when its content list was not seen before.
type StatsCollector struct {
	Mode  string
	Stats Stats

	r         BlobLoader
	idx       BlobIndex
	contents  map[[32]byte]bool           // content lists seen
	fileBlobs map[string]map[repo.ID]bool // blobs-per-file: blobs per path
	blobs     map[repo.BlobHandle]bool    // raw-data: blobs used
	trees     map[repo.ID]bool            // raw-data: trees walked
}

// NewStatsCollector checks the mode and prepares the counters.
func NewStatsCollector(mode string, r BlobLoader, idx BlobIndex) (*StatsCollector, error) {
	switch mode {
	case StatsRestoreSize, StatsFilesByContents, StatsRawData, StatsBlobsPerFile:
	default:
		return nil, fmt.Errorf("unknown counting mode: %s (use the -h flag to get a list of supported modes)", mode)
	}
	return &StatsCollector{Mode: mode, r: r, idx: idx, contents: map[[32]byte]bool{},
		fileBlobs: map[string]map[repo.ID]bool{}, blobs: map[repo.BlobHandle]bool{}, trees: map[repo.ID]bool{}}, nil
}

// Add counts one snapshot.
func (c *StatsCollector) Add(ctx context.Context, sn *Snapshot) error {
	if sn.Tree == nil {
		return fmt.Errorf("snapshot %s has no tree", sn.ID().Str())
	}
	c.Stats.SnapshotsCount++
	if c.Mode == StatsRawData {
		if err := c.usedBlobs(ctx, *sn.Tree); err != nil {
			return err
		}
		return nil
	}
	// Hard links count once per snapshot: that is what a restore writes.
	inodes := map[[2]uint64]bool{}
	return Walk(ctx, c.r, *sn.Tree, "/", func(p string, n *Node) (bool, error) {
		switch c.Mode {
		case StatsRestoreSize:
			c.Stats.TotalFileCount++
			key := [2]uint64{n.Inode, n.DeviceID}
			if n.Links == 1 || n.Type == NodeTypeDir || n.Inode == 0 || !inodes[key] {
				inodes[key] = n.Links != 1 && n.Type != NodeTypeDir
				c.Stats.TotalSize += n.Size
			}
		default:
			return true, c.addUnique(p, n)
		}
		return true, nil
	})
}

func (c *StatsCollector) addUnique(p string, n *Node) error {
	h := sha256.New()
	for _, id := range n.Content {
		h.Write(id[:])
	}
	var key [32]byte
	h.Sum(key[:0])
	if c.contents[key] {
		return nil
	}
	c.contents[key] = true
	if c.Mode == StatsFilesByContents {
		c.Stats.TotalSize += n.Size
		c.Stats.TotalFileCount++
		return nil
	}
	// blobs-per-file: a blob counts once per path. restic keys the path
	// as the node's path joined with its name again; that only matters
	// for equality, so the node's path is used here.
	for _, id := range n.Content {
		seen := c.fileBlobs[p]
		if seen == nil {
			seen = map[repo.ID]bool{}
			c.fileBlobs[p] = seen
			c.Stats.TotalFileCount++
		}
		if seen[id] {
			continue
		}
		pbs := c.idx.Lookup(repo.BlobHandle{ID: id, Type: repo.DataBlob})
		if len(pbs) == 0 {
			return fmt.Errorf("blob %s of %s not found in index", id.Str(), path.Clean(p))
		}
		seen[id] = true
		c.Stats.TotalSize += uint64(pbs[0].PlaintextLength())
		c.Stats.TotalBlobCount++
	}
	return nil
}

// usedBlobs adds the size of every blob the tree uses that was not
// counted yet, as stored (encrypted, maybe compressed).
func (c *StatsCollector) usedBlobs(ctx context.Context, tree repo.ID) error {
	if c.trees[tree] {
		return nil
	}
	c.trees[tree] = true
	if err := c.countBlob(repo.BlobHandle{ID: tree, Type: repo.TreeBlob}); err != nil {
		return err
	}
	t, err := LoadTree(ctx, c.r, tree)
	if err != nil {
		return err
	}
	for _, n := range t.Nodes {
		for _, id := range n.Content {
			if err := c.countBlob(repo.BlobHandle{ID: id, Type: repo.DataBlob}); err != nil {
				return err
			}
		}
		if n.Type == NodeTypeDir && n.Subtree != nil {
			if err := c.usedBlobs(ctx, *n.Subtree); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *StatsCollector) countBlob(h repo.BlobHandle) error {
	if c.blobs[h] {
		return nil
	}
	pbs := c.idx.Lookup(h)
	if len(pbs) == 0 {
		return fmt.Errorf("blob %v not found in index", h)
	}
	c.blobs[h] = true
	c.Stats.TotalSize += uint64(pbs[0].Length)
	c.Stats.TotalBlobCount++
	return nil
}
