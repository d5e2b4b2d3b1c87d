package job

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/hbackup/hbackup/job/config"
)

// lsNode is a line of `ls --json`.
type lsNode struct {
	StructType string    `json:"struct_type"`
	Type       string    `json:"type"`
	Path       string    `json:"path"`
	Size       int64     `json:"size"`
	Mtime      time.Time `json:"mtime"`
	ID         string    `json:"id"` // the snapshot line's ID
}

// RestoreTest restores sample files of the job's latest snapshot with
// --verify (every restored byte is checked against the snapshot's blob
// IDs) and compares each with its source file when the source is
// unchanged since the snapshot (same size and mtime).
func (r *Runner) RestoreTest(ctx context.Context, j *config.Job) *CheckOutcome {
	c := &CheckOutcome{Kind: KindRestoreTest, Job: j.Name, Repository: j.Repository, Hostname: r.hostname(), Start: r.now()}
	defer func() {
		c.End = r.now()
		c.Success = len(c.Errors) == 0
		r.reportCheck(ctx, c)
	}()
	if err := r.restoreTest(ctx, j, c); err != nil {
		r.fail(c, err)
	}
	return c
}

func (r *Runner) restoreTest(ctx context.Context, j *config.Job, c *CheckOutcome) error {
	repo := r.Config.Repositories[j.Repository]
	env, err := repoEnv(repo)
	if err != nil {
		return err
	}
	paths, err := r.recordedPaths(ctx, j)
	if err != nil {
		return err
	}
	args := append(repoArgs(repo), "ls", "--json", "latest", "--host", r.hostname())
	for _, p := range paths {
		args = append(args, "--path", p)
	}
	res := r.Exec.Run(ctx, Invocation{Args: args, Env: env})
	if res.Err != nil {
		return commandError("restore_test", repo.Name, res)
	}
	snapID, files, err := parseLs(res.Stdout)
	if err != nil {
		return err
	}
	if snapID == "" {
		return errNoSnapshot
	}
	n := r.Config.RestoreTesting.SampleFiles
	sample := pick(files, n, rand.New(rand.NewPCG(uint64(r.now().UnixNano()), 0)))
	if len(sample) == 0 {
		c.Detail = "snapshot " + short(snapID) + " has no files"
		return nil
	}
	base := r.Config.RestoreTesting.TestDir
	if err := os.MkdirAll(base, 0o700); err != nil {
		return fmt.Errorf("restore test directory: %w", err)
	}
	target, err := os.MkdirTemp(base, j.Name+"-")
	if err != nil {
		return fmt.Errorf("restore test directory: %w", err)
	}
	if !r.Config.RestoreTesting.RetainTestData {
		defer os.RemoveAll(target)
	}
	args = append(repoArgs(repo), "restore", snapID, "--target", target, "--verify")
	for _, f := range sample {
		args = append(args, "--include", f.Path)
	}
	res = r.Exec.Run(ctx, Invocation{Args: args, Env: env, Resources: j.Resources})
	c.Log = string(res.Stderr)
	if res.Err != nil {
		return commandError("restore_test", repo.Name, res)
	}
	compared := 0
	for _, f := range sample {
		restored := filepath.Join(target, f.Path)
		fi, err := os.Stat(restored)
		if err != nil {
			return fmt.Errorf("restored file %s: %w", f.Path, err)
		}
		if fi.Size() != f.Size {
			return fmt.Errorf("restored file %s has %d bytes, the snapshot says %d", f.Path, fi.Size(), f.Size)
		}
		same, checked, err := sameAsSource(restored, f)
		if err != nil {
			return err
		}
		if checked {
			compared++
			if !same {
				return fmt.Errorf("restored file %s differs from its source, which is unchanged since snapshot %s", f.Path, short(snapID))
			}
		}
	}
	c.Detail = fmt.Sprintf("snapshot %s: %d files restored and verified, %d of them compared with their unchanged source", short(snapID), len(sample), compared)
	return nil
}

func parseLs(out []byte) (snapID string, files []lsNode, err error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var n lsNode
		if err := json.Unmarshal(sc.Bytes(), &n); err != nil {
			return "", nil, fmt.Errorf("ls --json: %w", err)
		}
		switch {
		case n.StructType == "snapshot":
			snapID = n.ID
		case n.Type == "file":
			files = append(files, n)
		}
	}
	return snapID, files, sc.Err()
}

// pick chooses up to n files at random, preferring files with content.
func pick(files []lsNode, n int, rng *rand.Rand) []lsNode {
	var full, empty []lsNode
	for _, f := range files {
		if f.Size > 0 {
			full = append(full, f)
		} else {
			empty = append(empty, f)
		}
	}
	rng.Shuffle(len(full), func(i, j int) { full[i], full[j] = full[j], full[i] })
	out := append(full, empty...)
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// sameAsSource compares a restored file with its source if the source
// still has the snapshot's size and mtime; checked is false otherwise.
func sameAsSource(restored string, f lsNode) (same, checked bool, err error) {
	fi, err := os.Lstat(f.Path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != f.Size || !fi.ModTime().Equal(f.Mtime) {
		return false, false, nil
	}
	a, err := os.Open(restored)
	if err != nil {
		return false, false, err
	}
	defer a.Close()
	b, err := os.Open(f.Path)
	if err != nil {
		return false, false, nil // unreadable source: nothing to compare
	}
	defer b.Close()
	eq, err := equalReaders(a, b)
	return eq, true, err
}

func equalReaders(a, b io.Reader) (bool, error) {
	ba, bb := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		na, ea := io.ReadFull(a, ba)
		nb, eb := io.ReadFull(b, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false, nil
		}
		if ea == io.EOF || ea == io.ErrUnexpectedEOF {
			return eb == io.EOF || eb == io.ErrUnexpectedEOF, nil
		}
		if ea != nil {
			return false, ea
		}
		if eb != nil {
			return false, eb
		}
	}
}
