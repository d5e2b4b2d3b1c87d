package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
)

// readAll is bound-read: files read to the end by n readers, each taking
// the next file, through the page cache like the tools (dropped first with
// -drop-caches). It returns the bytes read. No backup reads its source
// faster.
func readAll(ctx context.Context, files []sourceFile, n int) (int64, error) {
	return eachFile(ctx, n, len(files), func(i int, buf []byte) (int64, error) {
		return readFile(files[i].path, buf)
	})
}

// eachFile runs fn for the files 0 to count-1 on n workers, each taking
// the next file and holding a 1 MiB buffer of its own. A worker stops at
// its first error. It returns the sum of the byte counts fn returns and
// the workers' errors.
func eachFile(ctx context.Context, n, count int, fn func(i int, buf []byte) (int64, error)) (int64, error) {
	var (
		next  atomic.Int64
		total atomic.Int64
		wg    sync.WaitGroup
		errs  = make([]error, n)
	)
	for w := range n {
		wg.Go(func() {
			buf := make([]byte, 1<<20)
			for {
				i := int(next.Add(1) - 1)
				if i >= count || ctx.Err() != nil {
					errs[w] = ctx.Err()
					return
				}
				got, err := fn(i, buf)
				total.Add(got)
				if err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return total.Load(), errors.Join(errs...)
}

func readFile(path string, buf []byte) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("bound-read: %w", err)
	}
	defer f.Close()
	var n int64
	for {
		m, err := f.Read(buf)
		n += int64(m)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("bound-read %s: %w", path, err)
		}
	}
}
