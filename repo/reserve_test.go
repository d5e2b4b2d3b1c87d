package repo

import (
	"fmt"
	"testing"
	"time"

	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/crypto"
)

// memoryRepoWithoutBuffers is a repository whose data packs are built in
// memory, with every pack buffer taken: no new data packer can open
// without waiting. It returns the buffers taken.
func memoryRepoWithoutBuffers(t *testing.T) (*Repository, [][]byte) {
	t.Helper()
	r, err := Init(t.Context(), mem.New(), "secret", InitOptions{Version: 2, KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		t.Fatal(err)
	}
	r.buildFiles.Store(-1)
	var held [][]byte
	for b := r.tryPackBuffer(); b != nil; b = r.tryPackBuffer() {
		held = append(held, b)
	}
	if len(held) < 3 {
		t.Fatalf("only %d pack buffers", len(held))
	}
	return r, held
}

// TestReserveTakesOtherOpenPack: a blob whose randomly chosen packer slot
// is empty goes to the other open packer if it has room, instead of
// waiting for a pack buffer.
func TestReserveTakesOtherOpenPack(t *testing.T) {
	r, held := memoryRepoWithoutBuffers(t)
	open := newMemoryPacker(false, held[0])
	r.packers[DataBlob] = &packerSet{open: [2]*packer{nil, open}}
	// The slot is picked at random: 40 tries pick the empty one almost
	// surely.
	for i := range 40 {
		var spare *packer
		p, _, ready, opened := r.reserve(DataBlob, Hash([]byte(fmt.Sprint(i))), 100, 100, &spare)
		if p != open || ready != nil || opened != nil {
			t.Fatalf("reserve %d: packer %p (want the open one, %p), ready %v, opened %v", i, p, open, ready, opened)
		}
	}
	if open.writers != 40 {
		t.Errorf("%d blobs reserved in the open packer, want 40", open.writers)
	}
}

// TestWaitingSaverWakesWhenPackerOpens: a saver waiting for a pack buffer
// stops waiting when another saver opens a data packer, which may have
// room for its blob too.
func TestWaitingSaverWakesWhenPackerOpens(t *testing.T) {
	r, held := memoryRepoWithoutBuffers(t)
	// Two open packers without room for the blob, each with a blob still
	// being stored (so neither grows in place).
	var full [2]*packer
	for i := range full {
		full[i] = newMemoryPacker(false, held[i][:0:200])
		full[i].writers = 1
	}
	r.packers[DataBlob] = &packerSet{open: full}
	var none *packer
	p, _, _, opened := r.reserve(DataBlob, Hash([]byte("big")), 1000, 1000, &none)
	if p != nil || opened == nil {
		t.Fatalf("reserve with no room and no buffer: packer %v, opened %v; want nil and a channel", p, opened)
	}
	woke := make(chan error, 1)
	go func() {
		p, err := r.newDataPacker(t.Context(), opened)
		if p != nil {
			err = fmt.Errorf("got a packer %p, want none: no buffer came free", p)
		}
		woke <- err
	}()

	// Another saver opens a packer with the buffer it got.
	spare := newMemoryPacker(false, held[2])
	if p, _, _, _ := r.reserve(DataBlob, Hash([]byte("other")), 1000, 1000, &spare); p == nil || spare != nil {
		t.Fatalf("reserve with a spare packer: %v, spare left %v", p, spare)
	}
	select {
	case err := <-woke:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute): // a deadlock guard, not a timing assertion
		t.Fatal("the waiting saver was not woken")
	}
}
