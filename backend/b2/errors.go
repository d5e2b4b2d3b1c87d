package b2

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hbackup/hbackup/backend"
)

// APIError is an error answer of the B2 native API: the HTTP status and
// the JSON body {"status", "code", "message"} B2 sends with it.
type APIError struct {
	Status  int
	Code    string
	Message string
	// RetryAfter is the server's Retry-After header (429 and 503), zero
	// when absent.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("B2 answered %d %s", e.Status, e.Code)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// ErrUnauthorized is wrapped by errors for rejected credentials or a key
// lacking a capability. Such errors are permanent.
var ErrUnauthorized = errors.New("authentication failed")

// ErrCapExceeded is wrapped by errors for an exceeded storage,
// download or transaction cap (a quota set on the account). Permanent
// until someone raises the cap.
var ErrCapExceeded = errors.New("B2 cap exceeded")

// readAPIError reads and closes an error answer. A body that is not B2's
// JSON (a proxy's page) still gives the status.
func readAPIError(resp *http.Response) *APIError {
	defer func() { _ = resp.Body.Close() }()
	e := &APIError{Status: resp.StatusCode}
	buf, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(buf, &body) == nil {
		e.Code, e.Message = body.Code, body.Message
	}
	if e.Code == "" {
		e.Code = strings.ToLower(strings.ReplaceAll(http.StatusText(resp.StatusCode), " ", "_"))
	}
	if d, ok := backend.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		e.RetryAfter = d
	}
	return e
}

// expiredToken reports whether the token used has expired, so a new one
// (re-authorization, or a new upload URL) fixes the request.
func (e *APIError) expiredToken() bool {
	return e.Status == http.StatusUnauthorized && e.Code == "expired_auth_token"
}

// badChecksum reports whether B2 rejected an upload whose SHA-1 did not
// match the bytes it received: corruption on the way, worth a retry.
func (e *APIError) badChecksum() bool {
	return e.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(e.Message), "sha1")
}

// newUploadURL reports whether B2's rules say an upload failing this way
// must be retried with a new upload URL: 408, any 5xx, a token the
// upload endpoint no longer accepts, or a checksum mismatch.
func (e *APIError) newUploadURL() bool {
	return e.Status == http.StatusRequestTimeout || e.Status >= 500 ||
		e.Status == http.StatusUnauthorized || e.Status == http.StatusTooManyRequests || e.badChecksum()
}

// classify turns an API error into what callers match on: a missing file
// wraps backend.ErrNotExist; bad credentials, caps and other client
// errors are permanent; 408, 429 and 5xx stay transient for the retry
// decorator.
func classify(e *APIError) error {
	switch {
	case e.Status == http.StatusNotFound, e.Code == "file_not_present", e.Code == "no_such_file", e.Code == "not_found":
		return fmt.Errorf("%w: %w", e, backend.ErrNotExist)
	case strings.HasSuffix(e.Code, "cap_exceeded"):
		return backend.Permanent(fmt.Errorf("%w: %w (raise the cap in the B2 account settings)", e, ErrCapExceeded))
	case e.Status == http.StatusUnauthorized, e.Status == http.StatusForbidden:
		return backend.Permanent(fmt.Errorf("%w: %w (check B2_ACCOUNT_ID, B2_ACCOUNT_KEY and the key's bucket)", e, ErrUnauthorized))
	case e.Status == http.StatusRequestTimeout, e.Status == http.StatusTooManyRequests, e.badChecksum():
		return e
	case e.Status >= 400 && e.Status < 500, e.Status == http.StatusNotImplemented:
		return backend.Permanent(e)
	}
	return e
}
