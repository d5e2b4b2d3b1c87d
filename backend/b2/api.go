package b2

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hbackup/hbackup/backend"
)

// apiVersion is the native API version used; v2 answers authorization
// with flat fields, which every B2 cluster still serves.
const apiVersion = "/b2api/v2/"

func (b *Backend) session() *session {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sess
}

// reauthorize calls b2_authorize_account unless another goroutine did
// since the caller's session (generation stale) was taken. Upload URLs
// belong to the old token and are dropped.
func (b *Backend) reauthorize(ctx context.Context, stale int) error {
	b.authMu.Lock()
	defer b.authMu.Unlock()
	if s := b.session(); s != nil && s.gen != stale {
		return nil
	}
	s, err := b.authorize(ctx)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sess != nil {
		s.gen = b.sess.gen + 1
	} else {
		s.gen = 1
	}
	b.sess = s
	b.idle = nil
	return nil
}

// authorize calls b2_authorize_account, waiting out Retry-After.
func (b *Backend) authorize(ctx context.Context) (*session, error) {
	var out struct {
		AccountID               string  `json:"accountId"`
		AuthorizationToken      string  `json:"authorizationToken"`
		APIURL                  string  `json:"apiUrl"`
		DownloadURL             string  `json:"downloadUrl"`
		RecommendedPartSize     int64   `json:"recommendedPartSize"`
		AbsoluteMinimumPartSize int64   `json:"absoluteMinimumPartSize"`
		Allowed                 allowed `json:"allowed"`
	}
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.cfg.Endpoint+apiVersion+"b2_authorize_account", nil)
		if err != nil {
			return nil, backend.Permanent(fmt.Errorf("authorize: %w", err))
		}
		req.SetBasicAuth(b.cfg.AccountID, b.cfg.Key)
		resp, err := b.do(req)
		if err != nil {
			return nil, fmt.Errorf("authorize: %w", err)
		}
		if resp.StatusCode == http.StatusOK {
			err := json.NewDecoder(resp.Body).Decode(&out)
			_ = resp.Body.Close()
			if err != nil {
				return nil, fmt.Errorf("authorize: decoding the answer: %w", err)
			}
			break
		}
		apiErr := readAPIError(resp)
		if attempt < maxTries && apiErr.RetryAfter > 0 {
			if err := sleep(ctx, apiErr.RetryAfter); err != nil {
				return nil, fmt.Errorf("authorize: %w", err)
			}
			continue
		}
		if apiErr.Status == http.StatusUnauthorized {
			return nil, backend.Permanent(fmt.Errorf("authorize: %w: %w (check B2_ACCOUNT_ID and B2_ACCOUNT_KEY)", apiErr, ErrUnauthorized))
		}
		return nil, fmt.Errorf("authorize: %w", classify(apiErr))
	}
	s := &session{
		accountID: out.AccountID, token: out.AuthorizationToken,
		apiURL: out.APIURL, downloadURL: out.DownloadURL,
		partSize: out.RecommendedPartSize, minPartSize: out.AbsoluteMinimumPartSize,
		allowed: out.Allowed,
	}
	if s.token == "" || s.apiURL == "" || s.downloadURL == "" {
		return nil, errors.New("authorize: the answer lacks a token or URL")
	}
	return s, nil
}

// send makes one logical request, built afresh by mk for each attempt
// (the token may change). It renews an expired token and waits out
// Retry-After on 429 and 503, up to maxTries attempts. It returns a 2xx
// answer, or an error: a network error as is, an API error classified
// (it still matches *APIError with errors.As).
func (b *Backend) send(ctx context.Context, mk func(s *session) (*http.Request, error)) (*http.Response, error) {
	for attempt := 1; ; attempt++ {
		s := b.session()
		req, err := mk(s)
		if err != nil {
			return nil, backend.Permanent(err)
		}
		req.Header.Set("Authorization", s.token)
		resp, err := b.do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode/100 == 2 {
			return resp, nil
		}
		apiErr := readAPIError(resp)
		if attempt >= maxTries {
			return nil, classify(apiErr)
		}
		switch {
		case apiErr.expiredToken():
			if err := b.reauthorize(ctx, s.gen); err != nil {
				return nil, err
			}
		case apiErr.RetryAfter > 0 && (apiErr.Status == http.StatusTooManyRequests || apiErr.Status == http.StatusServiceUnavailable):
			if err := sleep(ctx, apiErr.RetryAfter); err != nil {
				return nil, err
			}
		default:
			return nil, classify(apiErr)
		}
	}
}

// apiCall posts in as JSON to the API call name and decodes the answer
// into out.
func (b *Backend) apiCall(ctx context.Context, name string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return backend.Permanent(fmt.Errorf("%s: %w", name, err))
	}
	resp, err := b.send(ctx, func(s *session) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.apiURL+apiVersion+name, bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s: decoding the answer: %w", name, err)
	}
	return nil
}

// do sends req. A cancelled context comes back as the context's own
// error so callers can tell it from a network failure.
func (b *Backend) do(req *http.Request) (*http.Response, error) {
	resp, err := b.client.Do(req)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), ctxErr)
		}
		return nil, err // *url.Error names method and URL
	}
	return resp, nil
}

// sleep waits d (at most maxRetryAfter) or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(min(d, maxRetryAfter))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// takeUploadURL returns an idle upload URL, or gets a new one.
func (b *Backend) takeUploadURL(ctx context.Context) (uploadTarget, error) {
	b.mu.Lock()
	if n := len(b.idle); n > 0 {
		t := b.idle[n-1]
		b.idle = b.idle[:n-1]
		b.mu.Unlock()
		return t, nil
	}
	b.mu.Unlock()
	var out struct {
		UploadURL          string `json:"uploadUrl"`
		AuthorizationToken string `json:"authorizationToken"`
	}
	if err := b.apiCall(ctx, "b2_get_upload_url", map[string]string{"bucketId": b.bucketID}, &out); err != nil {
		return uploadTarget{}, err
	}
	return uploadTarget{url: out.UploadURL, token: out.AuthorizationToken}, nil
}

// putUploadURL keeps a URL that just worked for the next upload.
func (b *Backend) putUploadURL(t uploadTarget) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.idle) < b.cfg.Connections {
		b.idle = append(b.idle, t)
	}
}
