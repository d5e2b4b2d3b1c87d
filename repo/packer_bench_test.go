package repo_test

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hbackup/hbackup/backend/mem"
	"github.com/hbackup/hbackup/crypto"
	"github.com/hbackup/hbackup/repo"
)

// Pack writing through the public API: blobs of restic's average chunk
// size saved into a repository on the in-memory backend, then flushed.
// Each op writes packBenchBlobs new blobs into a new repository, so the
// backend does not grow with b.N. Compare the sub-benchmarks with the
// chunker's and SHA-256's MB/s to see what packing itself costs.
const (
	packBenchBlobs    = 32
	packBenchBlobSize = 1 << 20
)

func BenchmarkPackWriting(b *testing.B) {
	for _, bc := range []struct {
		name string
		comp repo.Compression
		text bool
	}{
		{"off/random", repo.CompressionOff, false},
		{"auto/random", repo.CompressionAuto, false}, // the probe skips compression
		{"auto/text", repo.CompressionAuto, true},
	} {
		b.Run(bc.name, func(b *testing.B) { benchPackWriting(b, bc.comp, bc.text) })
	}
}

func benchPackWriting(b *testing.B, comp repo.Compression, text bool) {
	ctx := context.Background()
	blobs := make([][]byte, packBenchBlobs)
	for i := range blobs {
		blobs[i] = benchBlob(uint64(i), text)
	}
	b.SetBytes(packBenchBlobs * packBenchBlobSize)
	b.ReportAllocs()
	b.ResetTimer()
	for op := range b.N {
		b.StopTimer()
		r := openBenchRepo(b, comp)
		for _, blob := range blobs {
			// A new first word per op: otherwise every blob is a duplicate.
			binary.LittleEndian.PutUint64(blob, uint64(op))
		}
		b.StartTimer()
		for _, blob := range blobs {
			if _, _, err := r.SaveBlob(ctx, repo.DataBlob, blob); err != nil {
				b.Fatal(err)
			}
		}
		if err := r.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := r.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// openBenchRepo creates a repository with a cheap KDF on a new in-memory
// backend and opens it with the given compression.
func openBenchRepo(b *testing.B, comp repo.Compression) *repo.Repository {
	ctx := context.Background()
	be := mem.New()
	r, err := repo.Init(ctx, be, "bench", repo.InitOptions{KDF: crypto.Params{N: 1024, R: 8, P: 1}})
	if err != nil {
		b.Fatal(err)
	}
	if comp == repo.CompressionAuto {
		return r
	}
	if err := r.Close(); err != nil {
		b.Fatal(err)
	}
	if r, err = repo.Open(ctx, be, "bench", repo.Options{Compression: comp}); err != nil {
		b.Fatal(err)
	}
	return r
}

// benchBlob is a deterministic blob: random bytes, or log-like lines
// that zstd shrinks about as much as the benchmark data set's text.
func benchBlob(seed uint64, text bool) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]byte, 0, packBenchBlobSize)
	if !text {
		for len(out) < packBenchBlobSize {
			out = binary.LittleEndian.AppendUint64(out, r.Uint64())
		}
		return out[:packBenchBlobSize]
	}
	words := strings.Fields("GET POST user session cache miss hit error warn info request served bytes latency ms db query ok retry upstream")
	for len(out) < packBenchBlobSize {
		out = append(out, "2024-01-01T00:00:00Z "...)
		for range 8 {
			out = append(out, words[r.IntN(len(words))]...)
			out = append(out, ' ')
		}
		out = binary.AppendUvarint(out, r.Uint64N(100000))
		out = append(out, '\n')
	}
	return out[:packBenchBlobSize]
}
