package archiver

import (
	"context"
	"sync"

	"github.com/hbackup/hbackup/repo"
)

// saverPool stores file chunks with a bounded number of stores running at
// once (GOMAXPROCS), shared by all file readers, so the chunks of one file
// can be compressed, encrypted and packed concurrently.
//
// Why: storing a chunk (zstd, then encryption) costs several times more
// CPU than reading, chunking and hashing it. When each file's reader
// stored its own chunks, a backup whose last files were big kept one core
// busy per file and left the others idle. A reader hashes each chunk
// itself, so it knows the chunk's ID at once and builds the file's
// content list in order; the savers only report errors.
//
// A reader hands a chunk over (submit) by copying it into a small
// chunkRing, and stores it itself when the ring is full; either way each
// store takes one of the slots, so no more stores (each with its
// repository scratch buffers) run at once than there are slots, and the
// chunk copies in flight never exceed the ring.
type saverPool struct {
	save    func(ctx context.Context, id repo.ID, data []byte) error
	slots   chan struct{} // one per running store
	ring    *chunkRing
	running sync.WaitGroup // background stores
}

// ringPerSaver is the ring's size per slot: room for about two average
// (1 MiB) chunks, so a reader storing a chunk itself while the others
// store the copies keeps every slot busy. Larger chunks are stored by
// their reader.
const ringPerSaver = 2 << 20

// newSaverPool runs at most savers stores at once, with at most
// ringBytes of chunks copied for them.
func newSaverPool(savers, ringBytes int, save func(ctx context.Context, id repo.ID, data []byte) error) *saverPool {
	return &saverPool{
		save:  save,
		slots: make(chan struct{}, max(1, savers)),
		ring:  newChunkRing(ringBytes),
	}
}

// size is the number of stores that may run at once.
func (p *saverPool) size() int { return cap(p.slots) }

// close waits for the background stores (every reader waits for its own
// anyway) and frees the ring.
func (p *saverPool) close() {
	p.running.Wait()
	p.ring.free()
}

// store stores a chunk on the calling goroutine, once a slot is free.
func (p *saverPool) store(ctx context.Context, id repo.ID, data []byte) error {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.slots }()
	return p.save(ctx, id, data)
}

// submit stores a chunk in the background, counted in f, if the ring has
// room for a copy of it; else it stores it on the calling goroutine. It
// waits for a free slot; its error is ctx's if ctx ends first, or the
// store's if the reader stored the chunk itself. data may be reused once
// submit returns.
func (p *saverPool) submit(ctx context.Context, f *fileSaves, id repo.ID, data []byte) error {
	buf := p.ring.get(len(data))
	if buf == nil {
		return p.store(ctx, id, data)
	}
	copy(buf.data, data)
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		p.ring.put(buf)
		return ctx.Err()
	}
	f.wg.Add(1)
	p.running.Add(1)
	go func() {
		defer func() {
			p.ring.put(buf)
			<-p.slots
			f.wg.Done()
			p.running.Done()
		}()
		if err := ctx.Err(); err != nil {
			f.fail(err)
			return
		}
		if err := p.save(ctx, id, buf.data); err != nil {
			f.fail(err)
		}
	}()
	return nil
}

// fileSaves tracks the chunks of one file handed to the pool.
type fileSaves struct {
	wg  sync.WaitGroup
	mu  sync.Mutex
	err error // the first failed store's
}

// failed returns the error of a store that already failed, if any.
func (f *fileSaves) failed() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// wait returns once all of the file's stores are done, with the first
// error.
func (f *fileSaves) wait() error {
	f.wg.Wait()
	return f.failed()
}

func (f *fileSaves) fail(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
}
