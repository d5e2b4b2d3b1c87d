package b2

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hbackup/hbackup/backend"
	"github.com/hbackup/hbackup/backend/internal/layout"
)

// Save uploads rd to h: in one b2_upload_file below
// LargeFileThreshold, as a large file in parts above. B2 makes either
// visible only once complete, so a failed Save leaves nothing behind.
// Saving an existing name adds a newer version, which replaces it.
func (b *Backend) Save(ctx context.Context, h backend.Handle, rd backend.RewindReader) error {
	if err := backend.CheckHandle(ctx, "save", h, layout.Check); err != nil {
		return err
	}
	var err error
	if rd.Length() >= b.cfg.LargeFileThreshold {
		err = b.saveLarge(ctx, b.fileName(h), rd)
	} else {
		err = b.saveSmall(ctx, b.fileName(h), rd)
	}
	if err != nil {
		return fmt.Errorf("save %v: %w", h, err)
	}
	return nil
}

// saveSmall uploads rd with b2_upload_file.
func (b *Backend) saveSmall(ctx context.Context, name string, rd backend.RewindReader) error {
	_, err := b.upload(ctx, b.takeUploadURL, b.putUploadURL, func(t uploadTarget, attempt int) (*hashBody, *http.Request, error) {
		if attempt > 1 {
			if err := rd.Rewind(); err != nil {
				return nil, nil, backend.Permanent(fmt.Errorf("rewind for a retry: %w", err))
			}
		}
		body := newHashBody(rd, rd.Length(), true)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, body)
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set("X-Bz-File-Name", encodeName(name))
		req.Header.Set("Content-Type", "application/octet-stream")
		return body, req, nil
	})
	return err
}

// upload sends a file or part, following B2's upload rules: a network
// error, 408, 429, 5xx, a rejected token or a checksum mismatch retires
// the upload URL and the next attempt gets a new one (after Retry-After,
// when given). mk builds each attempt's body and request. An error of
// the caller's reader ends the upload at once.
func (b *Backend) upload(ctx context.Context, take func(context.Context) (uploadTarget, error), put func(uploadTarget),
	mk func(t uploadTarget, attempt int) (*hashBody, *http.Request, error)) (string, error) {
	var lastErr error
	for attempt := 1; attempt <= maxTries; attempt++ {
		t, err := take(ctx)
		if err != nil {
			return "", err
		}
		body, req, err := mk(t, attempt)
		if err != nil {
			return "", err
		}
		req.ContentLength = body.contentLength()
		req.Header.Set("Authorization", t.token)
		req.Header.Set("X-Bz-Content-Sha1", "hex_digits_at_end")
		resp, err := b.do(req)
		// After detach the transport gets no more bytes, so the next
		// attempt may rewind the caller's reader.
		if rdErr := body.detach(); rdErr != nil {
			if resp != nil {
				_ = resp.Body.Close()
			}
			return "", rdErr
		}
		if err != nil {
			if ctx.Err() != nil {
				return "", err
			}
			lastErr = err // a broken connection: B2 says use a new URL
			continue
		}
		if resp.StatusCode == http.StatusOK {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
			put(t)
			return body.sum(), nil
		}
		apiErr := readAPIError(resp)
		if !apiErr.newUploadURL() {
			return "", classify(apiErr)
		}
		// Unmarked: the next attempt, or backend/retry, gets a new URL.
		lastErr = apiErr
		if apiErr.RetryAfter > 0 {
			if err := sleep(ctx, apiErr.RetryAfter); err != nil {
				return "", err
			}
		}
	}
	return "", fmt.Errorf("%w (after %d upload URLs)", lastErr, maxTries)
}

// saveLarge uploads rd in parts: b2_start_large_file, then each part
// on its own part URL, then b2_finish_large_file with the parts' SHA-1s.
// On failure the unfinished file is cancelled, so it never shows.
func (b *Backend) saveLarge(ctx context.Context, name string, rd backend.RewindReader) (err error) {
	s := b.session()
	partSize := b.cfg.PartSize
	if partSize <= 0 {
		partSize = s.partSize
	}
	partSize = max(partSize, s.minPartSize, 1)
	// B2 keeps no SHA-1 of a large file, only those of its parts; a
	// first pass hashes the whole content for fileInfo's
	// large_file_sha1, as B2 recommends, so whole downloads can be
	// checked. It also checks the length before anything is sent.
	whole, err := hashAll(rd)
	if err != nil {
		return err
	}
	var started struct {
		FileID string `json:"fileId"`
	}
	in := map[string]any{"bucketId": b.bucketID, "fileName": name, "contentType": "application/octet-stream",
		"fileInfo": map[string]string{"large_file_sha1": whole}}
	if err := b.apiCall(ctx, "b2_start_large_file", in, &started); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			// Best effort with a fresh context: ctx may be what failed.
			cerr := b.apiCall(context.WithoutCancel(ctx), "b2_cancel_large_file", map[string]string{"fileId": started.FileID}, nil)
			if cerr != nil {
				err = fmt.Errorf("%w (cancelling the unfinished large file also failed: %v)", err, cerr)
			}
		}
	}()
	total := rd.Length()
	var sums []string
	// A part URL that worked is kept for the next part.
	var idle *uploadTarget
	take := func(ctx context.Context) (uploadTarget, error) {
		if t := idle; t != nil {
			idle = nil
			return *t, nil
		}
		return b.partURL(ctx, started.FileID)
	}
	put := func(t uploadTarget) { idle = &t }
	for off, part := int64(0), 1; off < total || part == 1; off, part = off+partSize, part+1 {
		n := min(partSize, total-off)
		last := off+n >= total
		sum, err := b.upload(ctx, take, put, func(t uploadTarget, attempt int) (*hashBody, *http.Request, error) {
			// Each part starts where the previous ended; a retried part
			// starts over from the beginning and skips to its offset.
			if attempt > 1 {
				if err := seek(rd, off); err != nil {
					return nil, nil, err
				}
			}
			body := newHashBody(rd, n, last)
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, body)
			if err != nil {
				return nil, nil, err
			}
			req.Header.Set("X-Bz-Part-Number", strconv.Itoa(part))
			return body, req, nil
		})
		if err != nil {
			return fmt.Errorf("part %d: %w", part, err)
		}
		sums = append(sums, sum)
		if last {
			break
		}
	}
	fin := map[string]any{"fileId": started.FileID, "partSha1Array": sums}
	return b.apiCall(ctx, "b2_finish_large_file", fin, nil)
}

// hashAll returns the hex SHA-1 of rd's content, checks its length and
// rewinds it.
func hashAll(rd backend.RewindReader) (string, error) {
	h := sha1.New()
	n, err := io.Copy(h, rd)
	if err != nil {
		return "", err
	}
	if n != rd.Length() {
		return "", backend.Permanent(fmt.Errorf("the content has %d bytes, not its length %d", n, rd.Length()))
	}
	if err := rd.Rewind(); err != nil {
		return "", backend.Permanent(fmt.Errorf("rewind after hashing: %w", err))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// partURL gets an upload URL for a part of the large file fileID.
func (b *Backend) partURL(ctx context.Context, fileID string) (uploadTarget, error) {
	var out struct {
		UploadURL          string `json:"uploadUrl"`
		AuthorizationToken string `json:"authorizationToken"`
	}
	if err := b.apiCall(ctx, "b2_get_upload_part_url", map[string]string{"fileId": fileID}, &out); err != nil {
		return uploadTarget{}, err
	}
	return uploadTarget{url: out.UploadURL, token: out.AuthorizationToken}, nil
}

// seek rewinds rd and skips to off.
func seek(rd backend.RewindReader, off int64) error {
	if err := rd.Rewind(); err != nil {
		return backend.Permanent(fmt.Errorf("rewind for a retry: %w", err))
	}
	if _, err := io.CopyN(io.Discard, rd, off); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return backend.Permanent(fmt.Errorf("skipping to offset %d for a retry: %w", off, err))
	}
	return nil
}

// encodeName percent-encodes a file name for B2's headers and download
// URLs, keeping the slashes.
func encodeName(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}
