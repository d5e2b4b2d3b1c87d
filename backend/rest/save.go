package rest

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/internal/layout"
	"github.com/hbackup/hbackup/backend/internal/upload"
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
	body := upload.NewBody(rd, rd.Length(), true, nil)
	var reqBody io.Reader = body
	if rd.Length() == 0 {
		// Go sends a non-nil body of length 0 chunked; NoBody is not.
		if err := body.CheckEmpty(); err != nil {
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
	readErr := body.Detach()
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
