package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/hbackup/hbackup/bench/dataset"
	"golang.org/x/sys/unix"
)

// stamp records which data set a work directory holds, so a later run with
// the same parameters reuses it instead of generating it again.
type stamp struct {
	Generator string  `json:"generator"`
	Seed      uint64  `json:"seed"`
	Scale     float64 `json:"scale"`
	Digest    string  `json:"digest"`
}

// prepareData returns the data tree under root (root/tree, with its stamp
// beside it), generating it unless an intact one with the same parameters
// is there. Either way the whole tree
// is read once (the digest), which is also the warm-up read that puts it in
// the page cache for both tools.
func prepareData(root string, p dataset.Params, log io.Writer) (string, *dataset.Manifest, error) {
	dir := filepath.Join(root, "tree")
	stampFile := filepath.Join(root, "stamp.json")
	want := stamp{Generator: dataset.Version, Seed: p.Seed, Scale: p.Scale}
	var have stamp
	if data, err := os.ReadFile(stampFile); err == nil && json.Unmarshal(data, &have) == nil {
		digest := have.Digest
		have.Digest = ""
		if have == want {
			start := time.Now()
			m, err := dataset.Scan(dir)
			if err == nil && m.Sum == digest {
				fmt.Fprintf(log, "reusing the data set in %s (verified and read in %.1fs)\n", dir, time.Since(start).Seconds())
				return dir, m, nil
			}
			fmt.Fprintf(log, "the data set in %s was modified; generating it again\n", dir)
		}
	}
	if err := os.RemoveAll(root); err != nil {
		return "", nil, fmt.Errorf("removing the old data set: %w", err)
	}
	start := time.Now()
	st, err := dataset.Generate(dir, p)
	if err != nil {
		return "", nil, fmt.Errorf("generating the data set: %w", err)
	}
	fmt.Fprintf(log, "generated %d files (%.1f MiB) in %s in %.1fs\n", st.Files, float64(st.Bytes)/mib, dir, time.Since(start).Seconds())
	m, err := dataset.Scan(dir)
	if err != nil {
		return "", nil, err
	}
	want.Digest = m.Sum
	data, err := json.Marshal(want)
	if err != nil {
		return "", nil, fmt.Errorf("encoding the stamp: %w", err)
	}
	if err := os.WriteFile(stampFile, data, 0o644); err != nil {
		return "", nil, fmt.Errorf("writing the stamp: %w", err)
	}
	return dir, m, nil
}

// quiesce flushes dirty pages before a timed run, so one tool does not pay
// for the other's writes, and drops the page cache when asked to. It
// returns why dropping failed, if it did.
func quiesce(drop bool) error {
	unix.Sync()
	if !drop {
		return nil
	}
	if os.Geteuid() != 0 {
		return errors.New("not running as root")
	}
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3"), 0); err != nil {
		return fmt.Errorf("dropping the page cache: %w", err)
	}
	return nil
}

// dirSize is the total apparent size of the regular files under dir.
func dirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			total += info.Size()
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("measuring %s: %w", dir, err)
	}
	return total, nil
}

// subtreeBytes sums the file sizes under prefix (relative to the data root).
func subtreeBytes(m *dataset.Manifest, prefix string) int64 {
	var n int64
	for _, e := range m.Entries {
		if rel, err := filepath.Rel(prefix, e.Rel); err == nil && filepath.IsLocal(rel) {
			n += e.Size
		}
	}
	return n
}
