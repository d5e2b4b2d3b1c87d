package chunk_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/hbackup/hbackup/chunk"
	"github.com/hbackup/hbackup/internal/testutil"
	"github.com/restic/chunker"
)

// A polynomial restic 0.19.1 chose for the fixture repository.
const fixturePol = chunk.Polynomial(0x239fbb629babf1)

func TestPolynomialJSON(t *testing.T) {
	b, err := json.Marshal(fixturePol)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `"239fbb629babf1"` {
		t.Fatalf("got %s", b)
	}
	var p chunk.Polynomial
	if err := json.Unmarshal(b, &p); err != nil || p != fixturePol {
		t.Fatalf("round trip: %x %v", uint64(p), err)
	}
	if err := fixturePol.Valid(); err != nil {
		t.Fatal(err)
	}
	if err := chunk.Polynomial(0x239fbb629babf0).Valid(); err == nil {
		t.Fatal("reducible polynomial accepted")
	}
}

func TestRandomPolynomial(t *testing.T) {
	p, err := chunk.RandomPolynomial()
	if err != nil {
		t.Fatal(err)
	}
	if p.Deg() != 53 || p.Valid() != nil {
		t.Fatalf("random polynomial %v has degree %d", p, p.Deg())
	}
}

func split(t *testing.T, data []byte, pol chunk.Polynomial) [][]byte {
	t.Helper()
	c := chunk.New(bytes.NewReader(data), pol)
	buf := make([]byte, chunk.MaxSize)
	var out [][]byte
	for {
		b, err := c.Next(buf)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]byte(nil), b...))
	}
}

func TestChunkSizesAndReassembly(t *testing.T) {
	data := testutil.RandomBytes(42, 20<<20)
	chunks := split(t, data, fixturePol)
	if len(chunks) < 5 {
		t.Fatalf("only %d chunks for 20 MiB", len(chunks))
	}
	var joined []byte
	for i, c := range chunks {
		if len(c) > chunk.MaxSize || (i < len(chunks)-1 && len(c) < chunk.MinSize) {
			t.Fatalf("chunk %d has %d bytes", i, len(c))
		}
		joined = append(joined, c...)
	}
	if !bytes.Equal(joined, data) {
		t.Fatal("chunks do not reassemble the input")
	}
	// Content-defined: a prefix insertion changes only the first chunks.
	shifted := split(t, append([]byte("inserted bytes"), data...), fixturePol)
	same := 0
	set := map[string]bool{}
	for _, c := range chunks {
		set[string(c)] = true
	}
	for _, c := range shifted {
		if set[string(c)] {
			same++
		}
	}
	if same < len(chunks)-2 {
		t.Fatalf("only %d of %d chunks survived a prefix insertion", same, len(chunks))
	}
}

func TestSmallInputIsOneChunk(t *testing.T) {
	if n := len(split(t, testutil.RandomBytes(1, chunk.MinSize-1), fixturePol)); n != 1 {
		t.Fatalf("%d chunks", n)
	}
	if n := len(split(t, nil, fixturePol)); n != 0 {
		t.Fatalf("empty input gave %d chunks", n)
	}
	// An all-zero window has digest 0, which matches the split mask, so
	// zeros are cut at MinSize.
	for i, c := range split(t, make([]byte, 3*chunk.MaxSize), fixturePol) {
		if len(c) != chunk.MinSize {
			t.Fatalf("zero chunk %d has %d bytes", i, len(c))
		}
	}
}

func BenchmarkChunker(b *testing.B) {
	data := testutil.RandomBytes(1, 32<<20)
	buf := make([]byte, chunk.MaxSize)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		c := chunk.New(bytes.NewReader(data), fixturePol)
		for {
			if _, err := c.Next(buf); err != nil {
				break
			}
		}
	}
}

// resticChunks splits data with github.com/restic/chunker, the reference.
func resticChunks(t testing.TB, data []byte, pol chunk.Polynomial) [][]byte {
	t.Helper()
	c := chunker.New(bytes.NewReader(data), chunker.Pol(pol))
	buf := make([]byte, chunker.MaxSize)
	var out [][]byte
	for {
		ch, err := c.Next(buf)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]byte(nil), ch.Data...))
	}
}

// ourChunks splits what rd returns with c (after Reset) into copies.
func ourChunks(c *chunk.Chunker, rd io.Reader, pol chunk.Polynomial, buf []byte) ([][]byte, error) {
	c.Reset(rd, pol)
	var out [][]byte
	for {
		b, err := c.Next(buf)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, append([]byte(nil), b...))
	}
}

// sameChunks reports the first difference between two chunk lists.
func sameChunks(want, got [][]byte) error {
	for i := range min(len(want), len(got)) {
		if !bytes.Equal(want[i], got[i]) {
			return fmt.Errorf("chunk %d: got %d bytes, want %d (or same length, other bytes)", i, len(got[i]), len(want[i]))
		}
	}
	if len(want) != len(got) {
		return fmt.Errorf("got %d chunks, want %d", len(got), len(want))
	}
	return nil
}

// shortReader returns random short reads, sometimes with no data.
type shortReader struct {
	r   io.Reader
	rnd *rand.Rand
}

func (s *shortReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	switch s.rnd.IntN(4) {
	case 0:
		return 0, nil
	case 1:
		p = p[:min(len(p), 1+s.rnd.IntN(7))]
	case 2:
		p = p[:min(len(p), 1+s.rnd.IntN(100_000))]
	}
	return s.r.Read(p)
}

// readers returns ways to feed data to the chunker.
func readers(data []byte, seed uint64) map[string]io.Reader {
	return map[string]io.Reader{
		"bytes":   bytes.NewReader(data),
		"onebyte": iotest.OneByteReader(bytes.NewReader(data)),
		"half":    iotest.HalfReader(bytes.NewReader(data)),
		"dataerr": iotest.DataErrReader(bytes.NewReader(data)),
		"short":   &shortReader{bytes.NewReader(data), rand.New(rand.NewPCG(seed, 1))},
	}
}

// checkSame compares our chunker, fed by each reader and reused across
// calls, with restic's.
func checkSame(t *testing.T, c *chunk.Chunker, data []byte, pol chunk.Polynomial, seed uint64) {
	t.Helper()
	want := resticChunks(t, data, pol)
	rds := readers(data, seed)
	for _, name := range []string{"bytes", "onebyte", "half", "dataerr", "short"} {
		got, err := ourChunks(c, rds[name], pol, make([]byte, chunk.MaxSize))
		if err != nil {
			t.Fatalf("%s reader: %v", name, err)
		}
		if err := sameChunks(want, got); err != nil {
			t.Fatalf("%d bytes, polynomial %v, %s reader: %v", len(data), pol, name, err)
		}
	}
}

func randomPolynomials(t *testing.T, n int) []chunk.Polynomial {
	pols := []chunk.Polynomial{fixturePol}
	for range n {
		p, err := chunk.RandomPolynomial()
		if err != nil {
			t.Fatal(err)
		}
		pols = append(pols, p)
	}
	return pols
}

func TestMatchesResticRandom(t *testing.T) {
	c := chunk.New(nil, fixturePol)
	for i, pol := range randomPolynomials(t, 3) {
		data := testutil.RandomBytes(int64(100+i), 24<<20+i*12345)
		checkSame(t, c, data, pol, uint64(i))
	}
}

// zeroRuns is random data with zero runs of random lengths (some long
// enough to hold whole chunks, some exactly one window).
func zeroRuns(seed uint64, n int) []byte {
	rnd := rand.New(rand.NewPCG(seed, 2))
	data := testutil.RandomBytes(int64(seed), n)
	for i := 0; i < n; {
		i += rnd.IntN(3 << 20)
		var l int
		switch rnd.IntN(3) {
		case 0:
			l = 64
		case 1:
			l = rnd.IntN(4096)
		default:
			l = rnd.IntN(20 << 20)
		}
		clear(data[min(i, n):min(i+l, n)])
		i += l
	}
	return data
}

func TestMatchesResticZeroRuns(t *testing.T) {
	c := chunk.New(nil, fixturePol)
	for i, pol := range randomPolynomials(t, 2) {
		checkSame(t, c, zeroRuns(uint64(i), 40<<20), pol, uint64(i))
	}
}

// A periodic pattern without a matching window has no content-defined
// cuts, so every chunk is MaxSize long.
func TestMatchesResticMaxSize(t *testing.T) {
	pattern := testutil.RandomBytes(7, 1000)
	data := bytes.Repeat(pattern, 3*chunk.MaxSize/1000+77)
	want := resticChunks(t, data, fixturePol)
	if len(want[0]) != chunk.MaxSize {
		t.Fatalf("pattern has a cut at %d", len(want[0]))
	}
	checkSame(t, chunk.New(nil, fixturePol), data, fixturePol, 3)
}

// Inputs around the size limits, and single matching windows placed at
// chunk lengths near multiples of 1 KiB (lane and block edges).
func TestMatchesResticBoundaries(t *testing.T) {
	c := chunk.New(nil, fixturePol)
	for _, n := range []int{0, 1, 63, 64, 65, chunk.MinSize - 1, chunk.MinSize, chunk.MinSize + 1,
		chunk.MinSize + 64, chunk.MaxSize - 1, chunk.MaxSize, chunk.MaxSize + 1, 2*chunk.MaxSize + 1} {
		checkSame(t, c, testutil.RandomBytes(int64(n), n), fixturePol, uint64(n))
		checkSame(t, c, make([]byte, n), fixturePol, uint64(n))
	}
	// A pattern that never matches, with zero windows ending at chosen
	// chunk lengths: each window forces a cut there.
	rnd := rand.New(rand.NewPCG(5, 5))
	pattern := testutil.RandomBytes(7, 1000)
	for i, b := range pattern {
		if b == 0 { // else a window just before a zero one may match too
			pattern[i] = 1
		}
	}
	var data []byte
	extend := func(n int) {
		for len(data) < n {
			data = append(data, pattern...)
		}
	}
	var lens []int
	cut := 0
	for range 80 {
		l := chunk.MinSize + rnd.IntN(256)<<10 + rnd.IntN(3) - 1
		switch rnd.IntN(8) {
		case 0:
			l = chunk.MinSize + rnd.IntN(3)
		case 1:
			l = chunk.MinSize + rnd.IntN(7<<10)<<10 + rnd.IntN(3) - 1
		}
		extend(cut + l)
		clear(data[cut+l-64 : cut+l])
		lens = append(lens, l)
		// A second matching window a little later, which a lane after
		// the cut's may see at an earlier step: the cut must stay at l.
		if rnd.IntN(4) != 0 {
			d := 64 + rnd.IntN(20<<10)
			extend(cut + l + d)
			clear(data[cut+l+d-64 : cut+l+d])
		}
		cut += l
	}
	data = append(data[:cut], pattern[:100]...)
	want := resticChunks(t, data, fixturePol)
	for i, l := range lens {
		if len(want[i]) != l {
			t.Fatalf("restic cut chunk %d at %d, not %d", i, len(want[i]), l)
		}
	}
	checkSame(t, c, data, fixturePol, 9)
}

// Any polynomial of degree 8 to 53, irreducible or not, works as in restic.
func TestMatchesResticAnyPolynomial(t *testing.T) {
	c := chunk.New(nil, fixturePol)
	data := zeroRuns(11, 12<<20)
	rnd := rand.New(rand.NewPCG(3, 3))
	for _, deg := range []int{8, 9, 16, 20, 21, 31, 40, 52, 53} {
		pol := chunk.Polynomial(1<<deg | rnd.Uint64()&(1<<deg-1))
		want := resticChunks(t, data, pol)
		got, err := ourChunks(c, bytes.NewReader(data), pol, make([]byte, chunk.MaxSize))
		if err != nil {
			t.Fatal(err)
		}
		if err := sameChunks(want, got); err != nil {
			t.Fatalf("degree %d polynomial %v: %v", deg, pol, err)
		}
	}
	for _, pol := range []chunk.Polynomial{0, 0xff, 1 << 54, 1<<54 | 1} {
		if _, err := ourChunks(c, bytes.NewReader(data), pol, nil); err == nil {
			t.Fatalf("polynomial %v accepted", pol)
		}
		if _, err := chunker.New(bytes.NewReader(data), chunker.Pol(pol)).Next(nil); err == nil {
			t.Fatalf("restic accepts polynomial %v", pol)
		}
	}
}

// Buffers smaller than MaxSize (or nil) still give the right chunks, and
// reuse across inputs with different polynomials keeps no state.
func TestReuseAndSmallBuffers(t *testing.T) {
	pols := randomPolynomials(t, 2)
	c := chunk.New(nil, pols[1])
	for i, size := range []int{0, 100, chunk.MinSize, chunk.MaxSize - 1, chunk.MaxSize, 2 * chunk.MaxSize} {
		pol := pols[i%len(pols)]
		data := zeroRuns(uint64(i), 9<<20+i)
		want := resticChunks(t, data, pol)
		// Stop the previous input midway, so it leaves bytes behind.
		c.Reset(bytes.NewReader(testutil.RandomBytes(1, 3<<20)), pols[0])
		if _, err := c.Next(make([]byte, chunk.MaxSize)); err != nil {
			t.Fatal(err)
		}
		got, err := ourChunks(c, bytes.NewReader(data), pol, make([]byte, size))
		if err != nil {
			t.Fatal(err)
		}
		if err := sameChunks(want, got); err != nil {
			t.Fatalf("buffer of %d bytes: %v", size, err)
		}
	}
}

// failingReader returns an error after n bytes.
type failingReader struct {
	r   io.Reader
	n   int
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	m, err := f.r.Read(p[:min(len(p), f.n)])
	f.n -= m
	return m, err
}

// A read error is returned (and stays), and every chunk before it is one
// of restic's.
func TestReadErrorPropagates(t *testing.T) {
	data := testutil.RandomBytes(3, 20<<20)
	want := resticChunks(t, data, fixturePol)
	boom := errors.New("boom")
	c := chunk.New(nil, fixturePol)
	for _, n := range []int{0, 1, chunk.MinSize, 5 << 20, 19 << 20} {
		got, err := ourChunks(c, &failingReader{bytes.NewReader(data), n, boom}, fixturePol, make([]byte, chunk.MaxSize))
		if !errors.Is(err, boom) {
			t.Fatalf("failing after %d bytes: error %v", n, err)
		}
		if _, err := c.Next(nil); !errors.Is(err, boom) {
			t.Fatalf("error not sticky: %v", err)
		}
		if len(got) > len(want) {
			t.Fatalf("%d chunks before the error", len(got))
		}
		if err := sameChunks(want[:len(got)], got); err != nil {
			t.Fatalf("failing after %d bytes: %v", n, err)
		}
		total := 0
		for _, g := range got {
			total += len(g)
		}
		if total > n {
			t.Fatalf("%d bytes of chunks from %d bytes read", total, n)
		}
	}
}
