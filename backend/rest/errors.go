package rest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/hbackup/hbackup/backend"
)

// ErrForbidden is wrapped by every error for a request the server
// refused with 403 Forbidden: deleting or overwriting on an append-only
// server, overwriting on rest-server, or an account without access.
// Such errors are permanent: asking again gets the same answer.
var ErrForbidden = errors.New("forbidden by the server")

// ErrUnauthorized is wrapped by errors for a 401 answer: the credentials
// are missing or wrong. Such errors are permanent.
var ErrUnauthorized = errors.New("authentication failed")

// statusError turns an unexpected answer into an error. what says what
// the request tried to do ("save data/1234…"). 404 wraps
// backend.ErrNotExist; client errors other than 408 and 429 are
// permanent; server errors are transient, so a retrying decorator asks
// again.
func statusError(resp *http.Response, what string) error {
	msg := fmt.Sprintf("%s: server answered %s", what, resp.Status)
	if text := bodyText(resp); text != "" && !strings.EqualFold(text, http.StatusText(resp.StatusCode)) {
		msg += ": " + text
	}
	code := resp.StatusCode
	switch {
	case code == http.StatusNotFound:
		return fmt.Errorf("%s: %w", msg, backend.ErrNotExist)
	case code == http.StatusUnauthorized:
		return backend.Permanent(fmt.Errorf("%s: %w (check the user and password)", msg, ErrUnauthorized))
	case code == http.StatusForbidden:
		return backend.Permanent(fmt.Errorf("%s: %w", msg, ErrForbidden))
	case code == http.StatusTooManyRequests:
		return withRetryAfter(resp, errors.New(msg))
	case code == http.StatusServiceUnavailable:
		return withRetryAfter(resp, errors.New(msg))
	case code == http.StatusRequestTimeout:
		return errors.New(msg)
	case code >= 400 && code < 500, code == http.StatusInsufficientStorage, code == http.StatusNotImplemented:
		return backend.Permanent(errors.New(msg))
	}
	return errors.New(msg)
}

// bodyText returns the start of an error body when it is short, printable
// text (rest-server and rclone explain errors in a line of text).
func bodyText(resp *http.Response) string {
	buf, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	text := strings.TrimSpace(string(buf))
	if len(buf) == 512 {
		text += "…"
	}
	for _, r := range text {
		if !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			return ""
		}
	}
	return strings.Join(strings.Fields(text), " ")
}

// withRetryAfter marks err with the server's Retry-After, if it sent one,
// so backend/retry waits at least that long.
func withRetryAfter(resp *http.Response, err error) error {
	if d, ok := backend.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		return backend.RetryAfter(err, d)
	}
	return err
}
