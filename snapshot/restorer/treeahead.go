package restorer

import (
	"context"
	"sync"

	"github.com/hbackup/hbackup/repo"
	"github.com/hbackup/hbackup/snapshot"
)

// treeAhead loads the trees the plan's walk will descend into next, on a
// goroutine of its own, while the walk creates directories and files.
// Loading a tree (read, decrypt, decompress, decode) and making a
// directory each cost about half of a plan that runs before any content
// is written; done side by side, the plan is shorter.
//
// The walk is depth first, so the next tree it needs is the first child
// directory of the tree it just loaded: want pushes a tree's children on
// a stack, last child first, and the loader takes from the top. It stays
// at most aheadMax trees ahead of the walk, so a directory of many
// subdirectories is not held in memory all at once.
type treeAhead struct {
	r    snapshot.BlobLoader
	mu   sync.Mutex
	wake *sync.Cond
	// stack holds trees wanted and not yet started, the next one last.
	stack []*aheadTree
	// byID finds a wanted tree, started or not, until the walk takes it.
	byID map[repo.ID]*aheadTree
	// ahead counts trees the loader started that the walk has not taken.
	ahead   int
	stopped bool
	done    chan struct{}
}

const aheadMax = 32

type aheadTree struct {
	id      repo.ID
	started bool
	loaded  chan struct{} // closed once tree and err are set
	tree    *snapshot.Tree
	err     error
}

func newTreeAhead(ctx context.Context, r snapshot.BlobLoader) *treeAhead {
	ta := &treeAhead{r: r, byID: make(map[repo.ID]*aheadTree), done: make(chan struct{})}
	ta.wake = sync.NewCond(&ta.mu)
	go ta.run(ctx)
	return ta
}

// stop ends the loader goroutine and waits for it.
func (ta *treeAhead) stop() {
	ta.mu.Lock()
	ta.stopped = true
	ta.wake.Signal()
	ta.mu.Unlock()
	<-ta.done
}

func (ta *treeAhead) run(ctx context.Context) {
	defer close(ta.done)
	for {
		ta.mu.Lock()
		for (len(ta.stack) == 0 || ta.ahead >= aheadMax) && !ta.stopped {
			ta.wake.Wait()
		}
		if ta.stopped {
			ta.mu.Unlock()
			return
		}
		t := ta.stack[len(ta.stack)-1]
		ta.stack = ta.stack[:len(ta.stack)-1]
		t.started = true
		ta.ahead++
		ta.mu.Unlock()
		t.tree, t.err = snapshot.LoadTree(ctx, ta.r, t.id)
		close(t.loaded)
	}
}

// want announces the trees the walk will descend into next, in walk
// order.
func (ta *treeAhead) want(ids []repo.ID) {
	ta.mu.Lock()
	defer ta.mu.Unlock()
	for i := len(ids) - 1; i >= 0; i-- {
		if ta.byID[ids[i]] != nil {
			continue // the same subtree twice: loaded once, taken by the first
		}
		t := &aheadTree{id: ids[i], loaded: make(chan struct{})}
		ta.byID[t.id] = t
		ta.stack = append(ta.stack, t)
	}
	ta.wake.Signal()
}

// load returns tree id: the loader's copy if it has started on it (after
// waiting for it), otherwise loaded here.
func (ta *treeAhead) load(ctx context.Context, id repo.ID) (*snapshot.Tree, error) {
	ta.mu.Lock()
	t := ta.byID[id]
	delete(ta.byID, id)
	switch {
	case t != nil && t.started:
		ta.ahead--
		ta.wake.Signal()
	case t != nil:
		// Not started: take it off the stack (near the top, as the walk
		// wants what was pushed last) and load it here.
		for i := len(ta.stack) - 1; i >= 0; i-- {
			if ta.stack[i] == t {
				ta.stack = append(ta.stack[:i], ta.stack[i+1:]...)
				break
			}
		}
		t = nil
	}
	ta.mu.Unlock()
	if t == nil {
		return snapshot.LoadTree(ctx, ta.r, id)
	}
	select {
	case <-t.loaded:
		return t.tree, t.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
