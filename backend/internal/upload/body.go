// Package upload is the request body of the backends that upload over
// HTTP (rest, b2). It feeds the transport exactly a given number of bytes
// of a source, fails the upload before its last byte when the source is
// shorter or longer, so the server stores nothing, and can be cut off
// from the transport once the request is over, so that a retry may rewind
// the source while the transport still holds the old body.
package upload

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/hbackup/hbackup/backend"
)

// ErrDetached is what the transport reads once the upload has returned.
var ErrDetached = errors.New("upload already finished")

// Body is an upload's content. It is safe for use by the transport and
// the uploader at once.
type Body struct {
	mu        sync.Mutex
	src       io.Reader
	length    int64
	remaining int64
	checkEnd  bool      // src must end after length bytes
	tee       io.Writer // sees every content byte; may be nil
	err       error     // the first error of src or of the length check
	ended     bool      // all content read, and with checkEnd src's end seen
	detached  bool
}

// NewBody returns a body of length bytes of src. With checkEnd, src must
// end there: the last bytes are held back until src is found to have no
// more. tee, if not nil, is written every byte sent (a checksum).
func NewBody(src io.Reader, length int64, checkEnd bool, tee io.Writer) *Body {
	return &Body{src: src, length: length, remaining: length, checkEnd: checkEnd, tee: tee}
}

func (u *Body) Read(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case u.detached:
		return 0, ErrDetached
	case u.err != nil:
		return 0, u.err
	case u.remaining == 0:
		if err := u.end(); err != nil {
			return 0, err
		}
		return 0, io.EOF
	}
	if int64(len(p)) > u.remaining {
		p = p[:u.remaining]
	}
	n, err := u.src.Read(p)
	u.remaining -= int64(n)
	switch {
	case err != nil && !errors.Is(err, io.EOF):
		u.err = err
		return 0, err
	case errors.Is(err, io.EOF) && u.remaining > 0:
		u.err = backend.Permanent(fmt.Errorf("the content ended %d bytes short of its length %d: %w",
			u.remaining, u.length, io.ErrUnexpectedEOF))
		return 0, u.err
	}
	if u.remaining == 0 {
		// The last bytes wait for the end check: a too-long source must
		// not yield a complete upload.
		if err := u.end(); err != nil {
			return 0, err
		}
		err = io.EOF
	} else {
		err = nil
	}
	if u.tee != nil {
		_, _ = u.tee.Write(p[:n]) // hashes never fail
	}
	return n, err
}

// CheckEmpty is the length check of an empty upload, which sends no body
// at all (http.NoBody) and so never calls Read.
func (u *Body) CheckEmpty() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.end()
}

// end checks once, with checkEnd, that src has nothing left after the
// content; the caller holds mu.
func (u *Body) end() error {
	if u.ended {
		return nil
	}
	if u.checkEnd {
		if err := u.probeEnd(); err != nil {
			u.err = err
			return err
		}
	}
	u.ended = true
	return nil
}

// probeEnd reads src's end.
func (u *Body) probeEnd() error {
	var one [1]byte
	for {
		n, err := u.src.Read(one[:])
		switch {
		case n > 0:
			return backend.Permanent(fmt.Errorf("the content is longer than its length %d", u.length))
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
	}
}

// Detach stops further reads, waiting for one in progress, and returns
// the source's error, if any.
func (u *Body) Detach() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.detached = true
	return u.err
}

// Detached reports whether Detach or Close was called.
func (u *Body) Detached() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.detached
}

// Close is called by the transport; reads after it fail.
func (u *Body) Close() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.detached = true
	return nil
}
