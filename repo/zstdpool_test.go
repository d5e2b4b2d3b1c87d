package repo

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// Many goroutines share a pool of two encoders: every frame must decode
// to its own input (an encoder shared by two compressions at once would
// mix them up), and no slot may stay taken.
func TestEncoderPoolConcurrent(t *testing.T) {
	p, err := newEncoderPool(zstd.SpeedDefault, 2)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	eachBlobInParallel(t, func(src []byte) error {
		got, err := dec.DecodeAll(p.encode(src, nil), nil)
		if err != nil || !bytes.Equal(got, src) {
			return fmt.Errorf("round trip failed (err %v)", err)
		}
		return nil
	})
	checkAllReturned(t, p.coders)
}

// The decoder pool, shared the same way, must give every goroutine its
// own frame back, and report a damaged frame as an error.
func TestDecoderPoolConcurrent(t *testing.T) {
	enc, err := newEncoderPool(zstd.SpeedDefault, 2)
	if err != nil {
		t.Fatal(err)
	}
	p, err := newDecoderPool(2)
	if err != nil {
		t.Fatal(err)
	}
	eachBlobInParallel(t, func(src []byte) error {
		frame := enc.encode(src, nil)
		got, err := p.decode(frame, nil)
		if err != nil || !bytes.Equal(got, src) {
			return fmt.Errorf("round trip failed (err %v)", err)
		}
		if _, err := p.decode(frame[:len(frame)/2], nil); err == nil {
			return fmt.Errorf("half a frame decoded without an error")
		}
		return nil
	})
	checkAllReturned(t, p.coders)
}

// eachBlobInParallel calls check with 50 blobs on each of 16 goroutines,
// every blob different, and reports what it returns.
func eachBlobInParallel(t *testing.T, check func(src []byte) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				src := bytes.Repeat([]byte(fmt.Sprintf("goroutine %d blob %d; ", g, i)), 100+i*37)
				if err := check(src); err != nil {
					errs <- fmt.Errorf("goroutine %d blob %d: %w", g, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// checkAllReturned fails unless every slot and coder of p is free again.
func checkAllReturned[T any](t *testing.T, p *coderPool[T]) {
	t.Helper()
	if n := len(p.slots); n != 0 {
		t.Errorf("%d slots still taken", n)
	}
	for i, c := range p.all {
		if c.busy.Load() {
			t.Errorf("coder %d still marked busy", i)
		}
	}
}

// However the borrowers interleave, no coder is lent to two at once, and
// the pool never makes more than its n coders.
func TestCoderPoolLendsEachCoderOnce(t *testing.T) {
	made := 0
	p, err := newCoderPool(3, func() (*int, error) { made++; return new(int), nil })
	if err != nil {
		t.Fatal(err)
	}
	var holders [3]atomic.Int32 // borrowers holding coder i
	index := map[*int]int{}
	for i, c := range p.all {
		index[c.coder] = i
	}
	var maxHeld atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 2000 {
				c := p.get()
				i := index[c.coder]
				if n := holders[i].Add(1); n > maxHeld.Load() {
					maxHeld.Store(n)
				}
				runtime.Gosched()
				holders[i].Add(-1)
				p.put(c)
			}
		})
	}
	wg.Wait()
	if got := maxHeld.Load(); got != 1 {
		t.Errorf("a coder was held by %d borrowers at once", got)
	}
	if made != 3 {
		t.Errorf("made %d coders, want 3", made)
	}
	checkAllReturned(t, p)
}

// A P gets back the coder it returned last, not the first free one.
func TestCoderPoolPrefersRecent(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items at random")
	}
	p, err := newCoderPool(2, func() (*int, error) { return new(int), nil })
	if err != nil {
		t.Fatal(err)
	}
	runtime.LockOSThread() // stay on one P as far as Go allows
	defer runtime.UnlockOSThread()
	first, second := p.get(), p.get()
	p.put(second)
	// first is free again but never went through this P's pool: a pool
	// that lent the first free coder would lend it.
	first.busy.Store(false)
	<-p.slots
	same := 0
	for range 100 {
		c := p.get()
		if c == second {
			same++
		}
		p.put(c)
	}
	// Preemption may move the goroutine to another P now and then.
	if same < 90 {
		t.Errorf("got the last returned coder back %d times of 100", same)
	}
}
