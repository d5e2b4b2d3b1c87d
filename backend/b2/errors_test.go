package b2

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestReadAPIErrorRetryAfter: B2 sends Retry-After in seconds, but a
// proxy in front of it may send an HTTP date; both are honoured.
func TestReadAPIErrorRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		header   string
		min, max time.Duration
	}{
		{"7", 7 * time.Second, 7 * time.Second},
		{time.Now().Add(30 * time.Second).UTC().Format(http.TimeFormat), 25 * time.Second, 31 * time.Second},
		{"", 0, 0},
		{"later", 0, 0},
	} {
		resp := &http.Response{
			StatusCode: http.StatusServiceUnavailable,
			Header:     http.Header{},
			Body:       io.NopCloser(strings.NewReader(`{"status":503,"code":"service_unavailable","message":"busy"}`)),
		}
		if tc.header != "" {
			resp.Header.Set("Retry-After", tc.header)
		}
		e := readAPIError(resp)
		if e.RetryAfter < tc.min || e.RetryAfter > tc.max || e.Code != "service_unavailable" {
			t.Errorf("Retry-After %q: wait %v, code %q; want a wait in [%v, %v]", tc.header, e.RetryAfter, e.Code, tc.min, tc.max)
		}
	}
}
