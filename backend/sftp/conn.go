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

// get returns the current session, connecting first if there is none or
// it has ended. Connecting holds the lock, so concurrent callers share
// one new connection instead of each making their own.
func (b *Backend) get(ctx context.Context) (*conn, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errors.New("backend is closed")
	}
	if b.cur != nil && !b.cur.isDead() {
		return b.cur, nil
	}
	if b.cur != nil {
		_ = b.cur.close() // already broken; its error is not news
		b.cur = nil
		b.lost = true
	}
	c, err := b.dial(ctx)
	if err != nil {
		if b.lost {
			return nil, fmt.Errorf("%w: reconnecting failed: %w", ErrConnectionLost, err)
		}
		return nil, err
	}
	b.lost = false
	_, ok := c.sftp.HasExtension("posix-rename@openssh.com")
	b.posixRename.Store(ok)
	b.cur = c
	return c, nil
}

// discard drops c if it is still the current session, so the next get
// connects anew.
func (b *Backend) discard(c *conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur == c {
		b.cur = nil
		b.lost = true
		_ = c.close() // broken already
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

	c, err := b.get(ctx)
	if err != nil {
		return err
	}
	err = fn(c, false)
	if !c.lost(err) || ctx.Err() != nil {
		return unwrapPermanent(err)
	}
	b.discard(c)
	c2, derr := b.get(ctx)
	if derr != nil {
		return fmt.Errorf("%w (after: %w)", derr, err)
	}
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
