package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/hbackup/hbackup/backend"
)

// Save implements backend.Backend. rd is rewound before every retry. An
// error of rd itself (the source file could not be read) is not retried:
// the backend is not at fault.
//
// On a backend that cannot overwrite (a REST server refusing to replace
// a file), a Save whose answer was lost would fail forever on retry. So
// when a retry fails permanently, the file exists and has rd's length,
// and its name is its content's hash (every type but config), the
// earlier attempt is taken to have succeeded.
func (b *Backend) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if h.Valid() != nil {
		return backend.Permanent(b.be.Save(ctx, h, rd)) // as Stat
	}
	tr := &trackedReader{RewindReader: rd}
	return b.retry(ctx, "save "+h.String(), func(attempt int) error {
		if attempt > 1 {
			if err := rd.Rewind(); err != nil {
				return backend.Permanent(fmt.Errorf("save %v: rewind for a retry: %w", h, err))
			}
		}
		err := b.be.Save(ctx, h, tr)
		rdErr := tr.takeErr()
		switch {
		case err == nil:
			return nil
		case rdErr != nil && errors.Is(err, rdErr):
			return backend.Permanent(err)
		case attempt > 1 && h.Type != backend.ConfigFile && !Transient(ctx, err) && b.landed(ctx, h, rd.Length()):
			return nil
		}
		return err
	})
}

// landed reports whether h exists with the given size.
func (b *Backend) landed(ctx context.Context, h backend.Handle, size int64) bool {
	fi, err := b.be.Stat(ctx, h)
	return err == nil && fi.Size == size
}

// trackedReader remembers the error of the caller's reader, so Save can
// tell it from the backend's. The mutex covers backends that read in
// another goroutine.
type trackedReader struct {
	backend.RewindReader
	mu  sync.Mutex
	err error
}

func (r *trackedReader) Read(p []byte) (int, error) {
	n, err := r.RewindReader.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		r.mu.Lock()
		r.err = err
		r.mu.Unlock()
	}
	return n, err
}

// takeErr returns the reader's last error and forgets it.
func (r *trackedReader) takeErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.err
	r.err = nil
	return err
}
