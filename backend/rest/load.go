package rest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/internal/layout"
)

// Load calls fn with length bytes of h from offset (to the end when
// length is 0). A partial read sends a Range header and accepts either
// 206 with the range or 200 with the whole file, which is then skipped
// to offset. A range the file does not fully hold is a permanent error
// wrapping io.ErrUnexpectedEOF, detected before fn is called whenever
// the server sends a Content-Length.
func (b *Backend) Load(ctx context.Context, h backend.Handle, length int, offset int64, fn func(rd io.Reader) error) error {
	if err := backend.CheckLoad(ctx, h, length, offset, layout.Check); err != nil {
		return err
	}
	req, err := b.newRequest(ctx, http.MethodGet, b.fileURL(h), nil)
	if err != nil {
		return fmt.Errorf("load %v: %w", h, err)
	}
	if length > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", offset, offset+int64(length)-1))
	} else if offset > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
	}
	resp, err := b.do(req)
	if err != nil {
		return fmt.Errorf("load %v: %w", h, err)
	}
	defer discard(resp)

	rd, err := b.rangeReader(ctx, h, resp, length, offset)
	if err != nil {
		return fmt.Errorf("load %v: %w", h, err)
	}
	return fn(rd)
}

// rangeReader checks the answer to a load and returns the reader of
// exactly the requested range.
func (b *Backend) rangeReader(ctx context.Context, h backend.Handle, resp *http.Response, length int, offset int64) (io.Reader, error) {
	switch resp.StatusCode {
	case http.StatusPartialContent:
		// The body is the range. rclone answers 206 even to a range
		// starting past the end, so Content-Range is checked too.
		if err := checkContentRange(resp.Header.Get("Content-Range"), length, offset); err != nil {
			return nil, err
		}
		return exactly(resp.Body, resp.ContentLength, length, offset)
	case http.StatusOK:
		// The whole file: skip to offset. A server ignoring Range is
		// allowed; so is offset 0 without a Range.
		if resp.ContentLength >= 0 && resp.ContentLength < offset {
			return nil, pastEnd(offset, length, resp.ContentLength)
		}
		if n, err := io.CopyN(io.Discard, resp.Body, offset); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, pastEnd(offset, length, n)
			}
			return nil, fmt.Errorf("skipping to offset %d: %w", offset, err)
		}
		size := int64(-1)
		if resp.ContentLength >= 0 {
			size = resp.ContentLength - offset
		}
		return exactly(resp.Body, size, length, offset)
	case http.StatusRequestedRangeNotSatisfiable:
		// Go's http.ServeContent (rest-server) answers 416 for a range
		// starting at the very end, which is a legal empty load.
		fi, err := b.Stat(ctx, h)
		if err != nil {
			return nil, err
		}
		if length == 0 && offset == fi.Size {
			return strings.NewReader(""), nil
		}
		return nil, pastEnd(offset, length, fi.Size)
	}
	return nil, statusError(resp, "download")
}

// exactly returns body limited to length bytes (all of it when length is
// 0). bodySize is what the server announced (-1 if unknown): too little
// is a past-the-end error before anything is read; an unannounced
// shortfall shows up as io.ErrUnexpectedEOF while reading.
func exactly(body io.Reader, bodySize int64, length int, offset int64) (io.Reader, error) {
	if length == 0 {
		return body, nil
	}
	if bodySize >= 0 && bodySize < int64(length) {
		return nil, pastEnd(offset, length, offset+bodySize)
	}
	return &fullReader{rd: io.LimitReader(body, int64(length)), remaining: int64(length)}, nil
}

// checkContentRange checks a "bytes first-last/size" header against
// the requested range. A missing header or unknown size is accepted;
// the body length is checked anyway.
func checkContentRange(header string, length int, offset int64) error {
	if header == "" {
		return nil
	}
	var first, last int64
	var size string
	if _, err := fmt.Sscanf(header, "bytes %d-%d/%s", &first, &last, &size); err != nil {
		return fmt.Errorf("unexpected Content-Range %q", header)
	}
	if first != offset {
		return backend.Permanent(fmt.Errorf("asked for bytes from %d, the server sent %q", offset, header))
	}
	total, err := strconv.ParseInt(size, 10, 64)
	if err != nil {
		return nil // "*": size unknown
	}
	if offset > total || (length > 0 && offset+int64(length) > total) {
		return pastEnd(offset, length, total)
	}
	return nil
}

func pastEnd(offset int64, length int, size int64) error {
	end := "the end"
	if length > 0 {
		end = fmt.Sprint(offset + int64(length))
	}
	return backend.Permanent(fmt.Errorf("range %d-%s past the end of the %d-byte file: %w",
		offset, end, size, io.ErrUnexpectedEOF))
}

// fullReader turns an early EOF into io.ErrUnexpectedEOF, so a truncated
// answer is never mistaken for the whole range.
type fullReader struct {
	rd        io.Reader
	remaining int64
}

func (f *fullReader) Read(p []byte) (int, error) {
	n, err := f.rd.Read(p)
	f.remaining -= int64(n)
	if errors.Is(err, io.EOF) && f.remaining > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
