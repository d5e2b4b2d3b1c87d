package restorer

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

// TestRestoreTreesLoadedAhead restores a tree shaped to exercise the
// plan's tree loader: a directory with more subdirectories than the loader
// runs ahead, one subtree used by two directories, one directory whose
// tree is missing, one excluded, and nesting. Everything else is restored
// and the missing tree is reported once, at its directory.
func TestRestoreTreesLoadedAhead(t *testing.T) {
	f := newFixture(t)
	var subs []*snapshot.Node
	for i := range aheadMax + 8 {
		inner := f.tree(f.file("deep", []byte(fmt.Sprintf("deep %d", i))))
		sub := f.tree(f.file("f", []byte(fmt.Sprintf("file %d", i))), dirNode("inner", inner, 0o755, at(2)))
		subs = append(subs, dirNode(fmt.Sprintf("d%02d", i), sub, 0o755, at(3)))
	}
	shared := f.tree(f.file("same", []byte("shared content")))
	missing := repo.Hash([]byte("no such tree"))
	wide := f.tree(subs...)
	root := f.tree(
		dirNode("wide", wide, 0o755, at(4)),
		dirNode("s1", shared, 0o755, at(4)),
		dirNode("s2", shared, 0o755, at(4)),
		dirNode("gone", missing, 0o755, at(4)),
		dirNode("skipped", shared, 0o755, at(4)),
		f.file("top", []byte("top")),
	)
	log := &errorLog{}
	target, st := f.restore(root, Options{
		OnError: log.onError,
		Select: func(item string, isDir bool) (bool, bool) {
			if item == "/skipped" {
				return false, false
			}
			return true, isDir
		},
	})
	for i := range aheadMax + 8 {
		d := filepath.Join(target, "wide", fmt.Sprintf("d%02d", i))
		wantContent(t, filepath.Join(d, "f"), []byte(fmt.Sprintf("file %d", i)))
		wantContent(t, filepath.Join(d, "inner", "deep"), []byte(fmt.Sprintf("deep %d", i)))
	}
	wantContent(t, filepath.Join(target, "s1", "same"), []byte("shared content"))
	wantContent(t, filepath.Join(target, "s2", "same"), []byte("shared content"))
	wantContent(t, filepath.Join(target, "top"), []byte("top"))
	wantNotExist(t, filepath.Join(target, "skipped"))
	if len(log.paths) != 1 || !errors.Is(log.find(filepath.Join(target, "gone")), repo.ErrBlobNotFound) {
		t.Errorf("reported %v: %v, want one ErrBlobNotFound for gone", log.paths, log.errs)
	}
	if want := uint64(2*(aheadMax+8) + 3); st.Files != want {
		t.Errorf("restored %d files, want %d", st.Files, want)
	}
}

// countingLoader counts loads per blob and the most trees handed out by
// the loader but not yet taken.
type countingLoader struct {
	r     snapshot.BlobLoader
	mu    sync.Mutex
	loads map[repo.ID]int
}

func (c *countingLoader) LoadBlob(ctx context.Context, t repo.BlobType, id repo.ID, buf []byte) ([]byte, error) {
	c.mu.Lock()
	c.loads[id]++
	c.mu.Unlock()
	return c.r.LoadBlob(ctx, t, id, buf)
}

// TestTreeAheadLoadsOnceBounded: every wanted tree is loaded once,
// whether the loader or the walk gets to it first, the loader stays at
// most aheadMax trees ahead, and stop returns with trees still wanted.
func TestTreeAheadLoadsOnceBounded(t *testing.T) {
	f := newFixture(t)
	var ids []repo.ID
	for i := range 3 * aheadMax {
		ids = append(ids, f.tree(f.file("f", []byte(fmt.Sprint(i)))))
	}
	f.flush()
	cl := &countingLoader{r: f.r, loads: map[repo.ID]int{}}
	ta := newTreeAhead(f.ctx, cl)
	ta.want(ids)
	// Left alone, the loader stops aheadMax trees ahead.
	for {
		ta.mu.Lock()
		ahead, left := ta.ahead, len(ta.stack)
		ta.mu.Unlock()
		if ahead >= aheadMax || left == 0 {
			if ahead != aheadMax || left != len(ids)-aheadMax {
				t.Fatalf("loader stopped %d trees ahead with %d left, want %d and %d", ahead, left, aheadMax, len(ids)-aheadMax)
			}
			break
		}
		time.Sleep(time.Millisecond)
	}
	// The walk takes the first half in order.
	for i, id := range ids[:len(ids)/2] {
		tree, err := ta.load(f.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got := tree.Nodes[0].Content[0]; got != repo.Hash([]byte(fmt.Sprint(i))) {
			t.Fatalf("tree %d: wrong content", i)
		}
		ta.mu.Lock()
		ahead := ta.ahead
		ta.mu.Unlock()
		if ahead > aheadMax {
			t.Fatalf("loader %d trees ahead, bound is %d", ahead, aheadMax)
		}
	}
	ta.stop()
	for i, id := range ids {
		n := cl.loads[id]
		if i < len(ids)/2 && n != 1 || n > 1 {
			t.Errorf("tree %d loaded %d times", i, n)
		}
	}
}
