package b2

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/internal/layout"
)

// Load calls fn with length bytes of h from offset (to the end when
// length is 0), downloading by name with a Range header. A whole-file
// load is checked against the SHA-1 B2 stored at upload (for a large
// file, the large_file_sha1 Save recorded). A truncated
// answer reads as io.ErrUnexpectedEOF (transient: a retry downloads
// again); a range the file does not hold is permanent.
func (b *Backend) Load(ctx context.Context, h backend.Handle, length int, offset int64, fn func(rd io.Reader) error) error {
	if err := backend.CheckLoad(ctx, h, length, offset, layout.Check); err != nil {
		return err
	}
	name := b.fileName(h)
	resp, err := b.send(ctx, func(s *session) (*http.Request, error) {
		u := s.downloadURL + "/file/" + encodeName(b.cfg.Bucket) + "/" + encodeName(name)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		if length > 0 {
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", offset, offset+int64(length)-1))
		} else if offset > 0 {
			req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
		}
		return req, nil
	})
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusRequestedRangeNotSatisfiable {
		return b.loadUnsatisfiable(ctx, h, length, offset, fn)
	}
	if err != nil {
		return fmt.Errorf("load %v: %w", h, err)
	}
	defer func() {
		_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
		_ = resp.Body.Close()
	}()
	rd, err := rangeReader(resp, length, offset)
	if err != nil {
		return fmt.Errorf("load %v: %w", h, err)
	}
	return fn(rd)
}

// loadUnsatisfiable answers a 416: a range starting exactly at the end
// is a legal empty load, anything else is past the end.
func (b *Backend) loadUnsatisfiable(ctx context.Context, h backend.Handle, length int, offset int64, fn func(io.Reader) error) error {
	fi, err := b.Stat(ctx, h)
	if err != nil {
		return fmt.Errorf("load %v: %w", h, unwrapOp(err))
	}
	if length == 0 && offset == fi.Size {
		return fn(strings.NewReader(""))
	}
	return fmt.Errorf("load %v: %w", h, pastEnd(offset, length, fi.Size))
}

// rangeReader checks a download's answer and returns a reader of exactly
// the requested range.
func rangeReader(resp *http.Response, length int, offset int64) (io.Reader, error) {
	var total int64 = -1
	switch resp.StatusCode {
	case http.StatusPartialContent:
		var first, last int64
		if _, err := fmt.Sscanf(resp.Header.Get("Content-Range"), "bytes %d-%d/%d", &first, &last, &total); err != nil {
			return nil, fmt.Errorf("unexpected Content-Range %q", resp.Header.Get("Content-Range"))
		}
		if first != offset {
			return nil, fmt.Errorf("asked for bytes from %d, B2 sent %q", offset, resp.Header.Get("Content-Range"))
		}
	case http.StatusOK:
		if offset > 0 {
			return nil, fmt.Errorf("asked for bytes from %d, B2 sent the whole file", offset)
		}
		total = resp.ContentLength
	default:
		return nil, fmt.Errorf("unexpected answer %s to a download", resp.Status)
	}
	if total >= 0 && length > 0 && offset+int64(length) > total {
		return nil, pastEnd(offset, length, total)
	}
	want := int64(length)
	if length == 0 {
		want = resp.ContentLength // -1 if unknown: read to EOF
	}
	fr := &fullReader{rd: resp.Body, remaining: want}
	if want >= 0 {
		fr.rd = io.LimitReader(resp.Body, want)
	}
	sum := resp.Header.Get("X-Bz-Content-Sha1")
	if !isHexSHA1(sum) {
		sum = resp.Header.Get("X-Bz-Info-large_file_sha1") // "none" above
	}
	if offset == 0 && length == 0 && isHexSHA1(sum) {
		fr.h, fr.want = sha1.New(), sum
	}
	return fr, nil
}

func isHexSHA1(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil && len(s) == sha1Len
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
// answer is never mistaken for the whole range, and checks the SHA-1 of
// a whole file at its end.
type fullReader struct {
	rd        io.Reader
	remaining int64 // -1: unknown
	h         hash.Hash
	want      string
}

func (f *fullReader) Read(p []byte) (int, error) {
	n, err := f.rd.Read(p)
	if f.remaining >= 0 {
		f.remaining -= int64(n)
	}
	if f.h != nil {
		f.h.Write(p[:n])
	}
	if errors.Is(err, io.EOF) {
		if f.remaining > 0 {
			return n, fmt.Errorf("download cut short %d bytes before the end: %w", f.remaining, io.ErrUnexpectedEOF)
		}
		if f.h != nil {
			if got := hex.EncodeToString(f.h.Sum(nil)); got != f.want {
				return n, fmt.Errorf("downloaded content has SHA-1 %s, B2 stored %s", got, f.want)
			}
		}
	}
	return n, err
}

// unwrapOp drops the "stat h: " prefix Stat adds, so a caller's message
// does not name the file twice.
func unwrapOp(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}
