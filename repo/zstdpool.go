package repo

import (
	"sync"

	"github.com/klauspost/compress/zstd"
)

// encoderPool compresses with at most n zstd encoders at once, each
// reused by the core that used it last.
//
// Why not one zstd.Encoder with WithEncoderConcurrency(n): it hands its
// encoders out first in, first out, so a blob was often compressed with
// the encoder another core had just used. At the default level an
// encoder's match tables take 1.25 MiB, and the search for a short blob
// touches most of them at random: an encoder whose tables sit in another
// core's cache (or were pushed out by the kernel's work of reading the
// file) made the search several times slower. A backup of 20,000 small
// files spent 2.96 of its 4.3 CPU seconds in zstd that way, where the
// same data compressed in a loop took 1.25. A sync.Pool keeps the
// encoder a P put back for that P's next Get, and a P mostly stays on
// one thread and core: the same backup took 1.56 s instead of 1.92 s
// (medians of 6 alternating runs; user CPU 2.27 s instead of 3.01 s).
type encoderPool struct {
	slots chan struct{} // one per encoder in use: bounds the memory
	pool  sync.Pool     // *zstd.Encoder
}

// newEncoderPool returns a pool of encoders at level, at most n of them
// in use at once.
func newEncoderPool(level zstd.EncoderLevel, n int) (*encoderPool, error) {
	p := &encoderPool{slots: make(chan struct{}, max(n, 1))}
	p.pool.New = func() any {
		enc, err := newEncoder(level)
		if err != nil {
			// newEncoder failed below with the same options first.
			panic(err)
		}
		return enc
	}
	// Fail here, with an error, on options zstd rejects.
	enc, err := newEncoder(level)
	if err != nil {
		return nil, err
	}
	p.pool.Put(enc)
	return p, nil
}

// newEncoder makes an encoder for EncodeAll only, so it starts no
// goroutines and needs no Close.
//
// WithAllLitEntropyCompression: Huffman-code the literals of blocks in
// which no match was found. klauspost/compress has done so at the
// default and fastest levels only up to v1.15 (the version restic 0.14
// uses); without it, text with few repeats but a small alphabet (base64,
// hex, short text files) is stored as it is: small text files took 3%
// more space than with restic 0.14, and the fastest-level probe judged
// base64 and hex incompressible, storing them 33% and 100% larger. It
// costs no measurable time here.
func newEncoder(level zstd.EncoderLevel) (*zstd.Encoder, error) {
	return zstd.NewWriter(nil, zstd.WithEncoderLevel(level), zstd.WithEncoderCRC(false),
		zstd.WithAllLitEntropyCompression(true),
		zstd.WithWindowSize(512*1024), zstd.WithEncoderConcurrency(1))
}

// encode appends the zstd frame of src to dst, waiting while n encoders
// are in use.
func (p *encoderPool) encode(src, dst []byte) []byte {
	p.slots <- struct{}{}
	enc := p.pool.Get().(*zstd.Encoder)
	dst = enc.EncodeAll(src, dst)
	p.pool.Put(enc)
	<-p.slots
	return dst
}

// decoderPool decompresses with at most n zstd decoders at once, each
// reused by the core that used it last, for the reasons given at
// encoderPool.
type decoderPool struct {
	slots chan struct{}
	pool  sync.Pool // *zstd.Decoder
}

func newDecoderPool(n int) (*decoderPool, error) {
	p := &decoderPool{slots: make(chan struct{}, max(n, 1))}
	p.pool.New = func() any {
		dec, err := newDecoder()
		if err != nil {
			panic(err) // newDecoder failed below with the same options first.
		}
		return dec
	}
	dec, err := newDecoder()
	if err != nil {
		return nil, err
	}
	p.pool.Put(dec)
	return p, nil
}

// newDecoder makes a decoder for DecodeAll only: with concurrency 1 it
// starts no goroutines. Index and snapshot files may be large, hence the
// memory limit far above zstd's default of 64 MiB.
func newDecoder() (*zstd.Decoder, error) {
	return zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(16<<30))
}

// decode appends the decompressed frames of src to dst, waiting while n
// decoders are in use.
func (p *decoderPool) decode(src, dst []byte) ([]byte, error) {
	p.slots <- struct{}{}
	dec := p.pool.Get().(*zstd.Decoder)
	dst, err := dec.DecodeAll(src, dst)
	p.pool.Put(dec)
	<-p.slots
	return dst, err
}
