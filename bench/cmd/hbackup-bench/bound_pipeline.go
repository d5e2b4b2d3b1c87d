package main

import "context"

// pipelineSample measures bound-pipeline: hbackup's CPU work of a first
// backup (chunk, hash, compress, encrypt, pack IDs) on files read into
// memory before timing. With bound-read it bounds the first backups.
func pipelineSample(ctx context.Context, files []sourceFile, mode string, workers int) (sample, error) {
	data, err := loadFiles(files)
	if err != nil {
		return sample{}, err
	}
	p, err := newPipeline(mode)
	if err != nil {
		return sample{}, err
	}
	ws := p.workers(workers)
	s, err := measure(func() (int64, error) { return p.run(ctx, data, ws) })
	s.RepoSize = p.sealed.Load()
	return s, err
}
