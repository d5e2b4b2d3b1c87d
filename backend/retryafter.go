package backend

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retryAfterError carries the wait a server asked for before the next
// attempt.
type retryAfterError struct {
	err   error
	delay time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// RetryAfter marks err with the time the server asked the client to wait
// before trying again (HTTP Retry-After with 429 or 503): a retrying
// decorator (backend/retry) waits at least that long. The result still
// matches err with errors.Is and errors.As. RetryAfter(nil, d) is nil.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{err: err, delay: max(d, 0)}
}

// RetryDelay returns the wait that err, or an error it wraps, asks for
// with RetryAfter.
func RetryDelay(err error) (time.Duration, bool) {
	var r *retryAfterError
	if errors.As(err, &r) {
		return r.delay, true
	}
	return 0, false
}

// ParseRetryAfter reads an HTTP Retry-After header value: a number of
// seconds (capped at a day) or an HTTP date (RFC 9110, 10.2.3), relative
// to now. A date in the past means no wait; ok is false for an empty or
// invalid value.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(min(s, int64(24*time.Hour/time.Second))) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
