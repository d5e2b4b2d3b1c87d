package main

import (
	"context"
	"fmt"
	"os"
)

// pipelineSample measures bound-pipeline: hbackup's CPU work of a first
// backup (chunk, hash, compress, encrypt, pack IDs) on files read into
// memory before timing. With bound-read it bounds the first backups.
func pipelineSample(ctx context.Context, files []sourceFile, mode string, workers int) (sample, error) {
	data := make([][]byte, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f.path)
		if err != nil {
			return sample{}, fmt.Errorf("loading the data set: %w", err)
		}
		data = append(data, b)
	}
	p, err := newPipeline(mode)
	if err != nil {
		return sample{}, err
	}
	defer p.close()
	ws := p.workers(workers)
	s, err := measure(func() (int64, error) { return p.run(ctx, data, ws) })
	s.RepoSize = p.sealed.Load()
	return s, err
}
