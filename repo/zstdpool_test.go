package repo

import (
	"bytes"
	"fmt"
	"sync"
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
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			var dst []byte
			for i := range 50 {
				src := bytes.Repeat([]byte(fmt.Sprintf("goroutine %d blob %d; ", g, i)), 100+i*37)
				dst = p.encode(src, dst[:0])
				got, err := dec.DecodeAll(dst, nil)
				if err != nil || !bytes.Equal(got, src) {
					errs <- fmt.Errorf("goroutine %d blob %d: round trip failed (err %v)", g, i, err)
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
	if n := len(p.slots); n != 0 {
		t.Errorf("%d slots still taken", n)
	}
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
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				src := bytes.Repeat([]byte(fmt.Sprintf("goroutine %d blob %d; ", g, i)), 100+i*37)
				frame := enc.encode(src, nil)
				got, err := p.decode(frame, nil)
				if err != nil || !bytes.Equal(got, src) {
					errs <- fmt.Errorf("goroutine %d blob %d: round trip failed (err %v)", g, i, err)
					return
				}
				if _, err := p.decode(frame[:len(frame)/2], nil); err == nil {
					errs <- fmt.Errorf("goroutine %d blob %d: half a frame decoded without an error", g, i)
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
	if n := len(p.slots); n != 0 {
		t.Errorf("%d slots still taken", n)
	}
}
