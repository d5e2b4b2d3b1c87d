// Package notify tells people and monitoring services how a job went:
// ntfy push notifications and Healthchecks.io pings.
//
// Every request carries the caller's context, so its deadline is the
// request's timeout. Network errors, 429 and 5xx answers are retried with
// a growing delay; other answers are final.
package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Retry says how often a request is tried. The zero value tries 3 times,
// waiting 1s, then 2s.
type Retry struct {
	Attempts int           // total tries; 0 means 3
	Delay    time.Duration // before the second try, doubling after; 0 means 1s
}

func (r Retry) attempts() int {
	if r.Attempts <= 0 {
		return 3
	}
	return r.Attempts
}

func (r Retry) delay() time.Duration {
	if r.Delay <= 0 {
		return time.Second
	}
	return r.Delay
}

// HTTPError is a final answer that was not a success.
type HTTPError struct {
	URL    string
	Status int
	Body   string // the start of the answer, for the log
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s: HTTP %d %s: %s", e.URL, e.Status, http.StatusText(e.Status), e.Body)
}

// request describes one HTTP call; body is re-read on every attempt.
type request struct {
	method, url string
	header      http.Header
	body        []byte
}

// do sends req until it succeeds, fails finally, or ctx ends.
func do(ctx context.Context, client *http.Client, retry Retry, log *slog.Logger, req request) error {
	if client == nil {
		client = http.DefaultClient
	}
	wait := retry.delay()
	var last error
	for attempt := 1; ; attempt++ {
		retryable, err := once(ctx, client, req)
		if err == nil {
			return nil
		}
		last = err
		if ctx.Err() != nil {
			// Cancelled while the attempt ran: say so, whatever it answered.
			return fmt.Errorf("notify: %w (after: %v)", ctx.Err(), last)
		}
		if !retryable || attempt >= retry.attempts() {
			break
		}
		if log != nil {
			log.Warn("notification failed, retrying", "url", redact(req.url), "attempt", attempt, "err", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("notify: %w (while waiting to retry after: %v)", ctx.Err(), last)
		case <-time.After(wait):
		}
		wait *= 2
	}
	return fmt.Errorf("notify: %w", last)
}

func once(ctx context.Context, client *http.Client, req request) (retryable bool, err error) {
	hr, err := http.NewRequestWithContext(ctx, req.method, req.url, bytes.NewReader(req.body))
	if err != nil {
		return false, err
	}
	for k, vs := range req.header {
		hr.Header[k] = vs
	}
	resp, err := client.Do(hr)
	if err != nil {
		return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded), err
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // lets the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, nil
	}
	herr := &HTTPError{URL: redact(req.url), Status: resp.StatusCode, Body: string(bytes.TrimSpace(head))}
	return resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500, herr
}

// tail keeps the last max bytes of s: the end of a log says why it failed.
func tail(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const mark = "[...]\n"
	rest := s[len(s)-(max-len(mark)):]
	for len(rest) > 0 && rest[0]&0xC0 == 0x80 { // do not start inside a UTF-8 sequence
		rest = rest[1:]
	}
	return mark + rest
}
