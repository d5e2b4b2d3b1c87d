package checker

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/hbackup/hbackup/internal/sha256x2"
)

// streamStep is one call on a packStream: take n bytes, or skip n.
type streamStep struct {
	skip bool
	n    int
}

// TestPackStream reads packs through one stream in several patterns and
// readers that return short reads: each take must return the right bytes
// and the hash must cover every byte, including those skipped and
// drained, across buffer growth and moves, whether the taken bytes were
// hashed beside a message of the caller's (every other take, with a
// message shorter or longer than them) or left to the stream.
func TestPackStream(t *testing.T) {
	data := make([]byte, 3*streamMinBuffer+12345)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	patterns := map[string][]streamStep{
		"small blobs":          {{n: 1}, {n: 1000}, {skip: true, n: 17}, {n: 300 << 10}, {n: 700 << 10}, {n: 5}},
		"blob beyond buffer":   {{n: 100}, {n: streamMinBuffer + 3<<20}, {n: 10}},
		"big skip":             {{skip: true, n: 2*streamMinBuffer + 1}, {n: 1 << 20}},
		"leftover moved":       {{n: streamMinBuffer - 100}, {n: 1 << 20}, {n: streamMinBuffer - 1}},
		"nothing taken":        {},
		"everything in blobs":  {{n: len(data) - 1}, {n: 1}},
		"skip to the very end": {{n: 3}, {skip: true, n: len(data) - 3}},
	}
	readers := map[string]func(io.Reader) io.Reader{
		"plain":    func(r io.Reader) io.Reader { return r },
		"one byte": func(r io.Reader) io.Reader { return iotest.OneByteReader(r) },
		"half":     func(r io.Reader) io.Reader { return iotest.HalfReader(r) },
		"data+EOF": func(r io.Reader) io.Reader { return iotest.DataErrReader(r) },
	}
	var s packStream // shared, as a worker shares it between packs
	defer s.free()
	for pname, steps := range patterns {
		for rname, wrap := range readers {
			if rname == "one byte" && pname != "small blobs" {
				continue // byte by byte, megabytes take long under -race
			}
			s.reset(wrap(bytes.NewReader(data)), 0)
			pos := 0
			for i, st := range steps {
				if st.skip {
					if err := s.skip(int64(st.n)); err != nil {
						t.Fatalf("%s/%s: step %d: skip: %v", pname, rname, i, err)
					}
				} else {
					got, err := s.take(st.n)
					if err != nil {
						t.Fatalf("%s/%s: step %d: take: %v", pname, rname, i, err)
					}
					if !bytes.Equal(got, data[pos:pos+st.n]) {
						t.Fatalf("%s/%s: step %d: take returned other bytes", pname, rname, i)
					}
					if i%2 == 0 {
						msg := data[len(data)-(st.n*(1+i%4)/2+i)%len(data):]
						var d sha256x2.Digest
						s.hashTaken(&d, msg)
						if d.Sum() != sha256.Sum256(msg) {
							t.Fatalf("%s/%s: step %d: the message hashed beside the taken bytes has the wrong hash", pname, rname, i)
						}
					}
				}
				pos += st.n
			}
			if err := s.drain(); err != nil {
				t.Fatalf("%s/%s: drain: %v", pname, rname, err)
			}
			if s.sum() != sha256.Sum256(data) {
				t.Errorf("%s/%s: hash is not the hash of the whole pack", pname, rname)
			}
		}
	}
}

// TestPackStreamShortPack: a take or skip past the end of the pack is
// io.ErrUnexpectedEOF, and read errors come back unchanged.
func TestPackStreamShortPack(t *testing.T) {
	var s packStream
	defer s.free()
	s.reset(bytes.NewReader(make([]byte, 100)), 0)
	if _, err := s.take(60); err != nil {
		t.Fatal(err)
	}
	if _, err := s.take(41); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("take past the end: %v, want io.ErrUnexpectedEOF", err)
	}
	s.reset(bytes.NewReader(make([]byte, 100)), 0)
	if err := s.skip(101); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("skip past the end: %v, want io.ErrUnexpectedEOF", err)
	}
	boom := errors.New("boom")
	s.reset(io.MultiReader(bytes.NewReader(make([]byte, 10)), iotest.ErrReader(boom)), 0)
	if _, err := s.take(20); !errors.Is(err, boom) {
		t.Errorf("take over a failing read: %v, want boom", err)
	}
	s.reset(io.MultiReader(bytes.NewReader(make([]byte, 10)), iotest.ErrReader(boom)), 0)
	if err := s.drain(); !errors.Is(err, boom) {
		t.Errorf("drain over a failing read: %v, want boom", err)
	}
	s.reset(iotest.ErrReader(io.ErrUnexpectedEOF), 0)
	if err := s.drain(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("drain over a reader failing with io.ErrUnexpectedEOF: %v", err)
	}
}
