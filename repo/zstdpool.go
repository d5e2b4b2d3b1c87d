package repo

import (
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
)

// coderPool lends out a fixed set of zstd encoders or decoders, at most
// one borrower each, and gives a P (and so, mostly, a core) the coder it
// returned last when that one is free.
//
// Why not one zstd.Encoder with WithEncoderConcurrency(n): it hands its
// encoders out first in, first out, so a blob was often compressed with
// the encoder another core had just used. At the default level an
// encoder's match tables take 1.25 MiB, and the search for a short blob
// touches most of them at random, so an encoder whose tables sit in
// another core's cache searches slowly: a backup of 20,000 small files
// spent 2.96 of its 4.3 CPU seconds in zstd that way, where the same data
// compressed in a loop with nothing else running took 1.25.
//
// Why not a plain sync.Pool of coders: it gives a P back what that P put
// there, but cannot lend a coder that sits in another P's slot, so it
// made new ones (1.25 MiB each, zeroed) and dropped the extra ones at the
// next collection: about 300 encoders were made in that backup. Here the
// coders are made once, n of them, and the sync.Pool only remembers
// which one a P used last; a claim flag decides who has it.
type coderPool[T any] struct {
	slots  chan struct{} // one per borrower: at most len(all)
	all    []*pooledCoder[T]
	recent sync.Pool // *pooledCoder[T]: the coder this P returned last
}

type pooledCoder[T any] struct {
	coder T
	busy  atomic.Bool
}

// newCoderPool makes n coders with newCoder; a failure is newCoder's
// error on the first.
func newCoderPool[T any](n int, newCoder func() (T, error)) (*coderPool[T], error) {
	n = max(n, 1)
	p := &coderPool[T]{slots: make(chan struct{}, n), all: make([]*pooledCoder[T], n)}
	for i := range p.all {
		c, err := newCoder()
		if err != nil {
			return nil, err
		}
		p.all[i] = &pooledCoder[T]{coder: c}
	}
	return p, nil
}

// get borrows a coder, waiting while all of them are lent.
func (p *coderPool[T]) get() *pooledCoder[T] {
	p.slots <- struct{}{}
	// The P's last coder, unless another P took it meanwhile (the pool
	// may also hold a coder twice: the flag settles it).
	if c, ok := p.recent.Get().(*pooledCoder[T]); ok && c.busy.CompareAndSwap(false, true) {
		return c
	}
	for _, c := range p.all {
		if c.busy.CompareAndSwap(false, true) {
			return c
		}
	}
	panic("repo: coderPool: a slot was free but every coder was busy")
}

// put returns a coder that get lent.
func (p *coderPool[T]) put(c *pooledCoder[T]) {
	c.busy.Store(false)
	p.recent.Put(c)
	<-p.slots
}

// encoderPool compresses with n encoders of one level.
type encoderPool struct{ coders *coderPool[*zstd.Encoder] }

func newEncoderPool(level zstd.EncoderLevel, n int) (*encoderPool, error) {
	// The encoders allocate their tables on first use, so a repository
	// opened only to read costs nothing here.
	coders, err := newCoderPool(n, func() (*zstd.Encoder, error) { return NewEncoder(level) })
	if err != nil {
		return nil, err
	}
	return &encoderPool{coders}, nil
}

// NewEncoder makes a zstd encoder with the settings of this package's
// blobs, for EncodeAll only, so it starts no goroutines and needs no
// Close. Exported for the benchmark harness, which compresses as a
// backup does without a repository.
//
// WithAllLitEntropyCompression: Huffman-code the literals of blocks in
// which no match was found. klauspost/compress has done so at the
// default and fastest levels only up to v1.15 (the version restic 0.14
// uses); without it, text with few repeats but a small alphabet (base64,
// hex, short text files) is stored as it is: small text files took 3%
// more space than with restic 0.14, and the fastest-level probe judged
// base64 and hex incompressible, storing them 33% and 100% larger. It
// costs no measurable time here.
func NewEncoder(level zstd.EncoderLevel) (*zstd.Encoder, error) {
	return zstd.NewWriter(nil, zstd.WithEncoderLevel(level), zstd.WithEncoderCRC(false),
		zstd.WithAllLitEntropyCompression(true),
		zstd.WithWindowSize(512*1024), zstd.WithEncoderConcurrency(1))
}

// encode appends the zstd frame of src to dst.
func (p *encoderPool) encode(src, dst []byte) []byte {
	c := p.coders.get()
	defer p.coders.put(c)
	return c.coder.EncodeAll(src, dst)
}

// decoderPool decompresses with n decoders.
type decoderPool struct{ coders *coderPool[*zstd.Decoder] }

func newDecoderPool(n int) (*decoderPool, error) {
	coders, err := newCoderPool(n, NewDecoder)
	if err != nil {
		return nil, err
	}
	return &decoderPool{coders}, nil
}

// NewDecoder makes a zstd decoder for DecodeAll only: with concurrency 1
// it starts no goroutines. Index and snapshot files may be large, hence
// the memory limit far above zstd's default of 64 MiB. Exported for the
// benchmark harness.
func NewDecoder() (*zstd.Decoder, error) {
	return zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(16<<30))
}

// decode appends the decompressed frames of src to dst.
func (p *decoderPool) decode(src, dst []byte) ([]byte, error) {
	c := p.coders.get()
	defer p.coders.put(c)
	return c.coder.DecodeAll(src, dst)
}
