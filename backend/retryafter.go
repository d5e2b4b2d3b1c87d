package backend

import (
	"errors"
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
