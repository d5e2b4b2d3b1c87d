package b2

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"hash"
	"io"

	"github.com/hbackup/hbackup/backend/internal/upload"
)

// sha1Len is the length of a hex SHA-1, which uploads append to the body
// (X-Bz-Content-Sha1: hex_digits_at_end) so content is streamed once.
const sha1Len = 40

// hashBody feeds exactly n bytes of src to the transport, followed by
// their hex SHA-1. B2 checks the digest against what it received, so
// corruption on the way is refused. When checkEnd is set, src must end
// after n bytes: a too-long or too-short source fails the read before
// the digest is sent, so B2 stores nothing. After detach, reads fail, so
// a retry may rewind the source while the transport still holds this
// body. Only the transport reads it.
type hashBody struct {
	content *upload.Body
	n       int64
	h       hash.Hash
	trailer []byte // the digest still to send, once all content was read
	ended   bool   // the content is all read
}

func newHashBody(src io.Reader, n int64, checkEnd bool) *hashBody {
	h := sha1.New()
	return &hashBody{content: upload.NewBody(src, n, checkEnd, h), n: n, h: h}
}

// contentLength is what the request's Content-Length must be.
func (u *hashBody) contentLength() int64 { return u.n + sha1Len }

func (u *hashBody) Read(p []byte) (int, error) {
	if !u.ended {
		n, err := u.content.Read(p)
		if !errors.Is(err, io.EOF) {
			return n, err
		}
		u.ended = true
		u.trailer = []byte(hex.EncodeToString(u.h.Sum(nil)))
		if n > 0 {
			return n, nil
		}
	}
	if u.content.Detached() {
		return 0, upload.ErrDetached
	}
	if len(u.trailer) == 0 {
		return 0, io.EOF
	}
	n := copy(p, u.trailer)
	u.trailer = u.trailer[n:]
	return n, nil
}

// sum returns the hex SHA-1 of the content; valid after a full read.
func (u *hashBody) sum() string { return hex.EncodeToString(u.h.Sum(nil)) }

// detach stops further reads and returns the source's error, if any.
func (u *hashBody) detach() error { return u.content.Detach() }

// Close is called by the transport; reads after it fail.
func (u *hashBody) Close() error { return u.content.Close() }
