package restorer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync/atomic"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

// fileJob is one regular file being restored.
type fileJob struct {
	path  string
	node  *snapshot.Node
	blobs []blobRef // the content, in file order
	size  int64     // sum of the blob lengths
	links []string  // further paths hardlinked to path

	pending atomic.Int64 // blob uses not yet written
	failed  atomic.Bool  // an error was reported; no metadata, no verify

	// lazy files have all their content in one pack: the goroutine
	// writing that pack creates them on first write, which saves an open
	// and a close per file. created is only used by that goroutine.
	lazy    bool
	created bool
	// metaDone: the writer of the last blob applied the metadata before
	// closing the file (only without Verify, which must read it first).
	metaDone bool
}

// blobRef is one piece of a file's content.
type blobRef struct {
	id     repo.ID
	length uint32
}

// inodeKey identifies a file on the backed-up system, for hardlinks.
type inodeKey struct{ dev, ino uint64 }

// hardlinkKey reports whether n was hardlinked when backed up.
func hardlinkKey(n *snapshot.Node) (inodeKey, bool) {
	return inodeKey{dev: n.DeviceID, ino: n.Inode}, n.Links > 1 && n.Inode != 0
}

// planFile creates the file at path (or a hardlink to an already restored
// file of the same inode) and records which blobs go where.
func (rs *restorer) planFile(ctx context.Context, d *dirState, n *snapshot.Node, path string) error {
	key, isLink := hardlinkKey(n)
	if first := rs.links[key]; isLink && first != nil {
		if ok, err := rs.ensureDir(ctx, d); !ok || err != nil {
			return err
		}
		err := d.clear(path, false)
		if err == nil {
			err = os.Link(first.path, path)
		}
		if err == nil {
			first.links = append(first.links, path)
			rs.opts.Progress.TotalFiles.Add(1)
			rs.opts.Progress.Files.Add(1)
			return nil
		}
		// Some file systems have no hardlinks: fall back to a copy.
		rs.log.Warn("restore: hardlink failed, restoring a copy", "path", path, "err", err)
	}

	pbs, err := rs.lookupContent(n)
	if err != nil {
		return rs.fail(ctx, path, fmt.Errorf("restore %s: %w", path, err))
	}
	if ok, err := rs.ensureDir(ctx, d); !ok || err != nil {
		return err
	}
	job := &fileJob{path: path, node: n, blobs: make([]blobRef, len(pbs))}
	for i, pb := range pbs {
		job.blobs[i] = blobRef{id: pb.ID, length: pb.PlaintextLength()}
		job.size += int64(pb.PlaintextLength())
	}
	if n.Size != uint64(job.size) {
		rs.log.Warn("restore: node size differs from its content", "path", path, "size", n.Size, "content", job.size)
	}
	// Files whose content is in a single pack are created by that pack's
	// writer. Hardlink targets must exist now (links are made while
	// planning), and empty files get no writes.
	job.lazy = len(pbs) > 0 && !isLink && samePack(pbs)
	if err := d.clear(path, false); err != nil {
		return rs.fail(ctx, path, fmt.Errorf("restore %s: %w", path, err))
	}
	if !job.lazy {
		if err := createFile(path, job.size, !rs.opts.Sparse); err != nil {
			return rs.fail(ctx, path, fmt.Errorf("restore %s: %w", path, err))
		}
	}

	rs.files = append(rs.files, job)
	if isLink {
		rs.links[key] = job
	}
	rs.addUses(job, pbs)
	rs.opts.Progress.TotalFiles.Add(1)
	rs.opts.Progress.TotalBytes.Add(uint64(job.size))
	if len(pbs) == 0 {
		rs.opts.Progress.Files.Add(1)
	}
	return nil
}

// lookupContent finds where each content blob of n is stored. A blob
// already planned keeps the copy chosen then, so every use of a blob is
// served by one download.
func (rs *restorer) lookupContent(n *snapshot.Node) ([]repo.PackedBlob, error) {
	out := make([]repo.PackedBlob, len(n.Content))
	for i, id := range n.Content {
		if bj := rs.blobs[id]; bj != nil {
			out[i] = bj.pb
			continue
		}
		copies := rs.repo.Index().Lookup(repo.BlobHandle{ID: id, Type: repo.DataBlob})
		if len(copies) == 0 {
			return nil, fmt.Errorf("content blob %d of %d (%s): %w", i+1, len(n.Content), id.Str(), repo.ErrBlobNotFound)
		}
		out[i] = copies[0]
	}
	return out, nil
}

// addUses records that job needs the blobs pbs, in file order.
func (rs *restorer) addUses(job *fileJob, pbs []repo.PackedBlob) {
	var offset int64
	for _, pb := range pbs {
		bj := rs.blobs[pb.ID]
		if bj == nil {
			bj = &blobJob{pb: pb}
			rs.blobs[pb.ID] = bj
			pj := rs.packs[pb.PackID]
			if pj == nil {
				pj = &packJob{id: pb.PackID}
				rs.packs[pb.PackID] = pj
			}
			pj.blobs = append(pj.blobs, bj)
		}
		bj.uses = append(bj.uses, blobUse{file: job, offset: offset})
		offset += int64(pb.PlaintextLength())
	}
	job.pending.Store(int64(len(pbs)))
}

// samePack reports whether all blobs are stored in one pack.
func samePack(pbs []repo.PackedBlob) bool {
	for _, pb := range pbs[1:] {
		if pb.PackID != pbs[0].PackID {
			return false
		}
	}
	return true
}

// createFile creates an empty file of the given size at path, which the
// caller has cleared (see createOut).
func createFile(path string, size int64, prealloc bool) error {
	f, err := createOut(path, size, prealloc)
	if err != nil {
		return err
	}
	return f.close()
}

// clearPath removes a non-directory at path so a new item can take its
// place. An existing directory is kept when one is wanted and is an error
// otherwise: replacing it would delete a whole tree.
func clearPath(path string, wantDir bool) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.IsDir() && wantDir:
		return nil
	case fi.IsDir():
		return fmt.Errorf("%s exists and is a directory", path)
	}
	return os.Remove(path)
}
