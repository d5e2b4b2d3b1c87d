package sftp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/pkg/sftp"

	"github.com/hbackup/hbackup/backend"
)

// conn is one SFTP session and whatever carries it (an SSH connection or
// an external command).
type conn struct {
	sftp    *sftp.Client
	closeFn func() error // closes the session and its transport
	dead    chan struct{}
}

// newConn wraps a session; closeFn must close the client too.
func newConn(client *sftp.Client, closeFn func() error) *conn {
	tune(client)
	c := &conn{sftp: client, closeFn: closeFn, dead: make(chan struct{})}
	go func() {
		_ = client.Wait() // returns once the session has ended, for any reason
		close(c.dead)
	}()
	return c
}

func (c *conn) close() error { return c.closeFn() }

// isDead reports whether the session has ended.
func (c *conn) isDead() bool {
	select {
	case <-c.dead:
		return true
	default:
		return false
	}
}

// deadGrace is how long lost waits for a session to be seen ending after
// an error of unknown origin: a write to a closed channel fails a moment
// before the reader notices the end of the stream.
const deadGrace = time.Second

// lost reports whether err means the session broke, so that a new
// connection may succeed where this one failed.
func (c *conn) lost(err error) bool {
	var (
		se   *sftp.StatusError
		perm *permanentError
	)
	switch {
	case err == nil:
		return false
	case errors.Is(err, sftp.ErrSSHFxConnectionLost), errors.Is(err, sftp.ErrSSHFxNoConnection):
		return true
	case errors.As(err, &perm), errors.As(err, &se), backend.IsPermanent(err),
		errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission), errors.Is(err, fs.ErrExist),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false // the server answered, or the caller gave up
	}
	t := time.NewTimer(deadGrace)
	defer t.Stop()
	select {
	case <-c.dead:
		return true
	case <-t.C:
		return false
	}
}

// permanentError marks an error of the caller's reader or callback, which
// a new connection cannot fix. It reads and unwraps as the error it
// holds. (Errors no retry can fix are marked with backend.Permanent.)
type permanentError struct{ err error }

func permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

// get returns a session for one operation and the function that gives it
// back. It picks the least busy session; when every open one is busy and
// fewer than Sessions are open, it opens another, so uploads spread over
// several SSH connections (each served by its own sshd process, which
// decrypts and writes on its own CPU). Connecting holds the lock, so
// concurrent callers share one new connection instead of each making
// their own.
func (b *Backend) get(ctx context.Context) (*conn, func(), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, nil, errors.New("backend is closed")
	}
	var best, free *session
	for _, s := range b.sessions {
		if s.c != nil && s.c.isDead() {
			_ = s.c.close() // already broken; its error is not news
			s.c = nil
			b.lost = true
		}
		switch {
		case s.c == nil:
			if free == nil {
				free = s
			}
		case best == nil || s.busy < best.busy:
			best = s
		}
	}
	if best == nil || (best.busy > 0 && free != nil) {
		c, err := b.dial(ctx)
		switch {
		case err != nil && best != nil:
			// An extra session is an optimisation: share a live one.
		case err != nil && b.lost:
			return nil, nil, fmt.Errorf("%w: reconnecting failed: %w", ErrConnectionLost, err)
		case err != nil:
			return nil, nil, err
		default:
			b.lost = false
			_, ok := c.sftp.HasExtension("posix-rename@openssh.com")
			b.posixRename.Store(ok)
			free.c = c
			best = free
		}
	}
	best.busy++
	s := best
	return s.c, func() {
		b.mu.Lock()
		s.busy--
		b.mu.Unlock()
	}, nil
}

// discard drops c if it is still open in its slot, so the next get
// connects anew.
func (b *Backend) discard(c *conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.sessions {
		if s.c == c {
			s.c = nil
			b.lost = true
			_ = c.close() // broken already
		}
	}
}

// do runs fn with a session, in one of the Connections slots. If the
// session breaks, do connects again and runs fn once more, with retry
// set (bounded: one reconnect per operation). A failure caused by a
// broken connection wraps ErrConnectionLost.
func (b *Backend) do(ctx context.Context, fn func(c *conn, retry bool) error) error {
	select {
	case b.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-b.sem }()

	c, release, err := b.get(ctx)
	if err != nil {
		return err
	}
	err = fn(c, false)
	release()
	if !c.lost(err) || ctx.Err() != nil {
		return unwrapPermanent(err)
	}
	b.discard(c)
	c2, release2, derr := b.get(ctx)
	if derr != nil {
		return fmt.Errorf("%w (after: %w)", derr, err)
	}
	defer release2()
	err = fn(c2, true)
	if c2.lost(err) {
		b.discard(c2)
		return fmt.Errorf("%w again after reconnecting: %w", ErrConnectionLost, err)
	}
	return unwrapPermanent(err)
}

// unwrapPermanent returns the error a permanentError holds, so callers
// get their own errors back unchanged. A refused permission is marked
// backend.Permanent: a retrying decorator cannot change the answer.
func unwrapPermanent(err error) error {
	if p, ok := err.(*permanentError); ok {
		return p.err
	}
	if errors.Is(err, fs.ErrPermission) {
		return backend.Permanent(err)
	}
	return err
}
