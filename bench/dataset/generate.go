package dataset

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Stats summarises a generated tree.
type Stats struct {
	Files    int // regular files, including empty ones
	Dirs     int // directories, including the root
	Symlinks int
	Bytes    int64 // total size of the regular files
}

// Generate builds the data set p under dir, which must be empty or absent.
// Files are written concurrently; the result does not depend on that.
func Generate(dir string, p Params) (Stats, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Stats{}, fmt.Errorf("creating %s: %w", dir, err)
	}
	if ents, err := os.ReadDir(dir); err != nil {
		return Stats{}, fmt.Errorf("reading %s: %w", dir, err)
	} else if len(ents) > 0 {
		return Stats{}, fmt.Errorf("%s is not empty", dir)
	}
	all := newLayout(p).all()
	v := newVocab()
	err := parallel(len(all), func(i int) error { return writeFile(dir, p.Seed, v, all[i]) })
	if err != nil {
		return Stats{}, err
	}
	st := Stats{Files: len(all)}
	for _, s := range all {
		st.Bytes += s.size
	}
	for _, d := range emptyDirs() {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return Stats{}, fmt.Errorf("creating %s: %w", d, err)
		}
	}
	for _, l := range symlinks() {
		path := filepath.Join(dir, l[0])
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return Stats{}, fmt.Errorf("creating the parent of %s: %w", l[0], err)
		}
		if err := os.Symlink(l[1], path); err != nil {
			return Stats{}, fmt.Errorf("creating symlink: %w", err)
		}
		if err := setMtime(path, time.Unix(baseUnix, 0)); err != nil {
			return Stats{}, err
		}
		st.Symlinks++
	}
	st.Dirs, err = fixDirs(dir)
	return st, err
}

// fixDirs gives every directory mode 0755 (whatever the umask) and the base
// mtime, deepest first so that setting a child's time does not disturb its
// parent's. It returns the number of directories.
func fixDirs(root string) (int, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("listing directories: %w", err)
	}
	sort.Slice(dirs, func(i, j int) bool {
		return strings.Count(dirs[i], "/") > strings.Count(dirs[j], "/")
	})
	for _, d := range dirs {
		if err := os.Chmod(d, 0o755); err != nil {
			return 0, fmt.Errorf("chmod: %w", err)
		}
		if err := setMtime(d, time.Unix(baseUnix, 0)); err != nil {
			return 0, err
		}
	}
	return len(dirs), nil
}

// Reset rewrites the named regular files (paths relative to dir) with their
// original content, mode and mtime, undoing Mutate without regenerating the
// whole tree.
func Reset(dir string, p Params, rels []string) error {
	byRel := map[string]fileSpec{}
	for _, s := range newLayout(p).all() {
		byRel[s.rel] = s
	}
	v := newVocab()
	for _, rel := range rels {
		s, ok := byRel[rel]
		if !ok {
			return fmt.Errorf("reset: %s is not a generated file", rel)
		}
		if err := writeFile(dir, p.Seed, v, s); err != nil {
			return fmt.Errorf("reset: %w", err)
		}
	}
	return nil
}

// writeFile creates (or truncates) one file and fills it from its own
// random stream.
func writeFile(root string, seed uint64, v *vocab, s fileSpec) error {
	path := filepath.Join(root, s.rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating the parent of %s: %w", s.rel, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("creating %s: %w", s.rel, err)
	}
	r, c := newRNG(seed, "data/"+s.rel)
	switch s.kind {
	case kindEmpty:
	case kindRandom:
		err = writeRandom(f, c, s.size)
	default:
		g := &textGen{r: r, v: v, ms: baseUnix*1000 + int64(s.idx)*24*3600*1000}
		err = writeText(f, g, s.kind, s.flavour, s.size)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", s.rel, err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	return setMtime(path, s.mtime())
}

type byteStream interface{ Read([]byte) (int, error) }

// writeRandom writes size bytes of the stream in 1 MiB pieces.
func writeRandom(f *os.File, c byteStream, size int64) error {
	buf := make([]byte, min(size, MiB))
	for size > 0 {
		n := min(size, int64(len(buf)))
		_, _ = c.Read(buf[:n]) // ChaCha8.Read never fails
		if _, err := f.Write(buf[:n]); err != nil {
			return err
		}
		size -= n
	}
	return nil
}

// setMtime sets atime and mtime of path without following a symlink.
func setMtime(path string, t time.Time) error {
	ts := unix.NsecToTimespec(t.UnixNano())
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, path, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("setting the mtime of %s: %w", path, err)
	}
	return nil
}

// parallel calls fn(0..n-1) on one worker per CPU and returns the errors.
// A worker stops at its first error; the others carry on.
func parallel(n int, fn func(i int) error) error {
	workers := min(runtime.NumCPU(), max(n, 1))
	errs := make([]error, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for errs[w] == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				errs[w] = fn(i)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
