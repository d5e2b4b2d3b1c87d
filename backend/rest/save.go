package rest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/internal/layout"
)

// Save uploads rd's content to h with one POST and an explicit
// Content-Length (never chunked). A reader that yields a different number
// of bytes than its Length aborts the upload before its last byte is
// sent, so the server stores nothing. The backend does not retry; a 403
// (the file exists on a server that refuses to overwrite, or an
// append-only server) is permanent and wraps ErrForbidden.
func (b *Backend) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if err := backend.CheckHandle(ctx, "save", h, layout.Check); err != nil {
		return err
	}
	body := &uploadBody{rd: rd, remaining: rd.Length()}
	var reqBody io.Reader = body
	if rd.Length() == 0 {
		// Go sends a non-nil body of length 0 chunked; NoBody is not.
		if err := body.checkEmpty(); err != nil {
			return fmt.Errorf("save %v: %w", h, err)
		}
		reqBody = http.NoBody
	}
	req, err := b.newRequest(ctx, http.MethodPost, b.fileURL(h), reqBody)
	if err != nil {
		return fmt.Errorf("save %v: %w", h, err)
	}
	req.ContentLength = rd.Length()
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := b.do(req)
	// The transport may still hold the body; after detach it gets no
	// more bytes, so a retry can rewind rd safely.
	readErr := body.detach()
	if readErr != nil {
		if resp != nil {
			discard(resp)
		}
		return fmt.Errorf("save %v: %w", h, readErr)
	}
	if err != nil {
		return fmt.Errorf("save %v: %w", h, err)
	}
	defer discard(resp)
	switch resp.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusForbidden:
		return fmt.Errorf("save %v: %w", h, statusError(resp,
			"the server refuses to write this file (it may exist already: rest-server and append-only servers never overwrite)"))
	}
	return fmt.Errorf("save %v: %w", h, statusError(resp, "upload"))
}

// errDetached is what the transport reads once Save has returned.
var errDetached = errors.New("rest: upload already finished")

// uploadBody feeds rd to the transport, checking its length, and can be
// cut off from the transport once the request is over.
type uploadBody struct {
	mu        sync.Mutex
	rd        backend.RewindReader
	remaining int64
	err       error // the first error of rd or of the length check
	detached  bool
}

func (u *uploadBody) Read(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.detached {
		return 0, errDetached
	}
	if u.err != nil {
		return 0, u.err
	}
	if u.remaining == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > u.remaining {
		p = p[:u.remaining]
	}
	n, err := u.rd.Read(p)
	u.remaining -= int64(n)
	switch {
	case err != nil && !errors.Is(err, io.EOF):
		u.err = err
		return 0, err
	case errors.Is(err, io.EOF) && u.remaining > 0:
		u.err = backend.Permanent(fmt.Errorf("the content ended %d bytes short of its length %d: %w",
			u.remaining, u.rd.Length(), io.ErrUnexpectedEOF))
		return 0, u.err
	case u.remaining == 0:
		// Hold back the last bytes until we know the reader has no
		// more: a too-long reader must not yield a complete upload.
		if err := u.probeEnd(); err != nil {
			u.err = err
			return 0, err
		}
		return n, io.EOF
	}
	return n, nil
}

// probeEnd checks that rd has nothing left.
func (u *uploadBody) probeEnd() error {
	var one [1]byte
	for {
		n, err := u.rd.Read(one[:])
		switch {
		case n > 0:
			return backend.Permanent(fmt.Errorf("the content is longer than its length %d", u.rd.Length()))
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
	}
}

// checkEmpty is the length check for an empty upload.
func (u *uploadBody) checkEmpty() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.probeEnd()
}

// detach stops further reads and returns rd's error, if any. It waits
// for a Read in progress to finish.
func (u *uploadBody) detach() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.detached = true
	return u.err
}

// Close is called by the transport; reads after it fail.
func (u *uploadBody) Close() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.detached = true
	return nil
}
