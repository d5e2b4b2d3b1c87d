package notify

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
)

// DefaultHealthchecksURL is the hosted service's ping endpoint.
const DefaultHealthchecksURL = "https://hc-ping.com"

// Healthchecks pings one Healthchecks.io check: /start when a job begins,
// the bare URL on success and /fail on failure, with the log tail as body.
type Healthchecks struct {
	URL     string // the check's full ping URL; or
	BaseURL string // with UUID; "" means DefaultHealthchecksURL
	UUID    string
	// RunID, a UUID, pairs a start with its end so that Healthchecks
	// measures the run's duration even when runs overlap.
	RunID  string
	Client *http.Client // nil: http.DefaultClient
	Retry  Retry
	Logger *slog.Logger
}

// Healthchecks stores at most 100 kB of a ping body.
const hcMaxBody = 100_000

func (h *Healthchecks) pingURL(suffix string) (string, error) {
	base := h.URL
	if base == "" {
		if h.UUID == "" {
			return "", fmt.Errorf("notify: healthchecks: neither URL nor UUID is set")
		}
		b := h.BaseURL
		if b == "" {
			b = DefaultHealthchecksURL
		}
		base = strings.TrimRight(b, "/") + "/" + h.UUID
	}
	u, err := url.Parse(strings.TrimRight(base, "/") + suffix)
	if err != nil {
		return "", fmt.Errorf("notify: healthchecks: %w", err)
	}
	if h.RunID != "" {
		q := u.Query()
		q.Set("rid", h.RunID)
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

func (h *Healthchecks) ping(ctx context.Context, suffix, body string) error {
	u, err := h.pingURL(suffix)
	if err != nil {
		return err
	}
	hdr := http.Header{}
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	return do(ctx, h.Client, h.Retry, h.Logger, request{method: http.MethodPost, url: u, header: hdr,
		body: []byte(tail(body, hcMaxBody))})
}

// Start signals that the job began.
func (h *Healthchecks) Start(ctx context.Context) error { return h.ping(ctx, "/start", "") }

// Success signals that the job succeeded; body is stored with the ping.
func (h *Healthchecks) Success(ctx context.Context, body string) error { return h.ping(ctx, "", body) }

// Fail signals that the job failed; body, e.g. the log tail, says why.
func (h *Healthchecks) Fail(ctx context.Context, body string) error {
	return h.ping(ctx, "/fail", body)
}

// Log attaches a message to the check without changing its state.
func (h *Healthchecks) Log(ctx context.Context, body string) error { return h.ping(ctx, "/log", body) }

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ReadUUIDFile reads a check's UUID from a file holding it (and perhaps a
// trailing newline), as secrets managers write them.
func ReadUUIDFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("notify: healthchecks uuid file: %w", err)
	}
	s := strings.TrimSpace(string(data))
	if !uuidRE.MatchString(s) {
		return "", fmt.Errorf("notify: healthchecks uuid file %s: content is not a UUID", path)
	}
	return s, nil
}
