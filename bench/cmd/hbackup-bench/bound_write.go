package main

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hbackup/hbackup/snapshot"
)

// writeLine is bound-write: the file-system work every restore of the data
// set does, with no repository and no decryption. It is measured inside
// the restore scenario, between the two tools of every run, and not on
// its own: on this VM the cost of a file create and of a fresh page-cache
// page depends on what the machine did just before (inodes freed by the
// last restore's deletion, memory the guest handed back to the host), so
// only a bound that meets the same state as the tools bounds them.
//
// Each file is copied from the source through one small buffer per
// writer, as a restore writes from its few reused blob buffers. Writing
// straight from the whole data set in memory (read or mapped before
// timing) cost twice the CPU here: the kernel's copies from 1.5 GB of
// user memory are slower on this VM than from a buffer it touched a
// moment ago. Reading the source costs about what a restore pays to read
// its packs (the bound reads 1.49 GB of files, a restore 1.16 GB of packs).
// Even so it is not a floor in every hour here: in busy ones hbackup's
// restore beat it (bench/README.md, "Bounds").
var writeLine = boundLine{Name: "bound-write", Kind: "write"}

func writeTitle(workers int) string {
	return fmt.Sprintf("create every dir, file and symlink of the data set with its owner, mode and mtime, each file copied "+
		"from the page cache through a 1 MiB buffer, %d writers, into an empty directory; run between the tools of every restore run", workers)
}

// treeEntry is one item of the data set to recreate.
type treeEntry struct {
	rel    string // relative to the data set's root
	mode   fs.FileMode
	size   int64
	mtime  time.Time
	uid    uint32
	gid    uint32
	target string // symlinks
}

// sourceTree lists the data set under dir in walk order (parents before
// children), the files largest first so that the writers finish together.
func sourceTree(dir string) (dirs, files, links []treeEntry, err error) {
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		e := treeEntry{rel: rel, mode: info.Mode(), size: info.Size(), mtime: info.ModTime()}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			e.uid, e.gid = st.Uid, st.Gid
		}
		switch {
		case info.IsDir():
			dirs = append(dirs, e)
		case info.Mode()&fs.ModeSymlink != 0:
			if e.target, err = os.Readlink(path); err != nil {
				return err
			}
			links = append(links, e)
		case info.Mode().IsRegular():
			files = append(files, e)
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("bound-write: listing the data set: %w", err)
	}
	slices.SortStableFunc(files, func(x, y treeEntry) int { return cmp.Compare(y.size, x.size) })
	return dirs, files, links, nil
}

// writeSample measures bound-write: the data set under src recreated
// below out, at out/src as the tools restore an absolute path. Directories
// are made first (0700, as restores make them), then workers create the
// files (O_EXCL), copy each through their buffer, set owner, mode and
// times through the descriptor as hbackup's restorer does, and close it; the
// symlinks follow, and last the directories' owners, modes and times,
// deepest first. It returns the bytes written.
func writeSample(ctx context.Context, src, out string, workers int) (sample, error) {
	dirs, files, links, err := sourceTree(src)
	if err != nil {
		return sample{}, err
	}
	root := filepath.Join(out, src)
	return measure(func() (int64, error) {
		if err := os.MkdirAll(filepath.Dir(root), 0o700); err != nil {
			return 0, fmt.Errorf("bound-write: %w", err)
		}
		for _, d := range dirs {
			if err := os.Mkdir(filepath.Join(root, d.rel), 0o700); err != nil {
				return 0, fmt.Errorf("bound-write: %w", err)
			}
		}
		total, err := eachFile(ctx, workers, len(files), func(i int, buf []byte) (int64, error) {
			return copyEntry(filepath.Join(src, files[i].rel), filepath.Join(root, files[i].rel), files[i], buf)
		})
		if err != nil {
			return 0, err
		}
		for _, l := range links {
			path := filepath.Join(root, l.rel)
			if err := os.Symlink(l.target, path); err != nil {
				return 0, fmt.Errorf("bound-write: %w", err)
			}
			if err := node(l).RestoreMetadata(path, owner()); err != nil {
				return 0, fmt.Errorf("bound-write: %w", err)
			}
		}
		for i := len(dirs) - 1; i >= 0; i-- {
			d := dirs[i]
			if err := node(d).RestoreMetadata(filepath.Join(root, d.rel), owner()); err != nil {
				return 0, fmt.Errorf("bound-write: %w", err)
			}
		}
		return total, nil
	})
}

// copyEntry creates one regular file at path with the content of src,
// read through buf, and e's owner, mode and times. It returns the bytes
// written.
func copyEntry(src, path string, e treeEntry, buf []byte) (int64, error) {
	in, err := unix.Open(src, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("bound-write: open %s: %w", src, err)
	}
	defer unix.Close(in)
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return 0, fmt.Errorf("bound-write: create %s: %w", path, err)
	}
	var total int64
	for {
		n, rerr := unix.Read(in, buf)
		if rerr == unix.EINTR {
			continue
		}
		if rerr != nil {
			err = fmt.Errorf("read %s: %w", src, rerr)
			break
		}
		if n == 0 {
			break
		}
		if err = writeAll(fd, buf[:n]); err != nil {
			break
		}
		total += int64(n)
	}
	if err == nil && total != e.size {
		err = fmt.Errorf("read %d bytes of %d: the data set changed", total, e.size)
	}
	if err == nil {
		err = node(e).RestoreFileMetadata(fd, path, owner())
	}
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if err != nil {
		return total, fmt.Errorf("bound-write: %s: %w", path, err)
	}
	return total, nil
}

func writeAll(fd int, p []byte) error {
	for len(p) > 0 {
		n, err := unix.Write(fd, p)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return err
		case n == 0:
			return unix.EIO
		}
		p = p[n:]
	}
	return nil
}

// node is the snapshot node a restore would apply to e (metadata only).
func node(e treeEntry) *snapshot.Node {
	n := &snapshot.Node{Mode: e.mode, ModTime: e.mtime, AccessTime: e.mtime, UID: e.uid, GID: e.gid}
	switch {
	case e.mode.IsDir():
		n.Type = snapshot.NodeTypeDir
	case e.mode&fs.ModeSymlink != 0:
		n.Type = snapshot.NodeTypeSymlink
	default:
		n.Type = snapshot.NodeTypeFile
	}
	return n
}

// owner sets owners as restores do: only as root (both tools run as the
// same user as the harness).
func owner() snapshot.RestoreMetadataOptions {
	return snapshot.RestoreMetadataOptions{Owner: os.Geteuid() == 0}
}
