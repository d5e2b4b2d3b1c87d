package main

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/hbackup/hbackup/repo"
)

// BenchmarkPipeline runs bound-pipeline's work on one worker over 64 MiB of
// random data, to compare its per-core MB/s with the primitives' (chunker,
// SHA-256, AES-CTR, Poly1305) and see what the bound itself costs.
func BenchmarkPipeline(b *testing.B) {
	const size = 64 << 20
	r := rand.NewChaCha8([32]byte{1})
	files := make([][]byte, 8)
	for i := range files {
		files[i] = make([]byte, size/len(files))
		_, _ = r.Read(files[i])
	}
	for _, mode := range []string{"off", "auto"} {
		b.Run(mode, func(b *testing.B) {
			p, err := newPipeline(mode)
			if err != nil {
				b.Fatal(err)
			}
			ws := p.workers(1)
			b.SetBytes(size)
			for b.Loop() {
				// A new ID set per op, or every chunk after the first op is a duplicate.
				ws[0].seen = &idSet{ids: map[repo.ID]struct{}{}}
				if _, err := p.run(context.Background(), files, ws); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
