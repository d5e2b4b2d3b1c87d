package b2

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"

	"github.com/hbackup/hbackup/backend"
)

// sha1Len is the length of a hex SHA-1, which uploads append to the body
// (X-Bz-Content-Sha1: hex_digits_at_end) so content is streamed once.
const sha1Len = 40

// errDetached is what the transport reads once an upload has returned.
var errDetached = errors.New("b2: upload already finished")

// hashBody feeds exactly n bytes of src to the transport, followed by
// their hex SHA-1. B2 checks the digest against what it received, so
// corruption on the way is refused. When checkEnd is set, src must end
// after n bytes: a too-long or too-short source fails the read before
// the digest is sent, so B2 stores nothing. After detach, reads fail, so
// a retry may rewind the source while the transport still holds this
// body.
type hashBody struct {
	mu        sync.Mutex
	src       io.Reader
	n         int64
	remaining int64
	checkEnd  bool
	h         hash.Hash
	trailer   []byte // the digest, once all content was read
	err       error  // the first error of src or of the length check
	detached  bool
}

func newHashBody(src io.Reader, n int64, checkEnd bool) *hashBody {
	return &hashBody{src: src, n: n, remaining: n, checkEnd: checkEnd, h: sha1.New()}
}

// contentLength is what the request's Content-Length must be.
func (u *hashBody) contentLength() int64 { return u.n + sha1Len }

func (u *hashBody) Read(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case u.detached:
		return 0, errDetached
	case u.err != nil:
		return 0, u.err
	case u.trailer != nil:
		return u.readTrailer(p)
	case u.remaining == 0:
		if err := u.finish(); err != nil {
			return 0, err
		}
		return u.readTrailer(p)
	}
	if int64(len(p)) > u.remaining {
		p = p[:u.remaining]
	}
	n, err := u.src.Read(p)
	u.h.Write(p[:n])
	u.remaining -= int64(n)
	switch {
	case err != nil && !errors.Is(err, io.EOF):
		u.err = err
		return 0, err
	case errors.Is(err, io.EOF) && u.remaining > 0:
		u.err = backend.Permanent(fmt.Errorf("the content ended %d bytes short of its length %d: %w",
			u.remaining, u.n, io.ErrUnexpectedEOF))
		return 0, u.err
	}
	return n, nil
}

// finish checks the source's end and prepares the digest. It returns
// nil when the trailer is ready to be read.
func (u *hashBody) finish() error {
	if u.checkEnd {
		if err := probeEnd(u.src, u.n); err != nil {
			u.err = err
			return err
		}
	}
	u.trailer = []byte(hex.EncodeToString(u.h.Sum(nil)))
	return nil
}

func (u *hashBody) readTrailer(p []byte) (int, error) {
	if len(u.trailer) == 0 {
		return 0, io.EOF
	}
	n := copy(p, u.trailer)
	u.trailer = u.trailer[n:]
	return n, nil
}

// sum returns the hex SHA-1 of the content; valid after a full read.
func (u *hashBody) sum() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return hex.EncodeToString(u.h.Sum(nil))
}

// probeEnd checks that rd has nothing left.
func probeEnd(rd io.Reader, length int64) error {
	var one [1]byte
	for {
		n, err := rd.Read(one[:])
		switch {
		case n > 0:
			return backend.Permanent(fmt.Errorf("the content is longer than its length %d", length))
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
	}
}

// detach stops further reads and returns the source's error, if any.
func (u *hashBody) detach() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.detached = true
	return u.err
}

// Close is called by the transport; reads after it fail.
func (u *hashBody) Close() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.detached = true
	return nil
}
